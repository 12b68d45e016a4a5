//! The run-cache: fingerprint key → the outs a successful run produced, so a stage whose exact
//! inputs were seen before (revert a param) is restored from the cache instead of rerun.
//!
//! Entries live in `.netsec/cache/runs-v1/ab/cdef….json`, written atomically after the outs
//! are in the cache. It is consulted only for pure stages (see `Stage::run_cacheable`).
//!
//! A `cache = false` out (a metrics file kept in git) has no cache object: the entry keeps its
//! text instead (`inline`, at most [`INLINE_MAX`] bytes of UTF-8), checked against the recorded
//! digest before it is trusted. A stage whose uncached out is larger, binary or a directory
//! gets no entry, so reverting a param reruns it rather than restoring half of it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::fingerprint::Fingerprint;
use crate::lock::OutRecord;
use crate::repo_path::RepoPath;
use crate::workspace::Repo;
use netsec_common::atomic::Durability;

/// Largest `cache = false` out whose content a run entry keeps.
pub const INLINE_MAX: u64 = 1 << 20;

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEntry {
    pub outs: BTreeMap<RepoPath, OutRecord>,
    /// The content of each `cache = false` out, by path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline: BTreeMap<RepoPath, String>,
}

impl RunEntry {
    /// An entry for outs that all live in the cache.
    pub fn cached(outs: BTreeMap<RepoPath, OutRecord>) -> RunEntry {
        RunEntry {
            outs,
            inline: BTreeMap::new(),
        }
    }

    /// Entries are data from disk or a remote: one may restore exactly the outs of the
    /// fingerprint it is filed under (which come from pipeline.toml), nothing else, and each
    /// uncached out's kept text must be what its record's digest says.
    pub fn fits(&self, fp: &Fingerprint) -> bool {
        let uncached = self.outs.iter().filter(|(_, r)| !r.cache).map(|(p, _)| p);
        self.outs.keys().eq(fp.outs.iter())
            && uncached.eq(self.inline.keys())
            && self.inline.iter().all(|(p, text)| {
                self.outs.get(p).is_some_and(|r| {
                    r.record.nfiles.is_none()
                        && r.record.size == text.len() as u64
                        && r.record.digest == Digest::of_bytes(text.as_bytes())
                })
            })
    }

    /// Put every out of this entry in place: cached outs from the cache, uncached ones from
    /// their kept text. Call only on an entry that [`fits`](Self::fits) the stage.
    pub fn restore(&self, repo: &Repo) -> std::io::Result<()> {
        for (path, rec) in &self.outs {
            match self.inline.get(path) {
                Some(text) => crate::restore::restore_bytes(repo, path, rec, text.as_bytes())?,
                None => crate::restore::restore_out(repo, path, rec)?,
            };
        }
        Ok(())
    }
}

/// The entry recording `outs` as the workspace holds them now: cached outs by record, each
/// uncached one by its text. `None` when an uncached out cannot be kept (see [`inline_text`]).
pub fn entry_from_workspace(repo: &Repo, outs: BTreeMap<RepoPath, OutRecord>) -> Option<RunEntry> {
    let inline = outs
        .iter()
        .filter(|(_, r)| !r.cache)
        .map(|(p, r)| Some((p.clone(), inline_text(&p.to_path(&repo.root), r)?)))
        .collect::<Option<BTreeMap<_, _>>>()?;
    Some(RunEntry { outs, inline })
}

/// The text to keep for an uncached out, or `None` when it cannot be kept (too large, not
/// UTF-8, a directory, or changed since it was hashed).
pub fn inline_text(abs: &std::path::Path, rec: &OutRecord) -> Option<String> {
    if rec.record.nfiles.is_some() || rec.record.size > INLINE_MAX {
        return None;
    }
    let bytes = netsec_common::read_regular(abs, Some(INLINE_MAX)).ok()?;
    if Digest::of_bytes(&bytes) != rec.record.digest {
        return None;
    }
    String::from_utf8(bytes).ok()
}

pub fn entry_path(repo: &Repo, key: &Digest) -> PathBuf {
    let hex = key.to_hex();
    repo.runs_dir()
        .join(&hex[..2])
        .join(format!("{}.json", &hex[2..]))
}

/// The recorded run for this fingerprint, if any and if every object it needs is present.
pub fn lookup(repo: &Repo, fp: &Fingerprint) -> Option<RunEntry> {
    lookup_keyed(repo, fp, &fp.key())
}

/// [`lookup`] with the fingerprint's key computed already (`key` must be `fp.key()`).
pub fn lookup_keyed(repo: &Repo, fp: &Fingerprint, key: &Digest) -> Option<RunEntry> {
    let text = std::fs::read(entry_path(repo, key)).ok()?;
    let entry: RunEntry = serde_json::from_slice(&text).ok()?;
    if !entry.fits(fp) {
        return None;
    }
    for rec in entry.outs.values().filter(|r| r.cache) {
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

/// Record a successful run. Not fsynced (one per stage): the objects it names are not either,
/// and an entry lost or torn by a power cut is a miss ([`lookup`] parses it and checks that
/// its objects exist; restoring verifies them).
pub fn record(repo: &Repo, fp: &Fingerprint, entry: &RunEntry) -> std::io::Result<()> {
    record_keyed(repo, &fp.key(), entry)
}

/// [`record`] under a fingerprint key computed already.
pub fn record_keyed(repo: &Repo, key: &Digest, entry: &RunEntry) -> std::io::Result<()> {
    let path = entry_path(repo, key);
    crate::parent_dir::retry_with_parent(&path, || {
        netsec_common::atomic::write_json_atomic(&path, entry, Durability::NoFsync)
    })
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
                .unwrap_or(RunEntry::cached(BTreeMap::new()));
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
