//! Facts read from git, when the repository is a git work tree (`None` otherwise).

use std::path::Path;
use std::process::{Command, Stdio};

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// `git rev-parse HEAD`.
pub fn commit(root: &Path) -> Option<String> {
    git(root, &["rev-parse", "HEAD"])
}

/// The commit time (Unix seconds) of the last commit that changed `rel`, when `rel` is tracked,
/// unmodified in the work tree, and the history is complete (a shallow clone would name the
/// graft instead of the real commit, so it gives `None`).
pub fn last_change_time(root: &Path, rel: &str) -> Option<i64> {
    if git(root, &["rev-parse", "--is-shallow-repository"]).as_deref() != Some("false") {
        return None;
    }
    let status = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["status", "--porcelain", "--", rel])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !status.status.success() || !status.stdout.is_empty() {
        return None;
    }
    git(root, &["log", "-1", "--format=%ct", "--", rel])?
        .parse()
        .ok()
}
