//! Atomic file writes: a temp file in the target directory, then a rename.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Result, StageError};

/// Writes `bytes` to `path` so that readers see either the old or the whole new file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| StageError::write(dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        // No fsync: a killed process can only leave the temp file behind, and the engine stages
        // every built-in's outs and renames them into place itself; fsync per artifact would
        // cost more than the stage's whole computation.
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(StageError::write(path, e));
    }
    Ok(())
}

/// Serializes `value` as pretty JSON (with a final newline) and writes it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| StageError::Artifact {
        path: path.to_path_buf(),
        message: format!("cannot serialize: {e}"),
    })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
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
}
