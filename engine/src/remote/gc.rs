//! `gc --remote`: delete the remote's `files/` objects and `runs/` entries that the current
//! lock does not reference. Snapshots and their copies are kept
//! (they are copies, independent of `files/`); delete a snapshot's keys by hand to drop it.
//! What killed pushes left is removed once older than the remote's `stale_after`: unfinished
//! uploads, and the copies of snapshots whose manifest was never written (`unfinished.rs`).
//!
//! Referenced = the lock's cached outs (a directory's manifest and its files, manifests read
//! from the local cache or else from the remote, verified), plus run entries whose key is a
//! lock entry's fingerprint key and the objects those entries name. The locks of the
//! experiment records on the remote (`exps/records-v1/`, `exp push`) count as kept locks
//! whatever the scope; a record that does not pass `exp pull`'s checks protects nothing.

use std::collections::BTreeSet;

use serde::Serialize;

use super::handle::Named;
use super::observer::TransferObserver;
use super::push::listing;
use super::refs::{add_record, Objects};
use super::unfinished;
use super::{object_key, retry, run_key, RemoteErrorKind, EXPS_PREFIX, FILES_PREFIX, RUNS_PREFIX};
use crate::digest::{Digest, DirManifest};
use crate::error::Error;
use crate::lock::{Lockfile, OutRecord};
use crate::run_cache::RunEntry;
use crate::workspace::Repo;

/// What `gc --remote` removed (or would remove).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoteGcReport {
    pub removed_objects: u64,
    pub removed_bytes: u64,
    pub removed_runs: u64,
    pub kept_objects: u64,
    pub kept_runs: u64,
    /// Keys of unfinished snapshots (copies without a `snapshots/<ts>.json`) removed.
    pub removed_unfinished: u64,
    pub removed_unfinished_bytes: u64,
    /// Unfinished uploads aborted.
    pub aborted_uploads: u64,
    /// Experiment records on the remote whose locks were kept.
    pub experiments: u64,
}

/// A directory manifest from the local cache, else from the remote (verified).
fn manifest(repo: &Repo, named: &Named, d: &Digest) -> std::io::Result<DirManifest> {
    if let Ok(m) = repo.cache.read_manifest(d) {
        return Ok(m);
    }
    let bytes = named
        .remote
        .get_bytes(&object_key(&d.to_hex()))
        .map_err(std::io::Error::other)?;
    if Digest::of_bytes(&bytes) != *d {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("manifest {d} on the remote is corrupt"),
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// `extra_prefixes`: where the caller's snapshots put extra copies (`final_model/`), besides
/// `artifact/`.
pub fn gc(
    repo: &Repo,
    named: &Named,
    locks: &[Lockfile],
    extra_prefixes: &[&str],
    dry_run: bool,
    obs: &dyn TransferObserver,
) -> Result<RemoteGcReport, Error> {
    let mut keep = Objects::new();
    let mark = |rec: &OutRecord, keep: &mut Objects| -> Result<(), Error> {
        add_record(rec, |d| manifest(repo, named, d), keep).map_err(|e| {
            // Without the manifest we cannot know which files the directory needs: refuse
            // rather than delete them.
            Error::io(
                "collect garbage on the remote: read the manifest",
                object_key(&rec.record.digest.to_hex()),
                e,
            )
        })
    };
    // The experiments the remote holds (`exp push`) keep their objects and run entries: `exp
    // pull` needs them. An unusable record protects nothing.
    let mut exp_locks = Vec::new();
    for (key, size) in listing(named, EXPS_PREFIX, "gc", obs)? {
        match crate::exp::share::fetch_record(named, &key, size, obs)? {
            Ok(rec) => exp_locks.push(rec.lockfile()?.unwrap_or_default()),
            Err(why) => tracing::warn!("gc: remote record `{key}` ignored: {why}"),
        }
    }
    let locks: Vec<&Lockfile> = locks.iter().chain(&exp_locks).collect();
    for (_, rec) in locks.iter().flat_map(|l| l.all_records()) {
        mark(rec, &mut keep)?;
    }
    let runs_keep: BTreeSet<String> = locks
        .iter()
        .flat_map(|l| l.stages.values())
        .map(|e| run_key(&e.fingerprint.key().to_hex()))
        .collect();
    let runs = listing(named, RUNS_PREFIX, "gc", obs)?;
    let mut report = RemoteGcReport {
        experiments: exp_locks.len() as u64,
        ..RemoteGcReport::default()
    };
    let mut doomed = Vec::new();
    for key in runs.keys() {
        if runs_keep.contains(key) {
            report.kept_runs += 1;
            match named.remote.get_bytes(key) {
                Ok(bytes) => {
                    if let Ok(entry) = serde_json::from_slice::<RunEntry>(&bytes) {
                        for rec in entry.outs.values() {
                            mark(rec, &mut keep)?;
                        }
                    }
                }
                Err(e) if e.kind == RemoteErrorKind::NotFound => {}
                Err(e) => return Err(named.err("gc", e)),
            }
        } else {
            report.removed_runs += 1;
            doomed.push(key.clone());
        }
    }
    let keep_keys: BTreeSet<String> = keep.keys().map(|d| object_key(&d.to_hex())).collect();
    for (key, size) in listing(named, FILES_PREFIX, "gc", obs)? {
        if keep_keys.contains(&key) {
            report.kept_objects += 1;
        } else {
            report.removed_objects += 1;
            report.removed_bytes += size;
            doomed.push(key);
        }
    }
    for (key, size) in unfinished::stale_snapshot_keys(named, extra_prefixes, "gc", obs)? {
        report.removed_unfinished += 1;
        report.removed_unfinished_bytes += size;
        doomed.push(key);
    }
    report.aborted_uploads =
        unfinished::abort_stale_writes(named, dry_run, obs).map_err(|e| named.err("gc", e))?;
    if !dry_run {
        // Run entries go first: an entry must never outlive the objects it names.
        for chunk in doomed.chunks(1000) {
            retry::with_retry(
                || named.remote.delete(chunk),
                |a, e| obs.retry("delete", a, &e.to_string()),
            )
            .map_err(|e| named.err("gc", e))?;
        }
    }
    Ok(report)
}
