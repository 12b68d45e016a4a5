//! `fetch`: download the cache objects the lock needs and the local cache lacks. Each object is
//! downloaded to a temp file inside its cache shard, its blake3 checked (and a directory
//! manifest parsed), and only then renamed into the cache: a damaged or truncated remote
//! object never enters it. Missing objects are reported together, after everything else.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::handle::Named;
use super::observer::TransferObserver;
use super::push::{combine, pool_jobs};
use super::refs::{locked_outs, Objects};
use super::{object_key, pool, retry, RemoteError, RemoteErrorKind};
use crate::digest::{hash_file_uncached, Digest, DirManifest};
use crate::error::Error;
use crate::lock::{Lockfile, OutRecord};
use crate::workspace::Repo;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Options of `fetch`.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Only these stages' outs (all when empty).
    pub stages: Vec<String>,
    /// Transfer threads; 0 means the default.
    pub jobs: usize,
}

/// What `fetch` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FetchReport {
    pub downloaded: u64,
    pub downloaded_bytes: u64,
    /// Objects already in the local cache.
    pub present: u64,
}

/// A temp path inside `d`'s shard of the cache (so publishing is a same-directory rename;
/// `gc` removes leftovers of a killed download).
fn temp_for(repo: &Repo, d: &Digest) -> Result<PathBuf, Error> {
    let dest = repo.cache.object_path(d);
    let dir = dest.parent().map(PathBuf::from).unwrap_or_default();
    fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!(".tmp-{}-fetch-{n}", std::process::id())))
}

/// Download object `d` into the cache, verified. `manifest`: it must also parse as one.
fn download(
    repo: &Repo,
    named: &Named,
    d: &Digest,
    manifest: bool,
    obs: &dyn TransferObserver,
) -> Result<(), RemoteError> {
    let key = object_key(&d.to_hex());
    let local = |e: Error| RemoteError::new(RemoteErrorKind::Other, e.to_string()).with_key(&key);
    let tmp = temp_for(repo, d).map_err(local)?;
    let result = (|| {
        retry::with_retry(
            || named.remote.get_file(&key, &tmp, &|n| obs.bytes(n)),
            |a, e| obs.retry(&key, a, &e.to_string()),
        )?;
        let io = |e: std::io::Error| {
            RemoteError::new(
                RemoteErrorKind::Other,
                format!("cannot verify the download: {e}"),
            )
            .with_key(&key)
        };
        let len = fs::metadata(&tmp).map_err(io)?.len();
        let got = hash_file_uncached(&tmp, len).map_err(io)?;
        let corrupt = |why: String| {
            RemoteError::new(RemoteErrorKind::Corrupt, why)
                .with_key(&key)
                .with_hint("the remote copy is damaged; push it again from a machine whose cache has it (`netsec push`), after deleting the damaged object")
        };
        if got != *d {
            return Err(corrupt(format!(
                "content does not match its name (blake3 {got}); not inserted into the cache"
            )));
        }
        if manifest {
            let bytes = fs::read(&tmp).map_err(io)?;
            serde_json::from_slice::<DirManifest>(&bytes)
                .map_err(|e| corrupt(format!("not a directory manifest: {e}")))?;
        }
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o444)).map_err(io)?;
        let dest = repo.cache.object_path(d);
        fs::rename(&tmp, &dest).map_err(io)?;
        if let Ok(meta) = fs::metadata(&dest) {
            repo.memo.insert_trusted(&meta, d);
        }
        obs.done(&key, len);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Turn failures into one error: a corrupt or denied object first, else every missing key.
fn failure(named: &Named, failures: Vec<RemoteError>) -> Option<Error> {
    let (missing, other): (Vec<_>, Vec<_>) = failures
        .into_iter()
        .partition(|e| e.kind == RemoteErrorKind::NotFound);
    let corrupt_first = {
        let mut other = other;
        other.sort_by_key(|e| e.kind != RemoteErrorKind::Corrupt);
        other
    };
    if let Some(e) = combine(corrupt_first) {
        return Some(named.err("fetch", e));
    }
    if missing.is_empty() {
        return None;
    }
    let keys: Vec<String> = missing.iter().filter_map(|e| e.key.clone()).collect();
    let shown: Vec<String> = keys.iter().take(10).map(|k| format!("`{k}`")).collect();
    let more = keys.len().saturating_sub(shown.len());
    Some(named.err(
        "fetch",
        RemoteError::new(
            RemoteErrorKind::NotFound,
            format!(
                "{} object(s) missing: {}{}",
                keys.len(),
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ),
        )
        .with_hint("push them from a machine that has them (`netsec push`), or rerun the stages that make them"),
    ))
}

/// Fetch what `records` need into the local cache.
pub fn fetch_records<'a>(
    repo: &Repo,
    named: &Named,
    records: impl IntoIterator<Item = &'a OutRecord>,
    jobs: usize,
    obs: &dyn TransferObserver,
) -> Result<FetchReport, Error> {
    let jobs = pool_jobs(jobs);
    let records: Vec<&OutRecord> = records.into_iter().filter(|r| r.cache).collect();
    let mut report = FetchReport::default();
    // Directory manifests first: they say which files a directory needs.
    let mut manifests: Vec<Digest> = records
        .iter()
        .filter(|r| r.record.nfiles.is_some())
        .map(|r| r.record.digest)
        .filter(|d| repo.cache.read_manifest(d).is_err())
        .collect();
    manifests.sort();
    manifests.dedup();
    let failures = pool::run(&manifests, jobs, |d| download(repo, named, d, true, obs));
    if let Some(e) = failure(named, failures) {
        return Err(e);
    }
    report.downloaded += manifests.len() as u64;
    let mut files = Objects::new();
    for r in &records {
        if r.record.nfiles.is_some() {
            let m = repo
                .cache
                .read_manifest(&r.record.digest)
                .map_err(|e| Error::io("read", repo.cache.object_path(&r.record.digest), e))?;
            files.extend(m.files.values().map(|e| (e.digest, e.size)));
        } else {
            files.insert(r.record.digest, r.record.size);
        }
    }
    let mut todo: BTreeMap<Digest, u64> = BTreeMap::new();
    for (d, size) in files {
        if repo.cache.has_valid(&d, &repo.memo) {
            report.present += 1;
            obs.skipped(&object_key(&d.to_hex()), size);
        } else {
            todo.insert(d, size);
        }
    }
    let bytes: u64 = todo.values().sum();
    obs.start("download", todo.len() as u64, bytes);
    let items: Vec<Digest> = todo.keys().copied().collect();
    let failures = pool::run(&items, jobs, |d| download(repo, named, d, false, obs));
    obs.finish("download");
    let failed = failures.len() as u64;
    if let Some(e) = failure(named, failures) {
        return Err(e);
    }
    report.downloaded += items.len() as u64 - failed;
    report.downloaded_bytes += bytes;
    Ok(report)
}

/// Fetch the objects of the selected stages' cached outs per the lock.
pub fn fetch(
    repo: &Repo,
    named: &Named,
    lock: &Lockfile,
    opts: &FetchOptions,
    obs: &dyn TransferObserver,
) -> Result<FetchReport, Error> {
    let outs = locked_outs(repo, lock, &opts.stages)?;
    let r = fetch_records(repo, named, outs.iter().map(|o| &o.record), opts.jobs, obs);
    repo.save_memo();
    r
}
