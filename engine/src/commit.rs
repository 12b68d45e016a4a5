//! Committing a successful stage: every declared out must exist; each is hashed and inserted
//! into the cache, and the lock entry (plus run-cache entry) is built. Nothing is recorded if
//! any step fails, so an incomplete stage can never look fresh.

use std::collections::BTreeMap;

use crate::digest::hash_path;
use crate::error::exit;
use crate::events::{FailureKind, StageFailure};
use crate::fingerprint::Fingerprint;
use crate::insert::hash_insert_path;
use crate::lock::{LockEntry, OutRecord};
use crate::pipeline::Stage;
use crate::run_cache::{self, RunEntry};
use crate::status::record_of;
use crate::workspace::Repo;

/// After a successful action: every declared out must exist; hash it, cache it, and build the
/// lock entry (and run-cache entry). Nothing is recorded if any step fails.
pub fn commit_outs(
    repo: &Repo,
    stage: &Stage,
    fp: &Fingerprint,
    cacheable: bool,
) -> Result<LockEntry, StageFailure> {
    let mut outs = BTreeMap::new();
    for o in &stage.outs {
        let abs = o.path.to_path(&repo.root);
        let io = |what: &str, e: std::io::Error| {
            StageFailure::new(
                FailureKind::Io,
                exit::IO,
                format!("failed to {what} out `{}`: {e}", o.path),
            )
        };
        // Never hash (and so cache, and push) a symlink's target from outside the workspace.
        crate::confine::check_inside(&repo.root, &o.path).map_err(|e| io("check", e))?;
        // A cached out is hashed and stored in one pass (each small file read once).
        let hashed = if o.cache {
            hash_insert_path(&repo.cache, &repo.root, &abs, &repo.memo)
                .map_err(|e| io("hash and cache", e))?
        } else {
            hash_path(&repo.root, &abs, &repo.memo).map_err(|e| io("hash", e))?
        };
        let Some(h) = hashed else {
            return Err(StageFailure {
                hint: Some("the command must write every path listed in `outs`".into()),
                ..StageFailure::new(
                    FailureKind::Invalid,
                    exit::STAGE_FAILED,
                    format!("succeeded but did not produce its out `{}`", o.path),
                )
            });
        };
        outs.insert(
            o.path.clone(),
            OutRecord {
                record: record_of(&h),
                cache: o.cache,
            },
        );
    }
    if cacheable {
        if let Err(e) = run_cache::record(repo, fp, &RunEntry { outs: outs.clone() }) {
            tracing::warn!(
                "could not record the run-cache entry of `{}`: {e}",
                stage.name
            );
        }
    }
    Ok(LockEntry {
        fingerprint: fp.clone(),
        outs,
    })
}
