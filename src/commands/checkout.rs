//! `netsec checkout`: restore outs from the cache as recorded in netsec.lock.

use std::path::Path;

use netsec_engine::checkout::CheckoutReport;
use netsec_engine::{exit, Error, RepoLock};
use netsec_protocol::CheckoutJson;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these stages' outs.
    stages: Vec<String>,
    /// Overwrite outs edited in the workspace even when no cache object holds their content.
    #[arg(short, long)]
    force: bool,
    /// A JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = repo.load_lock()?;
    let report = netsec_engine::checkout::checkout(&repo, &lock, &args.stages, args.force)?;
    repo.save_memo();
    let code = render(ui, &report, "checkout");
    if report.restored.is_empty() && report.failed.is_empty() && report.refused.is_empty() {
        ui.status("Fresh", "32", "workspace matches netsec.lock");
    }
    if args.json {
        crate::output::json_line(&to_json(&report));
    }
    Ok(code)
}

/// The typed summary of a checkout.
pub fn to_json(r: &CheckoutReport) -> CheckoutJson {
    CheckoutJson {
        restored: r.restored.clone(),
        unchanged: r.unchanged.clone(),
        not_cached: r.not_cached.clone(),
        failed: r.failed.iter().map(|(p, _)| p.clone()).collect(),
        refused: r.refused.clone(),
    }
}

/// Human lines for a checkout (also `pull`'s); the exit code: 5 when an out could not be
/// restored, 1 when an edited out was refused, else 0.
pub fn render(ui: &Ui, report: &CheckoutReport, cmd: &str) -> i32 {
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
    for p in &report.refused {
        ui.error_text(
            &format!("`{p}` was edited in the workspace and no cache object holds its content; not overwritten"),
            Some(&format!(
                "keep the edit with `netsec commit` (or run its stage), or overwrite it with `netsec {cmd} --force`"
            )),
        );
    }
    if !report.failed.is_empty() {
        exit::IO
    } else if !report.refused.is_empty() {
        exit::STAGE_FAILED
    } else {
        0
    }
}
