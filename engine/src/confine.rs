//! Keeping netsec's writes inside the workspace. Paths are normalised and relative
//! (`RepoPath`), but a symlink on the way (`outs = ["link/x"]` with `link -> /etc`) would still
//! lead a delete, a restore or a cache insert outside. Every out, `wdir` and restore target is
//! checked component by component without following links past the workspace.

use std::collections::HashSet;
use std::io;
use std::path::Path;

use crate::repo_path::RepoPath;

/// Err when a component of `rel` under `root` (canonical) is a symlink whose target is outside
/// the workspace, inside `.git` or `.netsec`, or dangling. Components that do not exist yet
/// are fine (they will be created as plain directories and files).
pub fn check_inside(root: &Path, rel: &RepoPath) -> io::Result<()> {
    check_inside_with(root, rel, &mut HashSet::new())
}

/// [`check_inside`] for many paths: `passed` holds the prefixes already found safe (a directory
/// shared by 10,000 outs is looked at once).
pub fn check_inside_with(
    root: &Path,
    rel: &RepoPath,
    passed: &mut HashSet<String>,
) -> io::Result<()> {
    let mut cur = root.to_path_buf();
    let mut seen = String::new();
    for comp in rel.as_str().split('/').filter(|c| !c.is_empty()) {
        cur.push(comp);
        if !seen.is_empty() {
            seen.push('/');
        }
        seen.push_str(comp);
        if passed.contains(&seen) {
            continue;
        }
        let meta = match std::fs::symlink_metadata(&cur) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if !meta.file_type().is_symlink() {
            passed.insert(seen.clone());
            continue;
        }
        let escape = |why: &str| {
            io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("`{seen}` is a symlink {why}; netsec never writes through it"),
            )
        };
        let target = std::fs::canonicalize(&cur).map_err(|_| escape("whose target is missing"))?;
        let inside = target
            .strip_prefix(root)
            .ok()
            .and_then(|r| RepoPath::parse(&r.to_string_lossy()).ok());
        match inside {
            Some(p) if p.reserved().is_none() => {
                passed.insert(seen.clone());
            }
            Some(_) => return Err(escape("into `.git`, `.netsec` or netsec's own files")),
            None => {
                return Err(escape(&format!(
                    "leading outside the workspace (to `{}`)",
                    target.display()
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_out_of_the_workspace_are_refused() {
        let ws = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(ws.path()).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        std::fs::create_dir(root.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("real"), root.join("inner")).unwrap();
        let p = |s: &str| RepoPath::parse(s).unwrap();
        let e = check_inside(&root, &p("out/file.txt")).unwrap_err();
        assert!(
            e.to_string().contains("`out` is a symlink leading outside"),
            "{e}"
        );
        check_inside(&root, &p("inner/file.txt")).unwrap();
        check_inside(&root, &p("new/dir/file.txt")).unwrap();
        std::os::unix::fs::symlink(root.join(".netsec"), root.join("sneaky")).unwrap();
        std::fs::create_dir(root.join(".netsec")).unwrap();
        assert!(check_inside(&root, &p("sneaky")).is_err());
        // With a memo of safe prefixes: a refused link is never remembered as safe.
        let mut passed = HashSet::new();
        check_inside_with(&root, &p("inner/a"), &mut passed).unwrap();
        assert!(passed.contains("inner"));
        assert!(check_inside_with(&root, &p("out/x"), &mut passed).is_err());
        assert!(check_inside_with(&root, &p("out/y"), &mut passed).is_err());
        assert!(!passed.contains("out"));
    }
}
