//! `gc`: delete cache objects that neither a lock entry nor a run-cache entry references.

use std::collections::BTreeSet;

use crate::digest::Digest;
use crate::error::Error;
use crate::lock::{Lockfile, OutRecord};
use crate::run_cache;
use crate::workspace::Repo;

/// What `gc` removed (or would remove).
#[derive(Debug, Default, Clone)]
pub struct GcReport {
    pub removed: usize,
    pub bytes: u64,
    pub kept: usize,
}

fn mark(repo: &Repo, rec: &OutRecord, keep: &mut BTreeSet<Digest>) {
    if !rec.cache {
        return;
    }
    keep.insert(rec.record.digest);
    if rec.record.nfiles.is_some() {
        if let Ok(m) = repo.cache.read_manifest(&rec.record.digest) {
            keep.extend(m.files.values().map(|e| e.digest));
        }
    }
}

pub fn gc(repo: &Repo, lock: &Lockfile, dry_run: bool) -> Result<GcReport, Error> {
    let mut keep = BTreeSet::new();
    for e in lock.stages.values() {
        for rec in e.outs.values() {
            mark(repo, rec, &mut keep);
        }
    }
    for e in run_cache::all(repo) {
        for rec in e.outs.values() {
            mark(repo, rec, &mut keep);
        }
    }
    let mut report = GcReport::default();
    let objects = repo
        .cache
        .list()
        .map_err(|e| Error::io("list", repo.cache.objects_dir(), e))?;
    for (d, path) in objects {
        if keep.contains(&d) {
            report.kept += 1;
            continue;
        }
        report.removed += 1;
        report.bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if !dry_run {
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        }
    }
    Ok(report)
}
