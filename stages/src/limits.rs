//! Bounds on the work hostile input can cause: input files must be regular files, files read
//! whole have a size cap, CSV records a length cap, headers a column cap, YAML a nesting cap,
//! and every value echoed in a message is clipped. One place, so every reader uses the same ones.

use std::borrow::Cow;
use std::path::Path;

use netsec_common::BoundedReadError;

use crate::error::{Result, StageError};

/// Largest `schema.yaml` read (the real one is 3 KiB).
pub const MAX_SCHEMA_BYTES: u64 = 1 << 20;
/// Deepest YAML nesting accepted in `schema.yaml` (the real one nests 4 deep).
pub const MAX_YAML_DEPTH: usize = 64;
/// Longest CSV line or record, in bytes (a row of the dataset is ~90 bytes).
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Most columns a CSV header may have (the dataset has 31).
pub const MAX_COLUMNS: usize = 4096;
/// Most problems listed in a message; the rest are counted.
pub const MAX_LISTED: usize = 20;
/// Most characters of a value (a cell, a column name) echoed in a message.
pub const MAX_ECHO: usize = 80;

/// Reads `path` whole, refusing what is not a regular file (a FIFO or `/dev/zero` would block
/// or never end) and, with `max`, a file larger than `max` bytes.
pub fn read_regular(path: &Path, max: Option<u64>) -> Result<Vec<u8>> {
    netsec_common::read_regular(path, max).map_err(|e| match e {
        BoundedReadError::Io(e) => StageError::read(path, e),
        refused => StageError::Refused {
            path: path.to_path_buf(),
            reason: refused.to_string(),
        },
    })
}

pub use netsec_common::bounded_read::human_limit as human_bytes;

/// `s` cut to [`MAX_ECHO`] characters plus `…` (with its length) when longer; control
/// characters are shown escaped so an echoed cell cannot rewrite the terminal.
pub fn clip(s: &str) -> Cow<'_, str> {
    let long = s.chars().nth(MAX_ECHO).is_some();
    let control = s.chars().any(char::is_control);
    if !long && !control {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(MAX_ECHO + 16);
    for c in s.chars().take(MAX_ECHO) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if long {
        out.push_str(&format!("… ({} bytes)", s.len()));
    }
    Cow::Owned(out)
}

/// `message` with every backquoted span clipped by [`clip`], and the whole cut to a few lines'
/// worth: for messages of other libraries (the YAML parser) that quote the input.
pub fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    for (i, part) in message.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(&clip(part));
        } else {
            out.push_str(part);
        }
        if out.len() > 8 * MAX_ECHO {
            out.push('…');
            break;
        }
    }
    out
}

/// Thousands separators: `4,499,998`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_long_values_and_control_characters() {
        assert_eq!(clip("short"), "short");
        let long = "x".repeat(10_000);
        let c = clip(&long);
        assert!(
            c.starts_with(&"x".repeat(MAX_ECHO)) && c.ends_with("… (10000 bytes)"),
            "{c}"
        );
        assert_eq!(clip("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        let m = clip_quoted(&format!("unknown variant `{long}`, expected `a`"));
        assert!(m.len() < 200 && m.ends_with("expected `a`"), "{m}");
        assert_eq!(thousands(4_499_998), "4,499,998");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn refuses_special_files_and_large_ones() {
        let e = read_regular(Path::new("/dev/zero"), None).expect_err("device");
        assert!(e.to_string().contains("character device"), "{e}");
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'a'; 2048]).expect("write");
        let e = read_regular(&p, Some(1024)).expect_err("big");
        assert!(e.to_string().contains("1 KiB"), "{e}");
        assert_eq!(read_regular(&p, Some(2048)).expect("fits").len(), 2048);
    }
}
