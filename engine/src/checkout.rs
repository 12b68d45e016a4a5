//! `checkout`: make the workspace match `netsec.lock` by restoring cached outs.

use crate::digest::{hash_path, Hashed};
use crate::error::Error;
use crate::lock::{Lockfile, OutRecord};
use crate::repo_path::RepoPath;
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
    /// Outs edited in the workspace whose content no cache object holds: overwriting them
    /// would lose work, so they are left alone unless `force`.
    pub refused: Vec<String>,
}

/// Whether the workspace content of an out can be overwritten without losing anything: it
/// is missing, or its content (every file of a directory) is in the cache.
pub fn recoverable(repo: &Repo, path: &RepoPath) -> std::io::Result<bool> {
    let current = hash_path(&repo.root, &path.to_path(&repo.root), &repo.memo)?;
    Ok(held(repo, current.as_ref()))
}

/// Whether the cache holds `current` (an out as hashed now; `None` = missing).
fn held(repo: &Repo, current: Option<&Hashed>) -> bool {
    let has = |d| repo.cache.object_path(d).exists();
    match current {
        None => true,
        Some(Hashed::File { digest, .. }) => has(digest),
        Some(Hashed::Dir { manifest, .. }) => manifest.files.values().all(|e| has(&e.digest)),
    }
}

/// Restore the outs of `stages` (all when empty) per the lock. An out edited in the workspace
/// (in no cache object) is refused unless `force`.
pub fn checkout(
    repo: &Repo,
    lock: &Lockfile,
    stages: &[String],
    force: bool,
) -> Result<CheckoutReport, Error> {
    let stages = &repo.resolve_stage_names(stages)?;
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
            checkout_out(repo, Some(name), path, rec, force, &mut report);
        }
    }
    if stages.is_empty() {
        for (path, rec) in &lock.sources {
            checkout_out(repo, None, path, rec, force, &mut report);
        }
    }
    Ok(report)
}

/// Restore one recorded out (of `stage`, or a data source when `None`) into `report`.
fn checkout_out(
    repo: &Repo,
    stage: Option<&str>,
    path: &RepoPath,
    rec: &OutRecord,
    force: bool,
    report: &mut CheckoutReport,
) {
    if !rec.cache {
        if !path.to_path(&repo.root).exists() {
            report.not_cached.push(path.to_string());
        }
        return;
    }
    // Hashed once here: an out that already matches the lock is left as it is.
    let current = match hash_path(&repo.root, &path.to_path(&repo.root), &repo.memo) {
        Ok(c) => c,
        Err(e) => {
            report.failed.push((path.to_string(), e.to_string()));
            return;
        }
    };
    if current.as_ref().map(Hashed::digest) == Some(rec.record.digest) {
        report.unchanged.push(path.to_string());
        return;
    }
    // A killed run's half-written out is netsec's, not an edit: restore over it.
    let interrupted = stage.is_some_and(|name| crate::orphans::interrupted(repo, name));
    if !force && !interrupted && !held(repo, current.as_ref()) {
        report.refused.push(path.to_string());
        return;
    }
    match restore_out(repo, path, rec) {
        Ok(true) => report.restored.push(path.to_string()),
        Ok(false) => report.unchanged.push(path.to_string()),
        Err(e) => report.failed.push((path.to_string(), e.to_string())),
    }
}
