//! `push`: upload the cache objects the lock references (and optionally run-cache entries)
//! that the remote lacks. One `list` learns what is there (cheaper than one `exists` per
//! object); a listed object of the right size is trusted, because every implementation makes
//! objects visible only when complete. A run-cache entry is uploaded after its objects, so a
//! remote entry never points at objects that are not there.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::handle::Named;
use super::observer::TransferObserver;
use super::refs::{local_objects, locked_outs, Objects};
use super::{
    object_key, pool, retry, run_key, RemoteError, RemoteErrorKind, FILES_PREFIX, RUNS_PREFIX,
};
use crate::error::Error;
use crate::lock::Lockfile;
use crate::repo_path::RepoPath;
use crate::run_cache;
use crate::workspace::Repo;

/// Options of `push`.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// Only these stages' outs (all when empty).
    pub stages: Vec<String>,
    /// Transfer threads; 0 means [`pool::default_jobs`].
    pub jobs: usize,
    /// Also upload the local run-cache entries of the selected stages.
    pub run_cache: bool,
}

/// What `push` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PushReport {
    pub uploaded: u64,
    pub uploaded_bytes: u64,
    /// Objects already on the remote.
    pub present: u64,
    pub present_bytes: u64,
    pub runs_uploaded: u64,
    pub runs_present: u64,
    /// Unfinished uploads older than the remote's `stale_after` (a killed push's) aborted.
    pub aborted_uploads: u64,
}

/// The worst of several failures (a denial first), saying how many others there were.
pub(crate) fn combine(mut errors: Vec<RemoteError>) -> Option<RemoteError> {
    let n = errors.len();
    let i = errors
        .iter()
        .position(|e| e.kind == RemoteErrorKind::Denied)
        .unwrap_or(0);
    if n == 0 {
        return None;
    }
    let mut e = errors.swap_remove(i);
    if n > 1 {
        e.message = format!("{} (and {} more failures)", e.message, n - 1);
    }
    Some(e)
}

/// List `prefix` on the remote (with retries) as key → size.
pub(crate) fn listing(
    named: &Named,
    prefix: &str,
    op: &'static str,
    obs: &dyn TransferObserver,
) -> Result<BTreeMap<String, u64>, Error> {
    let listed = retry::with_retry(
        || named.remote.list(prefix),
        |a, e| obs.retry(prefix, a, &e.to_string()),
    )
    .map_err(|e| named.err(op, e))?;
    Ok(listed.into_iter().map(|o| (o.key, o.size)).collect())
}

/// Upload `objects` from the local cache, skipping those listed with the right size.
pub(crate) fn upload_objects(
    repo: &Repo,
    named: &Named,
    objects: &Objects,
    jobs: usize,
    obs: &dyn TransferObserver,
    report: &mut PushReport,
) -> Result<(), Error> {
    let there = listing(named, FILES_PREFIX, "push", obs)?;
    let mut todo = Vec::new();
    let mut bytes = 0;
    for (d, size) in objects {
        let key = object_key(&d.to_hex());
        if there.get(&key) == Some(size) {
            report.present += 1;
            report.present_bytes += size;
            obs.skipped(&key, *size);
            continue;
        }
        // Never upload a damaged object: fetch would refuse it anyway.
        if let Err(e) = repo.cache.verify(d, &repo.memo) {
            return Err(Error::io("push", repo.cache.object_path(d), e));
        }
        bytes += size;
        todo.push((key, repo.cache.object_path(d), *size));
    }
    obs.start("upload", todo.len() as u64, bytes);
    let failures = pool::run(&todo, pool_jobs(jobs), |(key, path, size)| {
        retry::with_retry(
            || named.remote.put_file(key, path, &|n| obs.bytes(n)),
            |a, e| obs.retry(key, a, &e.to_string()),
        )?;
        obs.done(key, *size);
        Ok(())
    });
    obs.finish("upload");
    let failed = failures.len() as u64;
    report.uploaded += todo.len() as u64 - failed;
    report.uploaded_bytes += bytes;
    match combine(failures) {
        Some(e) => Err(named.err("push", e)),
        None => Ok(()),
    }
}

pub(crate) fn pool_jobs(jobs: usize) -> usize {
    if jobs == 0 {
        pool::default_jobs()
    } else {
        jobs
    }
}

/// Push the objects of the selected stages' cached outs (and run-cache entries).
pub fn push(
    repo: &Repo,
    named: &Named,
    lock: &Lockfile,
    opts: &PushOptions,
    obs: &dyn TransferObserver,
) -> Result<PushReport, Error> {
    let outs = locked_outs(repo, lock, &opts.stages)?;
    let mut objects = local_objects(repo, outs.iter().map(|o| (&o.path, &o.record)), "push")?;
    let mut runs = Vec::new();
    if opts.run_cache {
        // A run entry belongs to a stage when it records exactly that stage's outs.
        let shapes: BTreeSet<BTreeSet<RepoPath>> = repo
            .pipeline
            .stages
            .values()
            .filter(|s| opts.stages.is_empty() || opts.stages.contains(&s.name))
            .filter(|s| s.run_cacheable())
            .map(|s| s.out_paths().into_iter().collect())
            .collect();
        for (hex, entry, bytes) in run_cache::all_keyed(repo) {
            let shape: BTreeSet<RepoPath> = entry.outs.keys().cloned().collect();
            if !shapes.contains(&shape) {
                continue;
            }
            match local_objects(repo, entry.outs.iter(), "push") {
                Ok(o) => {
                    objects.extend(o);
                    runs.push((hex, bytes));
                }
                Err(e) => tracing::debug!("run-cache entry {hex} not pushed: {e}"),
            }
        }
    }
    let mut report = PushReport::default();
    // A killed push's unfinished uploads (S3 keeps and bills them until aborted). An
    // unreachable remote fails the push here; not being allowed to list them (a narrow IAM
    // policy) must not stop it: warn.
    match super::unfinished::abort_stale_writes(named, false, obs) {
        Ok(n) => report.aborted_uploads = n,
        Err(e) if e.kind == RemoteErrorKind::Unreachable => return Err(named.err("push", e)),
        Err(e) => tracing::warn!(
            "could not abort unfinished uploads on remote `{}`: {e}",
            named.name
        ),
    }
    upload_objects(repo, named, &objects, opts.jobs, obs, &mut report)?;
    if !runs.is_empty() {
        let there = listing(named, RUNS_PREFIX, "push", obs)?;
        for (hex, bytes) in runs {
            let key = run_key(&hex);
            if there.contains_key(&key) {
                report.runs_present += 1;
                continue;
            }
            retry::with_retry(
                || named.remote.put_bytes(&key, &bytes),
                |a, e| obs.retry(&key, a, &e.to_string()),
            )
            .map_err(|e| named.err("push", e))?;
            report.runs_uploaded += 1;
        }
    }
    Ok(report)
}
