//! Artifact I/O: atomic writes (through `netsec_common::atomic`) with this crate's error
//! mapping, and every JSON artifact in canonical form (keys sorted at every depth), so the bytes
//! never depend on serde_json's `preserve_order` feature.

use std::path::Path;

use netsec_common::atomic::Durability;
use serde::Serialize;

use crate::error::{Result, StageError};

/// Writes `bytes` to `path` so that readers see either the old or the whole new file; creates
/// the parent directory. No fsync: the engine stages every built-in's outs and renames them
/// into place itself, and an fsync per artifact would cost more than most stages' computation.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StageError::write(dir, e))?;
    }
    netsec_common::write_atomic(path, bytes, Durability::NoFsync)
        .map_err(|e| StageError::write(path, e))
}

/// Like [`write_atomic`], with the content streamed by `fill` into the temp file (no whole-file
/// buffer in memory).
pub fn write_atomic_with<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
{
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StageError::write(dir, e))?;
    }
    netsec_common::atomic::write_atomic_with(path, Durability::NoFsync, fill)
        .map_err(|e| StageError::write(path, e))
}

fn cannot_serialize(path: &Path, e: serde_json::Error) -> StageError {
    StageError::Artifact {
        path: path.to_path_buf(),
        message: format!("cannot serialize: {e}"),
    }
}

/// Serializes `value` as pretty canonical JSON (with a final newline) and writes it atomically.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let bytes =
        netsec_common::canonical::to_vec_pretty(value).map_err(|e| cannot_serialize(path, e))?;
    write_atomic(path, &bytes)
}

/// Compact canonical JSON (one line and a final newline) for large artifacts: a 100-tree
/// forest is megabytes, and pretty-printing would put every number on its own line.
pub fn write_compact_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let mut bytes =
        netsec_common::canonical::to_vec(value).map_err(|e| cannot_serialize(path, e))?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads and deserializes a JSON file.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| StageError::read(path, e))?;
    serde_json::from_str(&text).map_err(|e| StageError::Artifact {
        path: path.to_path_buf(),
        message: format!("line {}: {e}", e.line()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_and_leave_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/a.json");
        write_json(&p, &vec![1, 2]).expect("write");
        write_json(&p, &vec![3]).expect("rewrite");
        let back: Vec<i32> = read_json(&p).expect("read");
        assert_eq!(back, vec![3]);
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .expect("ls")
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn json_artifacts_are_canonical() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("m.json");
        let mut m = serde_json::Map::new();
        m.insert("b".into(), serde_json::json!({"z": 1, "a": [0.5]}));
        m.insert("a".into(), serde_json::json!(null));
        write_json(&p, &m).expect("write");
        assert_eq!(
            std::fs::read_to_string(&p).expect("read"),
            "{\n  \"a\": null,\n  \"b\": {\n    \"a\": [\n      0.5\n    ],\n    \"z\": 1\n  }\n}\n"
        );
        write_compact_json(&p, &m).expect("compact");
        assert_eq!(
            std::fs::read_to_string(&p).expect("read"),
            "{\"a\":null,\"b\":{\"a\":[0.5],\"z\":1}}\n"
        );
    }
}
