//! Freshness of one stage: hash its deps and outs now, compare with its lock entry, and list
//! every reason it is dirty (not just the first).

use std::collections::BTreeMap;
use std::io;

use serde_json::Value;

use crate::digest::{hash_path, Hashed};
use crate::dirty_reason::DirtyReason;
use crate::error::Error;
use crate::fingerprint::{ActionFingerprint, Fingerprint, PathRecord, FORMAT};
use crate::lock::{LockEntry, Lockfile};
use crate::pipeline::Stage;
use crate::repo_path::RepoPath;
use crate::workspace::Repo;

/// A stage as it stands now.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// `None` when a dep is missing (the stage cannot run).
    pub fingerprint: Option<Fingerprint>,
    /// Current state of each declared out (`None` = missing); empty for a stage with no lock
    /// entry (never run), whose outs are not hashed.
    pub outs: BTreeMap<RepoPath, Option<Hashed>>,
    pub reasons: Vec<DirtyReason>,
}

impl Evaluation {
    pub fn is_fresh(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// Hash a dep for the fingerprint.
pub fn record_of(h: &Hashed) -> PathRecord {
    PathRecord {
        digest: h.digest(),
        size: h.size(),
        nfiles: h.nfiles(),
    }
}

/// The missing deps among `reasons`, quoted and comma-separated (`` `a`, `b` ``).
pub fn missing_deps(reasons: &[DirtyReason]) -> String {
    let missing: Vec<String> = reasons
        .iter()
        .filter_map(|r| match r {
            DirtyReason::DepMissing { path } => Some(format!("`{path}`")),
            _ => None,
        })
        .collect();
    missing.join(", ")
}

/// Evaluate `stage` against its lock entry. `params` are its tracked values (flattened).
pub fn evaluate(
    repo: &Repo,
    stage: &Stage,
    entry: Option<&LockEntry>,
    params: &BTreeMap<String, Value>,
) -> Result<Evaluation, Error> {
    let mut reasons = Vec::new();
    let mut outs = BTreeMap::new();
    let hash = |p: &RepoPath| -> Result<Option<Hashed>, Error> {
        hash_path(&repo.root, &p.to_path(&repo.root), &repo.memo)
            .map_err(|e: io::Error| Error::io("hash", p.to_path(&repo.root), e))
    };
    if stage.frozen {
        // A frozen stage is never dirty; its deps are not even inspected. Only missing outs
        // are reported, because downstream stages need them.
        for o in &stage.outs {
            let h = hash(&o.path)?;
            if h.is_none() {
                reasons.push(DirtyReason::OutMissing {
                    path: o.path.to_string(),
                });
            }
            outs.insert(o.path.clone(), h);
        }
        return Ok(Evaluation {
            fingerprint: None,
            outs,
            reasons,
        });
    }
    let mut deps = BTreeMap::new();
    let mut missing = false;
    for d in &stage.deps {
        match hash(d)? {
            Some(h) => {
                deps.insert(d.clone(), record_of(&h));
            }
            None => {
                missing = true;
                reasons.push(DirtyReason::DepMissing {
                    path: d.to_string(),
                });
            }
        }
    }
    let fp = Fingerprint {
        format: FORMAT,
        action: ActionFingerprint::of(stage),
        deps,
        params: params.clone(),
        outs: stage.outs.iter().map(|o| o.path.clone()).collect(),
    };
    // Outs are compared with the lock entry; a stage never run has none to compare with, so
    // its outs are not hashed (a cold directory out of 10,000 files would be read twice).
    if entry.is_some() {
        for o in &stage.outs {
            outs.insert(o.path.clone(), hash(&o.path)?);
        }
    }
    match entry {
        None => reasons.insert(0, DirtyReason::NeverRun),
        Some(e) => compare(&e.fingerprint, &fp, &mut reasons, missing),
    }
    if stage.always_changed || stage.deps.is_empty() {
        reasons.push(DirtyReason::AlwaysChanged);
    }
    if let Some(e) = entry {
        for (p, h) in &outs {
            match (h, e.outs.get(p)) {
                (None, _) => reasons.push(DirtyReason::OutMissing {
                    path: p.to_string(),
                }),
                (Some(h), Some(rec)) if rec.record.digest != h.digest() => {
                    reasons.push(DirtyReason::OutModified {
                        path: p.to_string(),
                    })
                }
                _ => {}
            }
        }
    }
    Ok(Evaluation {
        fingerprint: (!missing).then_some(fp),
        outs,
        reasons,
    })
}

/// Field-by-field diff of two fingerprints, appended to `reasons`.
pub fn compare(
    old: &Fingerprint,
    new: &Fingerprint,
    reasons: &mut Vec<DirtyReason>,
    deps_missing: bool,
) {
    if old.format != new.format {
        reasons.push(DirtyReason::NeverRun);
        return;
    }
    match (&old.action, &new.action) {
        (a, b) if a == b => {}
        (
            ActionFingerprint::Builtin {
                id: oi,
                version: ov,
                ..
            },
            ActionFingerprint::Builtin { id, version, .. },
        ) if oi == id && ov != version => reasons.push(DirtyReason::BuiltinChanged {
            id: id.clone(),
            old_version: Some(*ov),
            new_version: *version,
        }),
        (
            ActionFingerprint::Builtin { id: oi, .. },
            ActionFingerprint::Builtin { id, version, .. },
        ) if oi != id => reasons.push(DirtyReason::BuiltinChanged {
            id: id.clone(),
            old_version: None,
            new_version: *version,
        }),
        (ActionFingerprint::Builtin { .. }, ActionFingerprint::Builtin { .. }) => {
            reasons.push(DirtyReason::ArgsChanged)
        }
        (_, ActionFingerprint::Builtin { id, version, .. }) => {
            reasons.push(DirtyReason::BuiltinChanged {
                id: id.clone(),
                old_version: None,
                new_version: *version,
            })
        }
        (ActionFingerprint::Builtin { .. }, ActionFingerprint::Command { cmd, .. }) => reasons
            .push(DirtyReason::CommandChanged {
                old: Vec::new(),
                new: cmd.clone(),
            }),
        (ActionFingerprint::Command { cmd: o, .. }, ActionFingerprint::Command { cmd: n, .. }) => {
            reasons.push(DirtyReason::CommandChanged {
                old: o.clone(),
                new: n.clone(),
            })
        }
    }
    for (p, rec) in &new.deps {
        match old.deps.get(p) {
            None => reasons.push(DirtyReason::DepAdded {
                path: p.to_string(),
            }),
            Some(o) if o.digest != rec.digest => reasons.push(DirtyReason::DepChanged {
                path: p.to_string(),
            }),
            _ => {}
        }
    }
    for p in old.deps.keys() {
        // A dep that is still declared but missing on disk is `dep_missing`, not removed.
        let missing_now = deps_missing
            && reasons
                .iter()
                .any(|r| matches!(r, DirtyReason::DepMissing { path } if path == p.as_str()));
        if !new.deps.contains_key(p) && !missing_now {
            reasons.push(DirtyReason::DepRemoved {
                path: p.to_string(),
            });
        }
    }
    for (k, v) in &new.params {
        match old.params.get(k) {
            None => reasons.push(DirtyReason::ParamAdded { key: k.clone() }),
            Some(o) if o != v => reasons.push(DirtyReason::ParamChanged {
                key: k.clone(),
                old: o.clone(),
                new: v.clone(),
            }),
            _ => {}
        }
    }
    for k in old.params.keys() {
        if !new.params.contains_key(k) {
            reasons.push(DirtyReason::ParamRemoved { key: k.clone() });
        }
    }
    if old.outs != new.outs {
        reasons.push(DirtyReason::OutsChanged);
    }
}

pub use netsec_protocol::status::{StageState, StageStatus};

/// `status`: every stage in topological order, each with all its reasons. Params are resolved
/// once, in order; the stages are then evaluated in parallel (each stats its deps and outs).
pub fn status(
    repo: &Repo,
    lock: &Lockfile,
    only: Option<&[String]>,
) -> Result<Vec<StageStatus>, Error> {
    use rayon::prelude::*;
    let only: Option<std::collections::BTreeSet<&String>> = only.map(|o| o.iter().collect());
    let mut store = repo.pipeline.param_store();
    let mut todo = Vec::new();
    for name in &repo.pipeline.graph.order {
        if only.as_ref().is_some_and(|o| !o.contains(name)) {
            continue;
        }
        let stage = &repo.pipeline.stages[name];
        let params = store.tracked(&stage.params).map_err(|e| {
            Error::Pipeline(crate::pipeline::PipelineError {
                message: format!("stage `{name}`: {e}"),
                ..Default::default()
            })
        })?;
        todo.push((stage, params));
    }
    let jobs = crate::exec::slurm::any_job_records(repo);
    todo.par_iter()
        .map(|(stage, params)| {
            let ev = evaluate(repo, stage, lock.stages.get(&stage.name), params)?;
            let status = if stage.frozen {
                StageState::Frozen
            } else if ev.is_fresh() {
                StageState::Fresh
            } else {
                StageState::Dirty
            };
            Ok(StageStatus {
                stage: stage.name.clone(),
                status,
                reasons: ev.reasons,
                job: jobs
                    .then(|| crate::exec::slurm::running_job(repo, &stage.name).map(|r| r.job))
                    .flatten(),
            })
        })
        .collect()
}
