//! `checkout`: make the workspace match `netsec.lock` by restoring cached outs.

use crate::error::Error;
use crate::lock::Lockfile;
use crate::restore::restore_out;
use crate::workspace::Repo;

/// What `checkout` did.
#[derive(Debug, Default, Clone)]
pub struct CheckoutReport {
    pub restored: Vec<String>,
    pub unchanged: Vec<String>,
    /// `cache = false` outs that are missing and cannot be restored.
    pub not_cached: Vec<String>,
    /// Outs whose objects are missing or corrupt, with the error.
    pub failed: Vec<(String, String)>,
}

/// Restore the outs of `stages` (all when empty) per the lock.
pub fn checkout(repo: &Repo, lock: &Lockfile, stages: &[String]) -> Result<CheckoutReport, Error> {
    repo.check_stage_names(stages)?;
    let mut report = CheckoutReport::default();
    for (name, entry) in &lock.stages {
        if !stages.is_empty() && !stages.contains(name) {
            continue;
        }
        // Only stages the pipeline declares, and only the outs it declares for them: a lock
        // entry of a renamed or removed stage (or one edited by hand) restores nothing.
        let Some(stage) = repo.pipeline.stages.get(name) else {
            continue;
        };
        for (path, rec) in &entry.outs {
            if !stage.outs.iter().any(|o| &o.path == path) {
                continue;
            }
            if !rec.cache {
                if !path.to_path(&repo.root).exists() {
                    report.not_cached.push(path.to_string());
                }
                continue;
            }
            match restore_out(repo, path, rec) {
                Ok(true) => report.restored.push(path.to_string()),
                Ok(false) => report.unchanged.push(path.to_string()),
                Err(e) => report.failed.push((path.to_string(), e.to_string())),
            }
        }
    }
    Ok(report)
}
