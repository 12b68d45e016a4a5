//! Atomic file replacement: write a temp file in the same directory, then rename it over the
//! target. A reader, or a kill -9, sees the old file or the whole new one, never a torn write.

use std::io::Write;
use std::path::Path;

/// Whether the new content must reach the disk before the rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file before renaming: for state that must survive a power cut (the lock).
    Fsync,
    /// No fsync: for artifacts written into a staging directory that the engine renames and
    /// records itself; an fsync per artifact would cost more than most stages' computation.
    NoFsync,
}

/// Replaces `path` with `bytes` atomically (mode 0644). The parent directory must exist.
pub fn write_atomic(path: &Path, bytes: &[u8], durability: Durability) -> std::io::Result<()> {
    write_atomic_with(path, durability, |w| w.write_all(bytes))
}

/// Replaces `path` atomically with what `fill` writes (through a buffer) into the temp file, so
/// a large file need not be built in memory first. The parent directory must exist; on an error
/// of `fill` the temp file is removed and `path` is left as it was.
pub fn write_atomic_with<F>(path: &Path, durability: Durability, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".netsec-tmp-")
        .tempfile_in(dir)?;
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, tmp);
    fill(&mut w)?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    if durability == Durability::Fsync {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `value` as pretty canonical JSON (see [`crate::canonical`]) atomically.
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(
    path: &Path,
    value: &T,
    durability: Durability,
) -> std::io::Result<()> {
    let bytes = crate::canonical::to_vec_pretty(value).map_err(std::io::Error::other)?;
    write_atomic(path, &bytes, durability)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_json_atomic(&p, &vec![1, 2], Durability::NoFsync).unwrap();
        write_json_atomic(&p, &vec![3], Durability::Fsync).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "[\n  3\n]\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn streamed_writes_replace_or_leave_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.bin");
        let chunk = vec![7u8; 100_000];
        write_atomic_with(&p, Durability::NoFsync, |w| {
            (0..3).try_for_each(|_| w.write_all(&chunk))
        })
        .unwrap();
        assert_eq!(std::fs::read(&p).unwrap().len(), 300_000);
        let err = write_atomic_with(&p, Durability::NoFsync, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("stop"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "stop");
        assert_eq!(std::fs::read(&p).unwrap().len(), 300_000);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
