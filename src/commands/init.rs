//! `netsec init`.

use std::path::Path;

use netsec_engine::Error;
use netsec_protocol::InitJson;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object on stdout: what was created.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let created = netsec_engine::init::init(cwd)?;
    if args.json {
        crate::output::json_line(&InitJson {
            root: cwd.display().to_string(),
            created,
        });
        return Ok(0);
    }
    if created.is_empty() {
        ui.status(
            "Initialized",
            "32",
            "nothing to do: already a netsec repository",
        );
    }
    for c in created {
        ui.status("Created", "32", &c);
    }
    Ok(0)
}
