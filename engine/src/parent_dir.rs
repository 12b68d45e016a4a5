//! Writing into a directory that usually exists: try first, make the directory only when the
//! attempt says it is missing. The common case costs no `mkdir` or `stat`.

use std::io;
use std::path::Path;

/// Runs `op` on `path`; when it fails with `NotFound`, creates `path`'s parent directory and
/// runs `op` once more.
pub fn retry_with_parent<T>(path: &Path, mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    match op() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            op()
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_the_missing_parent_once_and_leaves_other_errors_alone() {
        let t = tempfile::tempdir().expect("tempdir");
        let p = t.path().join("a/b/c.txt");
        let mut tries = 0;
        retry_with_parent(&p, || {
            tries += 1;
            std::fs::write(&p, b"x")
        })
        .expect("written");
        assert_eq!(
            (tries, std::fs::read(&p).expect("read")),
            (2, b"x".to_vec())
        );
        let mut tries = 0;
        retry_with_parent(&p, || {
            tries += 1;
            std::fs::write(&p, b"y")
        })
        .expect("written");
        assert_eq!(tries, 1);
        let e = retry_with_parent(&p.join("under-a-file"), || {
            std::fs::write(p.join("under-a-file"), b"z")
        });
        assert!(e.is_err());
    }
}
