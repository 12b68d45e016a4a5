//! `LocalRemote`: a remote that is a directory (local disk, NFS or any mounted share).
//!
//! Every write lands in a `.netsec-tmp-*` file in the target's own directory and is renamed
//! into place, so a reader or a kill -9 sees an object whole or not at all. Listing skips those
//! temp names. Data is not fsynced: the guarantee is against killed processes, not power loss
//! (as for `cp` to a share). The directory is created on first write.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Progress, Remote, RemoteError, RemoteErrorKind, RemoteObject};

/// Prefix of in-flight writes; never listed.
const TEMP_PREFIX: &str = ".netsec-tmp-";

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A directory remote.
#[derive(Debug, Clone)]
pub struct LocalRemote {
    root: PathBuf,
}

impl LocalRemote {
    /// A remote rooted at `root` (absolute, or relative to the current directory).
    pub fn new(root: impl Into<PathBuf>) -> LocalRemote {
        LocalRemote { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `key`; keys are relative, `/`-separated, without `.` or `..`.
    fn path(&self, key: &str) -> Result<PathBuf, RemoteError> {
        let rel = Path::new(key);
        let ok = !key.is_empty()
            && rel
                .components()
                .all(|c| matches!(c, Component::Normal(s) if !s.to_string_lossy().starts_with(TEMP_PREFIX)));
        if !ok {
            return Err(
                RemoteError::new(RemoteErrorKind::Invalid, "invalid object key").with_key(key),
            );
        }
        Ok(self.root.join(rel))
    }

    /// A fresh temp path next to `dest` (same directory, so the publishing rename is atomic).
    fn temp_next_to(&self, dest: &Path, key: &str) -> Result<PathBuf, RemoteError> {
        let dir = dest.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| map_io(e, key, "create the directory of"))?;
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(format!("{TEMP_PREFIX}{}-{n}", std::process::id())))
    }

    /// Write through `fill` into a temp file next to `key`'s path, then rename it into place.
    fn publish(
        &self,
        key: &str,
        fill: impl FnOnce(&Path) -> io::Result<()>,
    ) -> Result<(), RemoteError> {
        let dest = self.path(key)?;
        let tmp = self.temp_next_to(&dest, key)?;
        let done = fill(&tmp).and_then(|()| fs::rename(&tmp, &dest));
        if let Err(e) = done {
            let _ = fs::remove_file(&tmp);
            return Err(map_io(e, key, "write"));
        }
        Ok(())
    }
}

/// An io error as a remote error of the matching kind. The path is not repeated: the key and
/// `describe()` say where.
pub(crate) fn map_io(e: io::Error, key: &str, what: &str) -> RemoteError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => RemoteErrorKind::NotFound,
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            RemoteErrorKind::Denied
        }
        _ => RemoteErrorKind::Other,
    };
    let err = RemoteError::new(kind, format!("cannot {what} it: {e}")).with_key(key);
    match kind {
        RemoteErrorKind::Denied => {
            err.with_hint("check that this user may write to the remote directory")
        }
        _ => err,
    }
}

/// Copy `src` to a new or truncated `dst` (copy_file_range under the hood), mode 0644.
fn copy_to(src: &Path, dst: &Path) -> io::Result<u64> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut from = fs::File::open(src)?;
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(dst)?;
    io::copy(&mut from, &mut to)
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<RemoteObject>) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let key = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(&entry.path(), &key, out)?;
        } else if ft.is_file() {
            let size = entry.metadata()?.len();
            out.push(RemoteObject { key, size });
        }
    }
    Ok(())
}

/// Temp files under `dir` whose inode last changed (written, or hard-linked) before `before`
/// (seconds since the epoch): writes of a killed process.
fn stale_temps(dir: &Path, before: i64, out: &mut Vec<PathBuf>) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let ft = entry.file_type()?;
        if ft.is_dir() {
            stale_temps(&entry.path(), before, out)?;
        } else if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            let m = entry.metadata()?;
            if m.ctime().max(m.mtime()) < before {
                out.push(entry.path());
            }
        }
    }
    Ok(())
}

impl Remote for LocalRemote {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        match fs::metadata(self.path(key)?) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(map_io(e, key, "stat")),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<RemoteObject>, RemoteError> {
        // Walk only the deepest directory the prefix names, then filter by the rest.
        let dir_part = match prefix.rfind('/') {
            Some(i) => &prefix[..i],
            None => "",
        };
        let start = if dir_part.is_empty() {
            self.root.clone()
        } else {
            self.path(dir_part)?
        };
        let mut out = Vec::new();
        walk(&start, dir_part, &mut out).map_err(|e| map_io(e, prefix, "list"))?;
        out.retain(|o| o.key.starts_with(prefix));
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn put_file(&self, key: &str, src: &Path, progress: Progress<'_>) -> Result<(), RemoteError> {
        let mut moved = 0;
        self.publish(key, |tmp| {
            moved = copy_to(src, tmp)?;
            Ok(())
        })?;
        progress(moved);
        Ok(())
    }

    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        self.publish(key, |tmp| fs::write(tmp, bytes))
    }

