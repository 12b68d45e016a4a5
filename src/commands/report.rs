//! `netsec report`: writes `artifacts/report/index.html`, one self-contained page (metrics, plots
//! inline, drift table, model card, stage timings). Built by `netsec_tracking::report`.

use std::path::Path;

use netsec_engine::Error;
use netsec_tracking::{write_report, ArtifactPaths};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ui: &Ui, cwd: &Path, _args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    match write_report(&repo.root, &ArtifactPaths::default()) {
        Ok(path) => {
            let shown = path.strip_prefix(&repo.root).unwrap_or(&path);
            ui.status("Wrote", "32", &shown.display().to_string());
            crate::outln!("{}", path.display());
            Ok(0)
        }
        Err(e) => {
            ui.error_text(
                &format!("cannot build the report: {e}"),
                e.hint().as_deref(),
            );
            Ok(netsec_engine::exit::IO)
        }
    }
}
