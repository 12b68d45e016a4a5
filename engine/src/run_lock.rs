//! One computation per fingerprint across processes that share a cache (experiments running
//! side by side, or the user's `repro` beside a queue): before running a run-cacheable stage,
//! a process takes an `flock` on one of the lock files `.netsec/cache/running-v1/<ab>.lock`
//! (the first two hex digits of the fingerprint key) and looks the run-cache up again;
//! whoever waited finds the first one's entry and restores it instead of recomputing.
//!
//! There are at most 256 lock files, created on first use and never removed: a file created
//! and deleted for every stage cost an inode allocation each, which on ext4 without a journal
//! scans past every inode deleted in the last minutes (quadratic over a run of 10,000 stages).
//! (With 4,096 stripes a first run of 10,000 stages still created some 3,700 of them, each an
//! inode allocation on the stage's path; 256 are created once per cache.) Two fingerprints
//! sharing a lock file wait for each other (with two workers, about one stage in 256, for the
//! length of one stage), which only delays the second. The kernel releases the lock of a killed holder;
//! a `flock` is per open file, so two threads of one process exclude each other too. The
//! cache and run-cache are written by temp file + rename, so whatever the locks, the worst
//! case is a stage computed twice, never a wrong result.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt as _;

use crate::digest::Digest;
use crate::workspace::Repo;

/// How many hex digits of the key name the lock file (16^2 = 256 files at most).
const STRIPE_DIGITS: usize = 2;

/// Held while the stage of one fingerprint is computed; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Wait for the lock of fingerprint `key`; `None` when it cannot be taken (then the stage
    /// simply runs, as before this lock existed).
    pub fn acquire(repo: &Repo, key: &Digest) -> Option<RunLock> {
        let hex = key.to_hex();
        let path = repo
            .dot
            .join("cache")
            .join("running-v1")
            .join(format!("{}.lock", &hex[..STRIPE_DIGITS]));
        let mut opts = OpenOptions::new();
        // Non-blocking: a FIFO put where a lock file belongs would block a write-only open
        // forever; with the flag the open fails and the stage runs unlocked, as when the lock
        // cannot be taken. A regular file ignores the flag.
        opts.write(true)
            .create(true)
            .truncate(false)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
        let file = crate::parent_dir::retry_with_parent(&path, || opts.open(&path)).ok()?;
        file.lock().ok()?;
        Some(RunLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_where_the_lock_file_belongs_does_not_block() {
        let t = tempfile::tempdir().expect("tempdir");
        let repo = crate::test_repo::one_stage_repo(t.path());
        let key = Digest::of_bytes(b"stage");
        let path = repo
            .dot
            .join("cache")
            .join("running-v1")
            .join(format!("{}.lock", &key.to_hex()[..STRIPE_DIGITS]));
        crate::test_repo::mkfifo(&path);
        // No reader: the open fails at once and the stage runs without the lock.
        assert!(RunLock::acquire(&repo, &key).is_none());
        std::fs::remove_file(&path).expect("rm");
        let held = RunLock::acquire(&repo, &key).expect("a regular lock file");
        drop(held);
    }
}
