//! A file as it was at a git revision: from the cache by the digest that revision's
//! netsec.lock recorded (a file out, or a file inside a directory out), else from git. Used by
//! `netsec plots diff` and `netsec metrics diff` (and the `HEAD` row of `exp show`).

use netsec_engine::cache::Cache;
use netsec_engine::{Lockfile, RepoPath};
use netsec_tracking::metrics::git_show;

use std::path::{Path, PathBuf};

/// One revision's view of the workspace.
#[derive(Debug)]
pub struct Revision {
    root: PathBuf,
    rev: String,
    /// Its netsec.lock; `None` when the revision has none (or it is unreadable).
    lock: Option<Lockfile>,
    /// Why the revision's netsec.lock could not be used, when it has one.
    lock_error: Option<String>,
}

/// Largest file read back from the cache for a revision (a metrics or plot file).
const MAX_FILE_BYTES: u64 = 256 << 20;

fn read_object(path: &Path) -> Option<Vec<u8>> {
    netsec_common::read_regular(path, Some(MAX_FILE_BYTES)).ok()
}

impl Revision {
    /// `Err` when `rev` is not a commit of a git repository at `root`.
    pub fn open(root: &Path, rev: &str) -> Result<Revision, netsec_tracking::TrackingError> {
        let parsed = git_show(root, rev, netsec_engine::lock::LOCK_FILE)?.map(|b| {
            let text = String::from_utf8(b).map_err(|_| "not UTF-8".to_string())?;
            Lockfile::parse(&text, PathBuf::from(netsec_engine::lock::LOCK_FILE))
                .map_err(|e| e.to_string())
        });
        let (lock, lock_error) = match parsed {
            None => (None, None),
            Some(Ok(l)) => (Some(l), None),
            Some(Err(e)) => (None, Some(e)),
        };
        Ok(Revision {
            root: root.to_path_buf(),
            rev: rev.to_string(),
            lock,
            lock_error,
        })
    }

    /// Its netsec.lock, validated as the workspace's is; `None` without one.
    pub fn lock(&self) -> Option<&Lockfile> {
        self.lock.as_ref()
    }

    /// Why its netsec.lock was not usable, when it has one that is not.
    pub fn lock_error(&self) -> Option<&str> {
        self.lock_error.as_deref()
    }

    /// The bytes of `path` at this revision; `None` when neither the cache (by that lock's
    /// digest) nor git has it.
    pub fn read(&self, cache: &Cache, path: &str) -> Option<Vec<u8>> {
        self.cached(cache, path)
            .or_else(|| git_show(&self.root, &self.rev, path).ok().flatten())
    }

    fn cached(&self, cache: &Cache, path: &str) -> Option<Vec<u8>> {
        let lock = self.lock.as_ref()?;
        let want = RepoPath::parse(path).ok()?;
        for (out, rec) in lock.all_records() {
            if *out == want && rec.record.nfiles.is_none() {
                return read_object(&cache.object_path(&rec.record.digest));
            }
            if rec.record.nfiles.is_some() && want.is_within(out) {
                let rel = want
                    .as_str()
                    .strip_prefix(out.as_str())?
                    .trim_start_matches('/');
                let manifest = cache.read_manifest(&rec.record.digest).ok()?;
                let entry = manifest.files.get(rel)?;
                return read_object(&cache.object_path(&entry.digest));
            }
        }
        None
    }
}
