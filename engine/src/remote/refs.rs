//! What a lock references: the cached outs of the selected stages, and the cache objects they
//! need (a file out's object; a directory out's manifest object plus every file in it).

use std::collections::BTreeMap;
use std::io;

use crate::digest::{Digest, DirManifest};
use crate::error::Error;
use crate::lock::{Lockfile, OutRecord};
use crate::repo_path::RepoPath;
use crate::workspace::Repo;

/// One out recorded in the lock.
#[derive(Debug, Clone)]
pub struct LockedOut {
    pub stage: String,
    pub path: RepoPath,
    pub record: OutRecord,
}

impl LockedOut {
    pub fn is_dir(&self) -> bool {
        self.record.record.nfiles.is_some()
    }
}

/// The outs the lock records for `stages` (all when empty), cached or not, in lock order;
/// with no stage named, the data sources of `netsec add` too (their `stage` is `""`).
pub fn locked_outs(
    repo: &Repo,
    lock: &Lockfile,
    stages: &[String],
) -> Result<Vec<LockedOut>, Error> {
    let stages = &repo.resolve_stage_names(stages)?;
    let mut out = Vec::new();
    for (name, entry) in &lock.stages {
        if !stages.is_empty() && !stages.contains(name) {
            continue;
        }
        for (path, rec) in &entry.outs {
            out.push(LockedOut {
                stage: name.clone(),
                path: path.clone(),
                record: rec.clone(),
            });
        }
    }
    if stages.is_empty() {
        for (path, rec) in &lock.sources {
            out.push(LockedOut {
                stage: String::new(),
                path: path.clone(),
                record: rec.clone(),
            });
        }
    }
    Ok(out)
}

/// Cache objects by digest, with their sizes.
pub type Objects = BTreeMap<Digest, u64>;

/// Add the objects `rec` needs, reading a directory's manifest through `manifest`.
pub fn add_record(
    rec: &OutRecord,
    manifest: impl FnOnce(&Digest) -> io::Result<DirManifest>,
    into: &mut Objects,
) -> io::Result<()> {
    if !rec.cache {
        return Ok(());
    }
    if rec.record.nfiles.is_some() {
        let m = manifest(&rec.record.digest)?;
        into.insert(rec.record.digest, m.to_bytes().len() as u64);
        for e in m.files.values() {
            into.insert(e.digest, e.size);
        }
    } else {
        into.insert(rec.record.digest, rec.record.size);
    }
    Ok(())
}

/// The objects the cached outs need, with directory manifests read from the local cache.
/// An out whose manifest is not in the local cache is an error naming it.
pub fn local_objects<'a>(
    repo: &Repo,
    outs: impl IntoIterator<Item = (&'a RepoPath, &'a OutRecord)>,
    op: &'static str,
) -> Result<Objects, Error> {
    let mut objects = Objects::new();
    for (path, rec) in outs {
        add_record(rec, |d| repo.cache.read_manifest(d), &mut objects).map_err(|e| {
            Error::io(
                op,
                path.as_str(),
                io::Error::new(
                    e.kind(),
                    format!("its directory manifest is not in the local cache ({e}); run `netsec repro` or `netsec pull` first"),
                ),
            )
        })?;
    }
    Ok(objects)
}
