//! `netsec pull`: `fetch`, then check the outs out of the cache (atomically, per out).

use std::path::Path;

use netsec_engine::{exit, Error, Lockfile, RepoLock};

use crate::render::Ui;

pub fn run(ui: &Ui, cwd: &Path, args: super::fetch::Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = Lockfile::load(&repo.root)?;
    let (named, fetched) = super::fetch::fetch(ui, &repo, &lock, &args)?;
    let report = netsec_engine::checkout::checkout(&repo, &lock, &args.stages)?;
    repo.save_memo();
    for p in &report.restored {
        ui.status("Restored", "32", &format!("`{p}`"));
    }
    for p in &report.not_cached {
        ui.warn(&format!(
            "`{p}` is missing and not cached (`cache = false`), so no remote has it; rerun its stage"
        ));
    }
    for (p, e) in &report.failed {
        ui.error_text(&format!("failed to restore `{p}`: {e}"), None);
    }
    if args.json {
        crate::output::json_line(&netsec_protocol::PullJson {
            fetch: super::fetch::summary(&named, &fetched),
            restored: report.restored.clone(),
            unchanged: report.unchanged.clone(),
            not_cached: report.not_cached.clone(),
            failed: report.failed.iter().map(|(p, _)| p.clone()).collect(),
        });
    }
    Ok(if report.failed.is_empty() {
        0
    } else {
        exit::IO
    })
}