    fn get_file(&self, key: &str, dest: &Path, progress: Progress<'_>) -> Result<(), RemoteError> {
        let src = self.path(key)?;
        let n = copy_to(&src, dest).map_err(|e| {
            // A missing source is the remote's NotFound; anything else may be local.
            if fs::metadata(&src).is_err() {
                map_io(io::Error::from(io::ErrorKind::NotFound), key, "read")
            } else {
                map_io(e, key, "download")
            }
        })?;
        progress(n);
        Ok(())
    }

    fn get_bytes(&self, key: &str) -> Result<Vec<u8>, RemoteError> {
        fs::read(self.path(key)?).map_err(|e| map_io(e, key, "read"))
    }

    fn copy(&self, from: &str, to: &str) -> Result<(), RemoteError> {
        let src = self.path(from)?;
        if !src.is_file() {
            return Err(map_io(
                io::Error::from(io::ErrorKind::NotFound),
                from,
                "copy",
            ));
        }
        // A hard link costs nothing; objects are immutable once published, so sharing is safe.
        self.publish(to, |tmp| match fs::hard_link(&src, tmp) {
            Ok(()) => Ok(()),
            Err(_) => copy_to(&src, tmp).map(|_| ()),
        })
    }

    fn delete(&self, keys: &[String]) -> Result<(), RemoteError> {
        for key in keys {
            match fs::remove_file(self.path(key)?) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(map_io(e, key, "delete")),
            }
        }
        Ok(())
    }

    /// Removes `.netsec-tmp-*` files older than `older_than` (left by a killed writer).
    fn abort_unfinished(
        &self,
        older_than: std::time::Duration,
        dry_run: bool,
    ) -> Result<u64, RemoteError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let before = now.saturating_sub(older_than.as_secs()) as i64;
        let mut found = Vec::new();
        stale_temps(&self.root, before, &mut found)
            .map_err(|e| map_io(e, "", "list the unfinished writes of"))?;
        if !dry_run {
            for p in &found {
                match fs::remove_file(p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(map_io(e, &p.display().to_string(), "delete")),
                }
            }
        }
        Ok(found.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_list_get_copy_delete() {
        let t = tempfile::tempdir().unwrap();
        let r = LocalRemote::new(t.path().join("remote"));
        assert!(r.list("files/").unwrap().is_empty());
        r.put_bytes("files/blake3/ab/cd", b"one").unwrap();
        let src = t.path().join("src");
        fs::write(&src, b"two!").unwrap();
        let seen = AtomicU64::new(0);
        r.put_file("files/blake3/ab/ef", &src, &|n| {
            seen.fetch_add(n, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(seen.load(Ordering::Relaxed), 4);
        // A leftover temp file of a killed write is never listed.
        fs::write(
            t.path().join("remote/files/blake3/ab/.netsec-tmp-1-1"),
            b"x",
        )
        .unwrap();
        let keys: Vec<_> = r.list("files/blake3/").unwrap();
        assert_eq!(
            keys,
            vec![
                RemoteObject {
                    key: "files/blake3/ab/cd".into(),
                    size: 3
                },
                RemoteObject {
                    key: "files/blake3/ab/ef".into(),
                    size: 4
                }
            ]
        );
        assert_eq!(r.list("files/blake3/ab/e").unwrap().len(), 1);
        r.copy("files/blake3/ab/cd", "artifact/t/x.txt").unwrap();
        assert_eq!(r.get_bytes("artifact/t/x.txt").unwrap(), b"one");
        let dest = t.path().join("dest");
        r.get_file("files/blake3/ab/ef", &dest, &|_| {}).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"two!");
        let missing = r.get_bytes("nope").unwrap_err();
        assert_eq!(missing.kind, RemoteErrorKind::NotFound);
        assert_eq!(missing.key.as_deref(), Some("nope"));
        assert!(r.path("../x").is_err());
        r.delete(&["files/blake3/ab/cd".into(), "gone".into()])
            .unwrap();
        assert!(!r.exists("files/blake3/ab/cd").unwrap());
        assert!(r.exists("artifact/t/x.txt").unwrap());
    }

    #[test]
    fn stale_temp_files_are_removed_young_ones_kept() {
        use std::time::Duration;
        let t = tempfile::tempdir().unwrap();
        let r = LocalRemote::new(t.path());
        let tmp = t.path().join("files/blake3/ab/.netsec-tmp-1-1");
        fs::create_dir_all(tmp.parent().unwrap()).unwrap();
        fs::write(&tmp, b"x").unwrap();
        r.put_bytes("files/blake3/ab/cd", b"one").unwrap();
        // Younger than the grace period: may be a write in progress.
        assert_eq!(
            r.abort_unfinished(Duration::from_secs(3600), false)
                .unwrap(),
            0
        );
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(r.abort_unfinished(Duration::ZERO, true).unwrap(), 1);
        assert!(tmp.exists(), "a dry run deletes nothing");
        assert_eq!(r.abort_unfinished(Duration::ZERO, false).unwrap(), 1);
        assert!(!tmp.exists());
        assert!(r.exists("files/blake3/ab/cd").unwrap());
    }
}
