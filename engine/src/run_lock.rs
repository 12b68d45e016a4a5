//! One computation per fingerprint across processes that share a cache (experiments running
//! side by side, or the user's `repro` beside a queue): before running a run-cacheable stage,
//! a process takes an `flock` on `.netsec/cache/running-v1/<key>.lock` and looks the run-cache
//! up again; whoever waited finds the first one's entry and restores it instead of recomputing.
//!
//! The lock file is removed by its holder once the stage has been recorded (or failed). A
//! process that opened the file before the removal still locks the removed inode, and one that
//! opens after it creates a new file: both then look the run-cache up first, so the worst case
//! is that two processes compute the same stage after a failure, never a wrong result (the
//! cache and run-cache are written by temp file + rename). The kernel releases the lock of a
//! killed holder.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use crate::digest::Digest;
use crate::workspace::Repo;

/// Held while the stage of one fingerprint is computed.
#[derive(Debug)]
pub struct RunLock {
    file: Option<File>,
    path: PathBuf,
}

impl RunLock {
    /// Wait for the lock of fingerprint `key`; `None` when it cannot be taken (then the stage
    /// simply runs, as before this lock existed).
    pub fn acquire(repo: &Repo, key: &Digest) -> Option<RunLock> {
        let dir = repo.dot.join("cache").join("running-v1");
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join(format!("{}.lock", key.to_hex()));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .ok()?;
        file.lock().ok()?;
        Some(RunLock {
            file: Some(file),
            path,
        })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Remove first, then unlock (by closing): a waiter then holds the removed inode and
        // looks the run-cache up, where it finds the entry this holder recorded.
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}
