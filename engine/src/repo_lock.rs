//! The repository lock `.netsec/lock`: one `repro` (or `checkout`/`gc`) at a time.
//!
//! An OS file lock (`flock`) is held on the file for the whole run, and the holder's PID is
//! written into it for the error message. The kernel drops the lock when its holder dies, so a
//! lock left by a killed process is reclaimed simply by taking it; the stale PID is overwritten.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Held while alive; released on drop (or by the kernel when the process dies).
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
    pub path: PathBuf,
}

impl RepoLock {
    pub fn acquire(dot_netsec: &Path) -> Result<RepoLock, Error> {
        std::fs::create_dir_all(dot_netsec).map_err(|e| Error::io("create", dot_netsec, e))?;
        let path = dot_netsec.join("lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut s = String::new();
                let _ = file.read_to_string(&mut s);
                return Err(Error::Locked {
                    pid: s.trim().parse().ok(),
                    path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
        }
        let pid = std::process::id();
        let write = |f: &mut File| -> std::io::Result<()> {
            f.set_len(0)?;
            f.seek(SeekFrom::Start(0))?;
            writeln!(f, "{pid}")?;
            Ok(())
        };
        write(&mut file).map_err(|e| Error::io("write", &path, e))?;
        Ok(RepoLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_pid() {
        let t = tempfile::tempdir().unwrap();
        let first = RepoLock::acquire(t.path()).unwrap();
        match RepoLock::acquire(t.path()) {
            Err(Error::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        assert!(RepoLock::acquire(t.path()).is_ok());
    }
}
