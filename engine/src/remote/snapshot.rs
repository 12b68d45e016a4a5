//! Timestamped snapshots: after a push, every out is copied (server-side) from `files/…` to
//! `artifact/<ts>/<out path>`, the directories the caller names also to `<prefix><ts>/…`, and
//! `snapshots/<ts>.json` is written **last**: a snapshot exists only once its manifest does,
//! so a push killed halfway leaves no snapshot (its copies are harmless, unlisted garbage).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::handle::Named;
use super::observer::TransferObserver;
use super::push::{combine, pool_jobs};
use super::refs::locked_outs;
use super::timestamp::{is_timestamp, now_utc};
use super::{
    object_key, pool, retry, RemoteError, RemoteErrorKind, ARTIFACT_PREFIX, SNAPSHOTS_PREFIX,
};
use crate::digest::{hash_path, Digest};
use crate::error::Error;
use crate::lock::Lockfile;
use crate::repo_path::RepoPath;
use crate::workspace::Repo;

pub const FORMAT: u32 = 1;

/// `snapshots/<ts>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    /// `YYYYMMDDTHHMMSSZ`, UTC, taken when the snapshot was made.
    pub timestamp: String,
    /// blake3 of the `netsec.lock` bytes pushed.
    pub lock_digest: String,
    /// `git rev-parse HEAD` at push time, if in a git repository.
    pub git_commit: Option<String>,
    pub netsec_version: String,
    /// Stages whose outs are in it.
    pub stages: Vec<String>,
    /// Content of the metric outs (JSON files), by path.
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// Every key the snapshot wrote under `artifact/<ts>/` and the extra copies' prefixes.
    pub keys: Vec<String>,
}

/// Options of a snapshot.
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    /// Only these stages' outs (all when empty).
    pub stages: Vec<String>,
    /// Out directories whose files are also copied to `<prefix><ts>/<file>` (netsec copies
    /// the promoted model there, so the newest model is one listing away).
    pub extra_copies: Vec<ExtraCopy>,
    pub git_commit: Option<String>,
    pub jobs: usize,
}

/// A directory (an out, or inside one) copied again under its own prefix.
#[derive(Debug, Clone)]
pub struct ExtraCopy {
    pub dir: RepoPath,
    /// Ends with `/`; never one of the engine's own prefixes.
    pub prefix: String,
}

/// One key to create: copied from an object, or uploaded from the workspace (`cache = false`).
enum Source {
    Object(String),
    File(PathBuf),
}

/// A timestamp no snapshot has yet (waits for the next second if this one is taken).
fn fresh_timestamp(named: &Named) -> Result<String, Error> {
    for _ in 0..3 {
        let ts = now_utc();
        let key = format!("{SNAPSHOTS_PREFIX}{ts}.json");
        if !named
            .remote
            .exists(&key)
            .map_err(|e| named.err("snapshot", e))?
        {
            return Ok(ts);
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
    Err(named.err(
        "snapshot",
        RemoteError::new(RemoteErrorKind::Other, "no free snapshot timestamp")
            .with_hint("another push to this remote is writing snapshots right now; retry"),
    ))
}

/// The part of `path` inside model directory `m`, if it is inside.
fn inside<'a>(path: &'a str, m: &str) -> Option<&'a str> {
    if path == m {
        return Some("");
    }
    path.strip_prefix(m).and_then(|r| r.strip_prefix('/'))
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_string(),
        (true, _) => b.to_string(),
        _ => format!("{a}/{b}"),
    }
}

