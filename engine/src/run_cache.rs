//! The run-cache: fingerprint key → the outs a successful run produced, so a stage whose exact
//! inputs were seen before (revert a param) is restored from the cache instead of rerun.
//!
//! Entries live in `.netsec/cache/runs-v1/ab/cdef….json`, written atomically after the outs
//! are in the cache. It is consulted only for pure stages (see `Stage::run_cacheable`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::fingerprint::Fingerprint;
use crate::lock::OutRecord;
use crate::repo_path::RepoPath;
use crate::workspace::Repo;
use netsec_common::atomic::Durability;

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    pub outs: BTreeMap<RepoPath, OutRecord>,
}

impl RunEntry {
    /// Entries are data from disk or a remote: one may restore exactly the outs of the
    /// fingerprint it is filed under (which come from pipeline.toml), nothing else.
    pub fn fits(&self, fp: &Fingerprint) -> bool {
        self.outs.keys().eq(fp.outs.iter())
    }
}

fn entry_path(repo: &Repo, key: &Digest) -> PathBuf {
    let hex = key.to_hex();
    repo.runs_dir()
        .join(&hex[..2])
        .join(format!("{}.json", &hex[2..]))
}

/// The recorded run for this fingerprint, if any and if every object it needs is present.
pub fn lookup(repo: &Repo, fp: &Fingerprint) -> Option<RunEntry> {
    let text = std::fs::read(entry_path(repo, &fp.key())).ok()?;
    let entry: RunEntry = serde_json::from_slice(&text).ok()?;
    if !entry.fits(fp) {
        return None;
    }
    for rec in entry.outs.values() {
        if !rec.cache {
            return None;
        }
        if rec.record.nfiles.is_some() {
            let m = repo.cache.read_manifest(&rec.record.digest).ok()?;
            if !m
                .files
                .values()
                .all(|e| repo.cache.object_path(&e.digest).exists())
            {
                return None;
            }
        } else if !repo.cache.object_path(&rec.record.digest).exists() {
            return None;
        }
    }
    Some(entry)
}

/// Record a successful run.
pub fn record(repo: &Repo, fp: &Fingerprint, entry: &RunEntry) -> std::io::Result<()> {
    let path = entry_path(repo, &fp.key());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    netsec_common::atomic::write_json_atomic(&path, entry, Durability::Fsync)
}

/// A run-cache entry as stored: where, and when it was recorded (the file's mtime).
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub path: PathBuf,
    pub recorded: std::time::SystemTime,
    pub entry: RunEntry,
}

/// Every readable run entry with its file and time (for gc). An unreadable entry is listed
/// with no outs, so gc removes it.
pub fn stored(repo: &Repo) -> Vec<StoredEntry> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(repo.runs_dir()) else {
        return out;
    };
    for shard in shards.flatten() {
        let Ok(files) = std::fs::read_dir(shard.path()) else {
            continue;
        };
        for f in files.flatten() {
            let path = f.path();
            let recorded = f
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            let entry = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<RunEntry>(&b).ok())
                .unwrap_or(RunEntry {
                    outs: BTreeMap::new(),
                });
            out.push(StoredEntry {
                path,
                recorded,
                entry,
            });
        }
    }
    out
}

/// Every run entry with its key (hex) and its bytes as stored (for `push --run-cache`).
pub fn all_keyed(repo: &Repo) -> Vec<(String, RunEntry, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(repo.runs_dir()) else {
        return out;
    };
    for shard in shards.flatten() {
        let prefix = shard.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(shard.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_suffix(".json") else {
                continue;
            };
            let hex = format!("{prefix}{rest}");
            if Digest::parse(&hex).is_none() {
                continue;
            }
            if let Ok(bytes) = std::fs::read(f.path()) {
                if let Ok(e) = serde_json::from_slice::<RunEntry>(&bytes) {
                    out.push((hex, e, bytes));
                }
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Store a run entry fetched from a remote under its key, after checking that it parses.
pub fn record_bytes(repo: &Repo, key: &Digest, bytes: &[u8]) -> std::io::Result<RunEntry> {
    let entry: RunEntry = serde_json::from_slice(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let path = entry_path(repo, key);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    netsec_common::atomic::write_json_atomic(&path, &entry, Durability::Fsync)?;
    Ok(entry)
}
