//! Reading a whole file that came from an untrusted place (a workspace file, a lock from git):
//! only a regular file, and never more than a cap. A FIFO or `/dev/zero` named where a file is
//! expected would otherwise block forever or fill memory.

use std::fmt;
use std::io::{self, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// Why [`read_regular`] refused or failed. Its `Display` is a clause about the file ("it is a
/// FIFO, not a regular file"), for the caller to prefix with the file's name.
#[derive(Debug)]
pub enum BoundedReadError {
    Io(io::Error),
    NotRegular { kind: &'static str },
    TooLarge { limit: u64 },
}

impl BoundedReadError {
    /// The file does not exist (callers often treat that as "empty" rather than an error).
    pub fn is_not_found(&self) -> bool {
        matches!(self, BoundedReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for BoundedReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoundedReadError::Io(e) => write!(f, "{e}"),
            BoundedReadError::NotRegular { kind } => {
                write!(f, "it is {kind}, not a regular file")
            }
            BoundedReadError::TooLarge { limit } => {
                write!(f, "it is larger than the {} limit", human_limit(*limit))
            }
        }
    }
}

impl std::error::Error for BoundedReadError {}

/// Reads `path` whole (following symlinks), refusing what is not a regular file and, with
/// `max`, a file larger than `max` bytes. The size is checked on what was read, not only on
/// the first look, so a file swapped or grown meanwhile is still bounded.
pub fn read_regular(path: &Path, max: Option<u64>) -> Result<Vec<u8>, BoundedReadError> {
    let meta = std::fs::metadata(path).map_err(BoundedReadError::Io)?;
    if !meta.is_file() {
        return Err(BoundedReadError::NotRegular {
            kind: file_kind(&meta),
        });
    }
    let limit = max.unwrap_or(u64::MAX);
    if meta.len() > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(BoundedReadError::Io)?;
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(BoundedReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_regular`] for text: invalid UTF-8 is an `InvalidData` I/O error.
pub fn read_regular_string(path: &Path, max: Option<u64>) -> Result<String, BoundedReadError> {
    let bytes = read_regular(path, max)?;
    String::from_utf8(bytes).map_err(|e| {
        BoundedReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not valid UTF-8 (byte {})", e.utf8_error().valid_up_to()),
        ))
    })
}

/// "a directory", "a FIFO", … for a file that is not a regular one.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// A size limit, exactly: `1 MiB`, `512 KiB`, `100 bytes` (binary units, never rounded).
pub fn human_limit(n: u64) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{} GiB", n >> 30)
    } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_special_files_and_large_ones() {
        let e = read_regular(Path::new("/dev/zero"), None).expect_err("device");
        assert_eq!(
            e.to_string(),
            "it is a character device, not a regular file"
        );
        let dir = tempfile::tempdir().unwrap();
        let e = read_regular(dir.path(), None).expect_err("dir");
        assert!(e.to_string().contains("a directory"), "{e}");
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'a'; 2048]).unwrap();
        let e = read_regular(&p, Some(1024)).expect_err("big");
        assert_eq!(e.to_string(), "it is larger than the 1 KiB limit");
        assert_eq!(read_regular(&p, Some(2048)).unwrap().len(), 2048);
        assert!(read_regular(&dir.path().join("none"), None)
            .expect_err("missing")
            .is_not_found());
        std::fs::write(&p, b"\xff").unwrap();
        assert!(read_regular_string(&p, None).is_err());
        assert_eq!(human_limit(1 << 30), "1 GiB");
        assert_eq!(human_limit(100), "100 bytes");
    }

    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo (coreutils) failed");
        let e = read_regular(&fifo, None).expect_err("fifo");
        assert_eq!(e.to_string(), "it is a FIFO, not a regular file");
    }
}
