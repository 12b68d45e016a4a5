//! `gc`: delete cache objects that no lock of the chosen scope (see `history`), no experiment
//! record and no kept run-cache entry references. Run-cache entries are pruned first (`keep`
//! newest per out set, `older_than`), and an entry whose objects are gone is dropped whole,
//! never half kept. Experiments (`.netsec/exps/`, every record not removed) are always kept
//! whatever the scope: the objects of their locks, and the run-cache entries of their locks'
//! fingerprints (exempt from `keep`/`older_than`; they hold the uncached outs `exp apply`
//! restores).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::digest::Digest;
use crate::error::Error;
use crate::lock::{Lockfile, OutRecord};
use crate::run_cache;
use crate::workspace::Repo;

/// What to prune besides unreferenced objects.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    pub dry_run: bool,
    /// Keep at most this many run-cache entries per out set (a stage), newest first.
    pub run_cache_keep: Option<usize>,
    /// Drop run-cache entries recorded longer ago than this.
    pub run_cache_older_than: Option<Duration>,
}

/// What `gc` removed (or would remove).
#[derive(Debug, Default, Clone)]
pub struct GcReport {
    pub removed_objects: u64,
    pub removed_bytes: u64,
    pub kept_objects: u64,
    pub removed_runs: u64,
    pub kept_runs: u64,
    /// Experiment records whose locks were kept.
    pub experiments: usize,
}

/// Keep `rec`'s objects. A directory's files are known only through its manifest: if that
/// cannot be read, gc refuses rather than delete files it might reference. `missing_ok`: a
/// run-cache entry whose manifest is gone can never be restored, so it protects nothing.
fn mark(
    repo: &Repo,
    rec: &OutRecord,
    keep: &mut BTreeSet<Digest>,
    missing_ok: bool,
) -> Result<bool, Error> {
    if !rec.cache {
        return Ok(true);
    }
    if rec.record.nfiles.is_some() {
        match repo.cache.read_manifest(&rec.record.digest) {
            Ok(m) => keep.extend(m.files.values().map(|e| e.digest)),
            Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => {
                return Err(Error::io(
                    "gc: read the directory manifest",
                    repo.cache.object_path(&rec.record.digest),
                    std::io::Error::new(
                        e.kind(),
                        format!(
                            "{e}; refusing to collect garbage: the files it lists could be deleted"
                        ),
                    ),
                ))
            }
        }
    }
    keep.insert(rec.record.digest);
    Ok(true)
}

pub fn gc(repo: &Repo, locks: &[Lockfile], opts: &GcOptions) -> Result<GcReport, Error> {
    let mut keep = BTreeSet::new();
    let exp_locks = crate::exp::Store::new(&repo.dot).locks();
    for lock in locks.iter().chain(&exp_locks) {
        for (_, rec) in lock.all_records() {
            mark(repo, rec, &mut keep, false)?;
        }
    }
    let pinned: BTreeSet<PathBuf> = exp_locks
        .iter()
        .flat_map(|l| l.stages.values())
        .map(|e| run_cache::entry_path(repo, &e.fingerprint.key()))
        .collect();
    let mut report = GcReport {
        experiments: exp_locks.len(),
        ..GcReport::default()
    };
    // Run-cache entries, newest first within each out set.
    let mut groups: BTreeMap<Vec<String>, Vec<(SystemTime, run_cache::StoredEntry)>> =
        BTreeMap::new();
    for s in run_cache::stored(repo) {
        let key = s.entry.outs.keys().map(|p| p.to_string()).collect();
        groups.entry(key).or_default().push((s.recorded, s));
    }
    let now = SystemTime::now();
    let mut doomed_runs = Vec::new();
    for entries in groups.values_mut() {
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        for (i, (when, s)) in entries.iter().enumerate() {
            let pin = pinned.contains(&s.path);
            let too_many = !pin && opts.run_cache_keep.is_some_and(|n| i >= n);
            let too_old = !pin
                && opts
                    .run_cache_older_than
                    .is_some_and(|d| now.duration_since(*when).unwrap_or_default() > d);
            let mut objects = BTreeSet::new();
            let mut whole = !(too_many || too_old || s.entry.outs.is_empty());
            if whole {
                for rec in s.entry.outs.values() {
                    let present = mark(repo, rec, &mut objects, true)?
                        && objects.iter().all(|d| repo.cache.object_path(d).exists());
                    whole &= present;
                }
            }
            if whole {
                keep.extend(objects);
                report.kept_runs += 1;
            } else {
                report.removed_runs += 1;
                doomed_runs.push(s.path.clone());
            }
        }
    }
    let objects = repo
        .cache
        .list()
        .map_err(|e| Error::io("list", repo.cache.objects_dir(), e))?;
    let mut doomed_objects = Vec::new();
    for (d, path) in objects {
        if keep.contains(&d) {
            report.kept_objects += 1;
            continue;
        }
        report.removed_objects += 1;
        report.removed_bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        doomed_objects.push(path);
    }
    if !opts.dry_run {
        // Entries first: an entry must never name objects that are gone.
        for path in doomed_runs.iter().chain(&doomed_objects) {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", path, e)),
            }
        }
    }
    Ok(report)
}
