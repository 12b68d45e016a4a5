//! Which outs netsec has claimed. A stage deletes its outs before it runs; that is safe for
//! files netsec produced (possibly half-written by a failed or killed run) but not for a file
//! the user put there (raw data declared as an out by mistake). A stage's out paths are
//! claimed in `.netsec/state/claims/` the first time it runs; an existing out that is neither
//! claimed, nor recorded in the lock, nor held by the cache is refused instead of deleted.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::repo_path::RepoPath;
use crate::workspace::Repo;

fn path(repo: &Repo, stage: &str) -> PathBuf {
    repo.stage_state("claims", stage)
}

/// The outs `stage` has claimed before.
pub fn claimed(repo: &Repo, stage: &str) -> BTreeSet<RepoPath> {
    std::fs::read(path(repo, stage))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Claim `outs` for `stage` (before it runs for the first time).
pub fn claim(repo: &Repo, stage: &str, outs: &BTreeSet<RepoPath>) -> std::io::Result<()> {
    let p = path(repo, stage);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)?;
    }
    netsec_common::atomic::write_json_atomic(&p, outs, netsec_common::Durability::NoFsync)
}
