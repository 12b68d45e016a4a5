//! What `lstat`/`stat` say about a path, as one comparable value: the identity of one version
//! of a file without reading it. Used where a stat must vouch for contents (the fresh seal);
//! the racy window is the hash memo's rule too.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Files modified this recently cannot be vouched for by their stat: a second write within the
/// same timestamp tick would keep the same stamp with different content (git's "racy" problem).
pub const RACY_NS: i128 = 100_000_000;

/// Every field a write, rename, chmod, link or `touch -d` changes. `ctime` cannot be set back
/// by a user, so an edit followed by restoring the mtime still differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileStamp {
    /// 0 when the path does not exist (no existing file has mode 0).
    pub mode: u32,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
}

fn ns(secs: i64, nsec: i64) -> i64 {
    secs.saturating_mul(1_000_000_000).saturating_add(nsec)
}

impl FileStamp {
    pub const ABSENT: FileStamp = FileStamp {
        mode: 0,
        dev: 0,
        ino: 0,
        nlink: 0,
        size: 0,
        mtime_ns: 0,
        ctime_ns: 0,
    };

    pub fn of_meta(m: &Metadata) -> FileStamp {
        FileStamp {
            mode: m.mode(),
            dev: m.dev(),
            ino: m.ino(),
            nlink: m.nlink(),
            size: m.size(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ns(m.ctime(), m.ctime_nsec()),
        }
    }

    /// The path itself (a symlink is not followed); `None` on an error other than "absent".
    pub fn lstat(path: &Path) -> Option<FileStamp> {
        Self::from_result(std::fs::symlink_metadata(path))
    }

    /// What the path leads to (symlinks followed).
    pub fn stat(path: &Path) -> Option<FileStamp> {
        Self::from_result(std::fs::metadata(path))
    }

    fn from_result(r: std::io::Result<Metadata>) -> Option<FileStamp> {
        match r {
            Ok(m) => Some(Self::of_meta(&m)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(Self::ABSENT),
            Err(_) => None,
        }
    }

    pub fn exists(&self) -> bool {
        self.mode != 0
    }

    /// File type bits of `st_mode` (POSIX values, the same on every Linux target).
    fn kind(&self) -> u32 {
        self.mode & 0o170_000
    }

    pub fn is_dir(&self) -> bool {
        self.kind() == 0o040_000
    }

    pub fn is_symlink(&self) -> bool {
        self.kind() == 0o120_000
    }

    /// Changed within [`RACY_NS`] before `now_ns`, so this stamp cannot vouch for contents.
    pub fn is_racy(&self, now_ns: i128) -> bool {
        self.exists()
            && (now_ns - i128::from(self.mtime_ns) < RACY_NS
                || now_ns - i128::from(self.ctime_ns) < RACY_NS)
    }
}

/// The wall clock in nanoseconds since the epoch (0 if the clock is before it).
pub fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_with_the_mtime_set_back_changes_the_stamp() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f");
        std::fs::write(&p, "aaaa").unwrap();
        let before = FileStamp::lstat(&p).unwrap();
        assert!(before.exists());
        assert!(before.is_racy(now_ns()), "just written");
        assert!(!before.is_racy(now_ns() + 10 * RACY_NS));
        let mtime = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&p, "bbbb").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let after = FileStamp::lstat(&p).unwrap();
        assert_eq!((before.size, before.mtime_ns), (after.size, after.mtime_ns));
        assert_ne!(before, after, "ctime moved");
        assert_eq!(
            FileStamp::lstat(&t.path().join("nope")),
            Some(FileStamp::ABSENT)
        );
    }
}
