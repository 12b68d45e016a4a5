//! The queue's runner lock `.netsec/exps/queue.lock`: at most one `--run-all` / `queue start`
//! at a time (the repository lock is not held: experiments run in workspaces of their own).
//! Being an `flock`, it dies with its holder, so "is a runner alive?" is a try-lock, and a
//! record left `running` by a killed runner is known to be interrupted: it is shown as
//! `queued` and the next runner starts it again. It never becomes `success` by accident.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::PathBuf;

use crate::error::Error;
use crate::exp::record::{ExpRecord, ExpStatus, Store};

/// Held by the runner while it runs the queue.
#[derive(Debug)]
pub struct QueueLock {
    _file: File,
}

fn lock_path(store: &Store) -> PathBuf {
    store.dir.join("queue.lock")
}

fn open(store: &Store) -> Result<File, Error> {
    std::fs::create_dir_all(&store.dir).map_err(|e| Error::io("create", &store.dir, e))?;
    let path = lock_path(store);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io("open", &path, e))
}

impl QueueLock {
    /// Take the runner lock, or exit 6 when another runner holds it.
    pub fn acquire(store: &Store) -> Result<QueueLock, Error> {
        let mut file = open(store)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(lock_path(store))
                    .ok()
                    .and_then(|s| s.trim().parse().ok());
                return Err(Error::Locked {
                    pid,
                    path: lock_path(store),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", lock_path(store), e)),
        }
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        Ok(QueueLock { _file: file })
    }
}

/// Whether a runner holds the queue now.
pub fn runner_alive(store: &Store) -> bool {
    if !lock_path(store).exists() {
        return false;
    }
    match open(store) {
        Ok(f) => matches!(f.try_lock(), Err(TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// The status to show: a `running` record with no live runner was interrupted and is queued
/// again.
pub fn effective(rec: &ExpRecord, alive: bool) -> ExpStatus {
    match rec.status {
        ExpStatus::Running if !alive && !rec.in_workspace => ExpStatus::Queued,
        s => s,
    }
}

/// Put back in the queue the records a killed runner left `running` (call with the lock held).
pub fn recover(store: &Store) -> Result<Vec<String>, Error> {
    let (recs, _) = store.list();
    let mut names = Vec::new();
    for mut r in recs {
        if r.status == ExpStatus::Running {
            r.status = ExpStatus::Queued;
            r.pgid = None;
            r.started_ms = None;
            store.save(&r)?;
            names.push(r.name);
        }
    }
    Ok(names)
}
