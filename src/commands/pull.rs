//! `netsec pull`: `fetch`, then check the outs out of the cache (atomically, per out).

use std::path::Path;

use netsec_engine::{Error, RepoLock};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    #[command(flatten)]
    fetch: super::fetch::Args,
    /// Overwrite outs edited in the workspace even when no cache object holds their content.
    #[arg(short, long)]
    force: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: PullArgs) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = repo.load_lock()?;
    let (named, fetched) = super::fetch::fetch(ui, &repo, &lock, &args.fetch)?;
    let report = netsec_engine::checkout::checkout(&repo, &lock, &args.fetch.stages, args.force)?;
    repo.save_memo();
    let code = super::checkout::render(ui, &report, "pull");
    if args.fetch.json {
        let c = super::checkout::to_json(&report);
        crate::output::json_line(&netsec_protocol::PullJson {
            fetch: super::fetch::summary(&named, &fetched),
            restored: c.restored,
            unchanged: c.unchanged,
            not_cached: c.not_cached,
            failed: c.failed,
            refused: c.refused,
        });
    }
    Ok(code)
}
