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

/// Keep `rec`'s objects. A directory's files are known only through its manifest: if that
/// cannot be read, gc refuses rather than delete files it might reference. `missing_ok`: a
/// run-cache entry whose manifest is gone can never be restored, so it protects nothing.
fn mark(
    repo: &Repo,
    rec: &OutRecord,
    keep: &mut BTreeSet<Digest>,
    missing_ok: bool,
) -> Result<(), Error> {
    if !rec.cache {
        return Ok(());
    }
    keep.insert(rec.record.digest);
    if rec.record.nfiles.is_some() {
        match repo.cache.read_manifest(&rec.record.digest) {
            Ok(m) => keep.extend(m.files.values().map(|e| e.digest)),
            Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => {}
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
    Ok(())
}

pub fn gc(repo: &Repo, lock: &Lockfile, dry_run: bool) -> Result<GcReport, Error> {
    let mut keep = BTreeSet::new();
    for e in lock.stages.values() {
        for rec in e.outs.values() {
            mark(repo, rec, &mut keep, false)?;
        }
    }
    for e in run_cache::all(repo) {
        for rec in e.outs.values() {
            mark(repo, rec, &mut keep, true)?;
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
