//! `netsec checkout`: restore outs from the cache as recorded in netsec.lock.

use std::path::Path;

use netsec_engine::{exit, Error, Lockfile, RepoLock};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these stages' outs.
    stages: Vec<String>,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = Lockfile::load(&repo.root)?;
    let report = netsec_engine::checkout::checkout(&repo, &lock, &args.stages)?;
    repo.save_memo();
    for p in &report.restored {
        ui.status("Restored", "32", &format!("`{p}`"));
    }
    for p in &report.not_cached {
        ui.warn(&format!(
            "`{p}` is missing and not cached (`cache = false`); rerun its stage"
        ));
    }
    for (p, e) in &report.failed {
        // Say what the error says (a full disk is not a lost object).
        let hint = if e.contains("missing") || e.contains("corrupt") {
            "rerun the stage that produces it (`netsec repro -f STAGE`), or `netsec pull` it"
        } else {
            "fix the cause above, then run `netsec checkout` again"
        };
        ui.error_text(&format!("failed to restore `{p}`: {e}"), Some(hint));
    }
    if report.restored.is_empty() && report.failed.is_empty() {
        ui.status("Fresh", "32", "workspace matches netsec.lock");
    }
    Ok(if report.failed.is_empty() {
        0
    } else {
        exit::IO
    })
}
