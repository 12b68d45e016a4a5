//! A file as it was at a git revision: from the cache by the digest that revision's
//! netsec.lock recorded (a file out, or a file inside a directory out), else from git. Used by
//! `netsec plots diff`.

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
}

impl Revision {
    /// `Err` when `rev` is not a commit of a git repository at `root`.
    pub fn open(root: &Path, rev: &str) -> Result<Revision, netsec_tracking::TrackingError> {
        let lock = git_show(root, rev, netsec_engine::lock::LOCK_FILE)?
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| Lockfile::parse(&t, PathBuf::from(netsec_engine::lock::LOCK_FILE)).ok());
        Ok(Revision {
            root: root.to_path_buf(),
            rev: rev.to_string(),
            lock,
        })
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
                return std::fs::read(cache.object_path(&rec.record.digest)).ok();
            }
            if rec.record.nfiles.is_some() && want.is_within(out) {
                let rel = want
                    .as_str()
                    .strip_prefix(out.as_str())?
                    .trim_start_matches('/');
                let manifest = cache.read_manifest(&rec.record.digest).ok()?;
                let entry = manifest.files.get(rel)?;
                return std::fs::read(cache.object_path(&entry.digest)).ok();
            }
        }
        None
    }
}
