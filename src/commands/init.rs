//! `netsec init`.

use std::path::Path;

use netsec_engine::Error;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ui: &Ui, cwd: &Path, _args: Args) -> Result<i32, Error> {
    let created = netsec_engine::init::init(cwd)?;
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