/// Copy the selected outs into `artifact/<ts>/…` (and the extra copies under their prefixes),
/// then write the snapshot manifest.
pub fn write(
    repo: &Repo,
    named: &Named,
    lock: &Lockfile,
    opts: &SnapshotOptions,
    obs: &dyn TransferObserver,
) -> Result<Snapshot, Error> {
    let outs = locked_outs(repo, lock, &opts.stages)?;
    let ts = fresh_timestamp(named)?;
    let mut plan: Vec<(String, Source)> = Vec::new();
    for out in &outs {
        // (path inside the out, source) for every file of the out.
        let mut files: Vec<(String, Source)> = Vec::new();
        if out.record.cache {
            if out.is_dir() {
                let m = repo
                    .cache
                    .read_manifest(&out.record.record.digest)
                    .map_err(|e| Error::io("snapshot", out.path.as_str(), e))?;
                for (rel, e) in &m.files {
                    files.push((rel.clone(), Source::Object(object_key(&e.digest.to_hex()))));
                }
            } else {
                let key = object_key(&out.record.record.digest.to_hex());
                files.push((String::new(), Source::Object(key)));
            }
        } else {
            // Not in the cache: upload the workspace file if it is still what the lock says.
            let abs = out.path.to_path(&repo.root);
            match hash_path(&repo.root, &abs, &repo.memo) {
                Ok(Some(h)) if h.digest() == out.record.record.digest && abs.is_file() => {
                    files.push((String::new(), Source::File(abs)));
                }
                _ => tracing::warn!(
                    "`{}` (cache = false) differs from netsec.lock or is missing: not in the snapshot",
                    out.path
                ),
            }
        }
        let model = opts
            .extra_copies
            .iter()
            .find_map(|c| inside(out.path.as_str(), c.dir.as_str()).map(|w| (w, &c.prefix)));
        for (rel, src) in files {
            let full = join(out.path.as_str(), &rel);
            if let Some((within, prefix)) = model {
                let name = join(within, &rel);
                let name = if name.is_empty() {
                    out.path
                        .as_str()
                        .rsplit('/')
                        .next()
                        .unwrap_or("model")
                        .to_string()
                } else {
                    name
                };
                let src2 = match &src {
                    Source::Object(k) => Source::Object(k.clone()),
                    Source::File(p) => Source::File(p.clone()),
                };
                plan.push((format!("{prefix}{ts}/{name}"), src2));
            }
            plan.push((format!("{ARTIFACT_PREFIX}{ts}/{full}"), src));
        }
    }
    plan.sort_by(|a, b| a.0.cmp(&b.0));
    obs.start("snapshot", plan.len() as u64, 0);
    let failures = pool::run(&plan, pool_jobs(opts.jobs), |(to, src)| {
        retry::with_retry(
            || match src {
                Source::Object(from) => named.remote.copy(from, to),
                Source::File(p) => named.remote.put_file(to, p, &|n| obs.bytes(n)),
            },
            |a, e| obs.retry(to, a, &e.to_string()),
        )?;
        obs.done(to, 0);
        Ok(())
    });
    obs.finish("snapshot");
    if let Some(e) = combine(failures) {
        return Err(named.err("snapshot", e));
    }
    let mut metrics = BTreeMap::new();
    for stage in repo.pipeline.stages.values() {
        if !opts.stages.is_empty() && !opts.stages.contains(&stage.name) {
            continue;
        }
        for o in stage.outs.iter().filter(|o| o.metric) {
            let Ok(bytes) = std::fs::read(o.path.to_path(&repo.root)) else {
                continue;
            };
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                metrics.insert(o.path.to_string(), v);
            }
        }
    }
    let lock_bytes =
        std::fs::read(Lockfile::path(&repo.root)).unwrap_or_else(|_| lock.to_text().into_bytes());
    let mut stages: Vec<String> = outs
        .iter()
        .filter(|o| !o.stage.is_empty())
        .map(|o| o.stage.clone())
        .collect();
    stages.dedup();
    let snap = Snapshot {
        format: FORMAT,
        timestamp: ts.clone(),
        lock_digest: Digest::of_bytes(&lock_bytes).to_hex(),
        git_commit: opts.git_commit.clone(),
        netsec_version: env!("CARGO_PKG_VERSION").to_string(),
        stages,
        metrics,
        keys: plan.into_iter().map(|(k, _)| k).collect(),
    };
    let bytes = netsec_common::canonical::to_vec_pretty(&snap).map_err(|e| {
        named.err(
            "snapshot",
            RemoteError::new(RemoteErrorKind::Other, e.to_string()),
        )
    })?;
    let key = format!("{SNAPSHOTS_PREFIX}{ts}.json");
    retry::with_retry(
        || named.remote.put_bytes(&key, &bytes),
        |a, e| obs.retry(&key, a, &e.to_string()),
    )
    .map_err(|e| named.err("snapshot", e))?;
    Ok(snap)
}

/// Every snapshot on the remote, oldest first. Manifests that do not parse are skipped with
/// a warning (a newer netsec may have written them).
pub fn list(named: &Named) -> Result<Vec<Snapshot>, Error> {
    let listed = named
        .remote
        .list(SNAPSHOTS_PREFIX)
        .map_err(|e| named.err("list snapshots", e))?;
    let mut out = Vec::new();
    for o in listed {
        let Some(ts) = o
            .key
            .strip_prefix(SNAPSHOTS_PREFIX)
            .and_then(|k| k.strip_suffix(".json"))
        else {
            continue;
        };
        if !is_timestamp(ts) {
            continue;
        }
        let bytes = named
            .remote
            .get_bytes(&o.key)
            .map_err(|e| named.err("list snapshots", e))?;
        match serde_json::from_slice::<Snapshot>(&bytes) {
            Ok(s) => out.push(s),
            Err(e) => tracing::warn!("`{}` is not a snapshot manifest: {e}", o.key),
        }
    }
    out.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    Ok(out)
}
