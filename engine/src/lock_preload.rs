//! The lock read ahead, on a second thread, while `Repo::open` parses pipeline.toml; used only
//! if `netsec.lock` and its journal are still the files that were read (another process may
//! have committed in between: then they are read again).

use std::path::Path;
use std::sync::Mutex;

use crate::lock::{LockError, Lockfile};
use crate::stamp::FileStamp;

/// What identifies one version of a file: a lock is replaced by rename (new inode) and the
/// journal only grows, so an unchanged stamp means unchanged contents.
type Stamp = Option<FileStamp>;

#[derive(Debug)]
struct Read {
    stamps: (Stamp, Stamp),
    lock: Result<Lockfile, LockError>,
}

/// A lock read ahead, taken at most once.
#[derive(Debug, Default)]
pub struct Preloaded(Mutex<Option<Read>>);

fn stamps(root: &Path) -> (Stamp, Stamp) {
    (
        FileStamp::stat(&Lockfile::path(root)),
        FileStamp::stat(&crate::lock_journal::path(root)),
    )
}

impl Preloaded {
    /// Read the lock now, stamping the files before reading (a change during the read makes
    /// the stamps differ later, never match by accident).
    pub fn read(root: &Path) -> Preloaded {
        let stamps = stamps(root);
        let lock = Lockfile::load(root);
        Preloaded(Mutex::new(Some(Read { stamps, lock })))
    }

    /// Whether the lock as read ahead is known to lack an entry for one of `stages` (`false`
    /// when it was taken already or could not be read). Only a hint: the files may have changed
    /// since the read.
    pub fn lacks_any<'a>(&self, mut stages: impl Iterator<Item = &'a String>) -> bool {
        let Ok(guard) = self.0.lock() else {
            return false;
        };
        match guard.as_ref().map(|r| &r.lock) {
            Some(Ok(lock)) => stages.any(|s| !lock.stages.contains_key(s)),
            _ => false,
        }
    }

    /// The preloaded lock if the files are unchanged, else a fresh read.
    pub fn take(&self, root: &Path) -> Result<Lockfile, LockError> {
        let read = self.0.lock().ok().and_then(|mut g| g.take());
        match read {
            Some(r) if r.stamps == stamps(root) => r.lock,
            _ => Lockfile::load(root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_changed_after_the_read_is_read_again() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let p = Lockfile::path(root);
        std::fs::write(&p, r#"{"version": 1, "stages": {}}"#).unwrap();
        let pre = Preloaded::read(root);
        // Replaced by rename, as netsec writes it: a new inode.
        let tmp = root.join("new");
        std::fs::write(&tmp, r#"{"version": 2, "stages": {}}"#).unwrap();
        std::fs::rename(&tmp, &p).unwrap();
        assert!(matches!(
            pre.take(root),
            Err(LockError::Version { found: 2, .. })
        ));
        // The preloaded copy is taken once: a second call reads the files as they are now.
        std::fs::write(&p, r#"{"version": 1, "stages": {}}"#).unwrap();
        let pre = Preloaded::read(root);
        assert!(pre.take(root).is_ok());
        std::fs::write(&p, r#"{"version": 3, "stages": {}}"#).unwrap();
        assert!(matches!(
            pre.take(root),
            Err(LockError::Version { found: 3, .. })
        ));
        std::fs::remove_file(&p).unwrap();
        assert!(pre.take(root).unwrap().stages.is_empty());
    }

    #[test]
    fn lacks_any_answers_from_the_copy_read_ahead_only() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let names = ["a".to_string(), "b".to_string()];
        // No lock at all: an empty one lacks every stage.
        let pre = Preloaded::read(root);
        assert!(pre.lacks_any(names.iter()));
        assert!(!pre.lacks_any(std::iter::empty()));
        pre.take(root).unwrap();
        // Taken: nothing is known any more.
        assert!(!pre.lacks_any(names.iter()));
        // Unreadable: nothing is known either.
        std::fs::write(Lockfile::path(root), "{").unwrap();
        assert!(!Preloaded::read(root).lacks_any(names.iter()));
    }
}
