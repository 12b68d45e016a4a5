//! Committing a successful stage: every declared out must exist; each is hashed and inserted
//! into the cache, and the lock entry (plus run-cache entry) is built. Nothing is recorded if
//! any step fails, so an incomplete stage can never look fresh. `netsec commit` does the same
//! for outs produced outside netsec.

use std::collections::BTreeMap;

use crate::digest::{hash_path, Digest};
use crate::error::{exit, Error};
use crate::events::{FailureKind, StageFailure};
use crate::fingerprint::Fingerprint;
use crate::insert::hash_insert_path;
use crate::lock::{LockEntry, OutRecord};
use crate::pipeline::Stage;
use crate::run_cache;
use crate::status::record_of;
use crate::workspace::Repo;
use netsec_protocol::CommittedStage;

/// After a successful action: every declared out must exist; hash it, cache it, and build the
/// lock entry (and, with `run_cache_key`, the fingerprint's key, the run-cache entry). Nothing
/// is recorded if any step fails.
pub fn commit_outs(
    repo: &Repo,
    stage: &Stage,
    fp: &Fingerprint,
    run_cache_key: Option<&Digest>,
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
    if let Some(key) = run_cache_key {
        // Uncached outs are kept in the entry as text; one that cannot be means no entry.
        match run_cache::entry_from_workspace(repo, outs.clone()) {
            Some(entry) => {
                if let Err(e) = run_cache::record_keyed(repo, key, &entry) {
                    tracing::warn!(
                        "could not record the run-cache entry of `{}`: {e}",
                        stage.name
                    );
                }
            }
            None => tracing::debug!(
                "`{}` not run-cached: an uncached out is a directory, binary or over {} bytes",
                stage.name,
                run_cache::INLINE_MAX
            ),
        }
    }
    Ok(LockEntry {
        fingerprint: fp.clone(),
        outs,
    })
}

/// `netsec commit [STAGE…]`: record the outs now in the workspace as the result of each
/// selected stage (every stage when `targets` is empty), without running anything: after a
/// run done by hand or outside netsec. The same checks as a run apply: deps and outs must
/// exist and stay inside the workspace, and the lock entry is written only for a stage whose
/// outs were all hashed and cached. The caller holds the repository lock.
pub fn commit_stages(repo: &Repo, targets: &[String]) -> Result<Vec<CommittedStage>, Error> {
    let selected = crate::plan::select(
        repo,
        targets,
        crate::plan::Selection {
            single_item: true,
            downstream: false,
        },
    )?;
    let mut lock = repo.load_lock()?;
    let mut store = repo.pipeline.param_store();
    let mut report = Vec::new();
    for name in &selected {
        let stage = &repo.pipeline.stages[name];
        let flat = store.tracked(&stage.params).map_err(|e| {
            Error::Pipeline(crate::pipeline::PipelineError {
                message: format!("stage `{name}`: {e}"),
                ..Default::default()
            })
        })?;
        let outcome = commit_one(repo, stage, lock.stages.get(name), &flat);
        let (word, failure) = match outcome {
            Ok(Some(entry)) => {
                lock.stages.insert(name.clone(), entry);
                lock.save(&repo.root).map_err(Error::Lock)?;
                let outs = stage.out_paths().into_iter().collect();
                if let Err(e) = crate::claims::claim(repo, name, &outs) {
                    tracing::debug!("cannot record the outs of `{name}`: {e}");
                }
                ("committed", None)
            }
            Ok(None) => ("up_to_date", None),
            Err(f) => ("failed", Some(f)),
        };
        report.push(CommittedStage {
            stage: name.clone(),
            outcome: word.into(),
            failure,
        });
    }
    crate::gitignore::sync_recorded(repo, &lock);
    repo.save_memo();
    Ok(report)
}

/// The new lock entry of `stage` from the workspace, or `None` when it is already fresh.
fn commit_one(
    repo: &Repo,
    stage: &Stage,
    entry: Option<&LockEntry>,
    params: &BTreeMap<String, serde_json::Value>,
) -> Result<Option<LockEntry>, StageFailure> {
    let ev = crate::status::evaluate(repo, stage, entry, params).map_err(|e| StageFailure {
        hint: e.hint(),
        ..StageFailure::new(FailureKind::Io, e.exit_code(), e.to_string())
    })?;
    if ev.reasons.is_empty() {
        return Ok(None);
    }
    let Some(fp) = ev.fingerprint else {
        let why = if stage.frozen {
            "it is frozen and an out is missing".to_string()
        } else {
            format!("dep {} missing", crate::status::missing_deps(&ev.reasons))
        };
        return Err(StageFailure::new(
            FailureKind::Invalid,
            exit::STAGE_FAILED,
            format!("cannot commit, {why}"),
        ));
    };
    let key = stage.run_cacheable().then(|| fp.key());
    commit_outs(repo, stage, &fp, key.as_ref())
        .map(Some)
        .map_err(|f| {
            match f
                .message
                .strip_prefix("succeeded but did not produce its out ")
            {
                Some(out) => StageFailure {
                    message: format!("its out {out} is missing"),
                    hint: Some("run the stage (`netsec repro`) or create the out first".into()),
                    ..f
                },
                None => f,
            }
        })
}
