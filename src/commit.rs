//! Committing a successful stage: every declared out must exist; each is hashed and inserted
//! into the cache, and the lock entry (plus run-cache entry) is built. Nothing is recorded if
//! any step fails, so an incomplete stage can never look fresh.

use std::collections::BTreeMap;

use crate::digest::hash_path;
use crate::error::exit;
use crate::events::StageFailure;
use crate::fingerprint::{Fingerprint, PathRecord};
use crate::lock::{LockEntry, OutRecord};
use crate::pipeline::Stage;
use crate::restore::insert_out;
use crate::run_cache::{self, RunEntry};
use crate::status::record_of;
use crate::workspace::Repo;

/// Cached file outs at least this big are hashed and copied concurrently.
const CONCURRENT_INSERT: u64 = 8 << 20;

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
        let io = |what: &str, e: std::io::Error| StageFailure {
            message: format!(
                "stage `{}`: failed to {what} out `{}`: {e}",
                stage.name, o.path
            ),
            hint: None,
            exit_code: exit::IO,
        };
        // A big cached file is hashed while it is copied into the cache.
        if o.cache {
            if let Ok(meta) = std::fs::metadata(&abs) {
                if meta.is_file() && meta.len() >= CONCURRENT_INSERT {
                    let digest = repo
                        .cache
                        .hash_insert_file(&abs, &meta, &repo.memo)
                        .map_err(|e| io("cache", e))?;
                    let record = PathRecord {
                        digest,
                        size: meta.len(),
                        nfiles: None,
                    };
                    outs.insert(
                        o.path.clone(),
                        OutRecord {
                            record,
                            cache: true,
                        },
                    );
                    continue;
                }
            }
        }
        let Some(h) = hash_path(&repo.root, &abs, &repo.memo).map_err(|e| io("hash", e))? else {
            return Err(StageFailure {
                message: format!(
                    "stage `{}` succeeded but did not produce its out `{}`",
                    stage.name, o.path
                ),
                hint: Some("the command must write every path listed in `outs`".into()),
                exit_code: exit::STAGE_FAILED,
            });
        };
        if o.cache {
            insert_out(repo, &abs, &h).map_err(|e| io("cache", e))?;
        }
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
