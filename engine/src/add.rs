//! `netsec add PATH…`: track a data file or directory that no stage produces (raw data), like
//! `dvc add`. Its content goes into the cache and its record into the lock's `sources`
//! section (one file for git to carry, no pointer files to find). From then on `status`
//! reports it modified or missing, `checkout`, `push`, `pull`, `fetch` and every `gc` scope
//! include it, the `.gitignore` block lists it, and stages may depend on it.

use std::io;

use crate::digest::hash_path;
use crate::error::Error;
use crate::insert::hash_insert_path;
use crate::lock::{Lockfile, OutRecord};
use crate::repo_path::RepoPath;
use crate::status::record_of;
use crate::workspace::Repo;
use netsec_protocol::{AddedSource, SourceState, SourceStatus};

/// Hash `paths` into the cache and record them as sources. All paths are checked before
/// anything is recorded. The caller holds the repository lock.
pub fn add(repo: &Repo, paths: &[RepoPath]) -> Result<Vec<AddedSource>, Error> {
    for path in paths {
        check_addable(repo, path)?;
    }
    let mut lock = repo.load_lock()?;
    let mut added = Vec::new();
    for path in paths {
        let abs = path.to_path(&repo.root);
        let hashed = hash_insert_path(&repo.cache, &repo.root, &abs, &repo.memo)
            .map_err(|e| Error::io("add", &abs, e))?
            .ok_or_else(|| Error::Usage {
                message: format!("`{path}` does not exist"),
                hint: None,
            })?;
        let rec = OutRecord {
            record: record_of(&hashed),
            cache: true,
        };
        let changed = lock.sources.get(path) != Some(&rec);
        added.push(AddedSource {
            path: path.to_string(),
            digest: rec.record.digest.to_hex(),
            size: rec.record.size,
            nfiles: rec.record.nfiles,
            changed,
        });
        lock.sources.insert(path.clone(), rec);
    }
    lock.save(&repo.root).map_err(Error::Lock)?;
    crate::gitignore::sync_recorded(repo, &lock);
    repo.save_memo();
    Ok(added)
}

/// Stop tracking `paths` as sources (the files stay; their objects go at the next `gc`).
pub fn remove(repo: &Repo, paths: &[RepoPath]) -> Result<Vec<String>, Error> {
    let mut lock = repo.load_lock()?;
    for path in paths {
        if !lock.sources.contains_key(path) {
            return Err(Error::Usage {
                message: format!("`{path}` is not tracked with `netsec add`"),
                hint: None,
            });
        }
    }
    for path in paths {
        lock.sources.remove(path);
    }
    lock.save(&repo.root).map_err(Error::Lock)?;
    crate::gitignore::sync_recorded(repo, &lock);
    Ok(paths.iter().map(ToString::to_string).collect())
}

fn check_addable(repo: &Repo, path: &RepoPath) -> Result<(), Error> {
    let refuse = |message: String, hint: Option<String>| Err(Error::Usage { message, hint });
    if path.is_root() {
        return refuse("cannot add the whole workspace".into(), None);
    }
    if let Some(what) = path.reserved() {
        return refuse(format!("`{path}` is {what}"), None);
    }
    for stage in repo.pipeline.stages.values() {
        if let Some(o) = stage.outs.iter().find(|o| o.path.overlaps(path)) {
            return refuse(
                format!(
                    "`{path}` is an out of stage `{}` (`{}`); netsec already tracks it",
                    stage.name, o.path
                ),
                Some(format!(
                    "run `netsec repro {}` or `netsec commit {}` to record it",
                    stage.name, stage.name
                )),
            );
        }
    }
    crate::confine::check_inside(&repo.root, path)
        .map_err(|e| Error::io("add", path.as_str(), e))?;
    let abs = path.to_path(&repo.root);
    match std::fs::symlink_metadata(&abs) {
        Ok(m) if m.is_file() || m.is_dir() => Ok(()),
        Ok(_) => refuse(format!("`{path}` is not a regular file or directory"), None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            refuse(format!("`{path}` does not exist"), None)
        }
        Err(e) => Err(Error::io("add", &abs, e)),
    }
}

/// Each source's state in the workspace against the lock.
pub fn sources_status(repo: &Repo, lock: &Lockfile) -> Result<Vec<SourceStatus>, Error> {
    let mut out = Vec::new();
    for (path, rec) in &lock.sources {
        let abs = path.to_path(&repo.root);
        let now =
            hash_path(&repo.root, &abs, &repo.memo).map_err(|e| Error::io("hash", &abs, e))?;
        let state = match now {
            None => SourceState::Missing,
            Some(h) if h.digest() == rec.record.digest => SourceState::Fresh,
            Some(_) => SourceState::Modified,
        };
        out.push(SourceStatus {
            path: path.to_string(),
            state,
        });
    }
    Ok(out)
}
