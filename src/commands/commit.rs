//! `netsec commit [STAGE…]`: record the outs now in the workspace as the stages' results,
//! without running them (DVC's `dvc commit`).

use std::path::Path;

use netsec_engine::{Error, RepoLock};
use netsec_protocol::CommitJson;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these stages (default: every stage).
    stages: Vec<String>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let stages = netsec_engine::commit::commit_stages(&repo, &args.stages)?;
    let mut code = 0;
    for s in &stages {
        match (s.outcome.as_str(), &s.failure) {
            ("committed", _) => ui.status("Committed", "32", &format!("`{}`", s.stage)),
            (_, Some(f)) => {
                ui.status("Failed", "31", &format!("`{}`", s.stage));
                ui.error_text(
                    &format!("cannot commit `{}`: {}", s.stage, f.message),
                    f.hint.as_deref(),
                );
                if code == 0 {
                    code = f.exit_code;
                }
            }
            _ if ui.verbose > 0 => ui.status("Fresh", "32", &format!("`{}`", s.stage)),
            _ => {}
        }
    }
    if stages.iter().all(|s| s.outcome == "up_to_date") {
        ui.status(
            "Fresh",
            "32",
            "nothing to commit: every stage matches netsec.lock",
        );
    }
    if args.json {
        crate::output::json_line(&CommitJson { stages });
    }
    Ok(code)
}
