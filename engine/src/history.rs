//! The locks of a scope of git history, for `gc`: the workspace's `netsec.lock`, and the one
//! committed in every branch head (`-a`), tag (`-T`) or commit (`-A`). Read with one
//! `git cat-file --batch` process whatever the number of revisions; identical blobs are parsed
//! once.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;
use crate::lock::{Lockfile, LOCK_FILE};

/// Which locks `gc` keeps the objects of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    pub workspace: bool,
    pub all_branches: bool,
    pub all_tags: bool,
    pub all_commits: bool,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        !(self.workspace || self.all_branches || self.all_tags || self.all_commits)
    }

    fn needs_git(&self) -> bool {
        self.all_branches || self.all_tags || self.all_commits
    }
}

fn git_error(what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Usage {
        message: format!("cannot read the git history for gc: {what}: {detail}"),
        hint: Some("-a, -T and -A need a git repository (and git on PATH); -w does not".into()),
    }
}

fn git(root: &Path, args: &[&str]) -> Result<String, Error> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| git_error(&format!("git {}", args.join(" ")), e))?;
    if !out.status.success() {
        return Err(git_error(
            &format!("git {}", args.join(" ")),
            String::from_utf8_lossy(&out.stderr).trim(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The revisions (commit ids) the scope names.
fn revisions(root: &Path, scope: Scope) -> Result<BTreeSet<String>, Error> {
    let mut revs = BTreeSet::new();
    let mut add = |text: String| {
        revs.extend(
            text.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty()),
        )
    };
    if scope.all_commits {
        add(git(root, &["rev-list", "--all"])?);
    }
    if scope.all_branches {
        add(git(
            root,
            &["for-each-ref", "--format=%(objectname)", "refs/heads"],
        )?);
    }
    if scope.all_tags {
        add(git(
            root,
            &[
                "for-each-ref",
                "--format=%(objectname)^{commit}",
                "refs/tags",
            ],
        )?);
    }
    Ok(revs)
}

/// Every lock of the scope (the workspace's first, when asked for).
pub fn locks(root: &Path, scope: Scope) -> Result<Vec<Lockfile>, Error> {
    let mut out = Vec::new();
    if scope.workspace {
        out.push(Lockfile::load(root)?);
    }
    if !scope.needs_git() {
        return Ok(out);
    }
    let prefix = git(root, &["rev-parse", "--show-prefix"])?
        .trim()
        .to_string();
    let revs = revisions(root, scope)?;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| git_error("git cat-file --batch", e))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| git_error("git cat-file", "no stdin"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| git_error("git cat-file", "no stdout"))?;
    // Feed the requests from a thread while this one reads the answers (pipes are finite).
    let requests: Vec<String> = revs
        .iter()
        .map(|r| format!("{r}:{prefix}{LOCK_FILE}\n"))
        .collect();
    let feeder = std::thread::spawn(move || {
        for r in requests {
            if stdin.write_all(r.as_bytes()).is_err() {
                break;
            }
        }
    });
    let mut reader = BufReader::new(stdout);
    let mut seen = BTreeSet::new();
    for rev in &revs {
        let mut header = String::new();
        if reader
            .read_line(&mut header)
            .map_err(|e| git_error("git cat-file", e))?
            == 0
        {
            break;
        }
        let mut fields = header.split_whitespace();
        let (Some(sha), Some(kind), Some(size)) = (fields.next(), fields.next(), fields.next())
        else {
            continue; // "<request> missing": no lock in that revision
        };
        let size: usize = size.parse().map_err(|e| git_error("git cat-file", e))?;
        let mut body = vec![0u8; size + 1]; // content and its trailing newline
        reader
            .read_exact(&mut body)
            .map_err(|e| git_error("git cat-file", e))?;
        if kind != "blob" || !seen.insert(sha.to_string()) {
            continue;
        }
        let text = String::from_utf8_lossy(&body[..size]);
        let label = PathBuf::from(format!("{rev}:{prefix}{LOCK_FILE}"));
        out.push(Lockfile::parse(&text, label)?);
    }
    let _ = feeder.join();
    let _ = child.wait();
    Ok(out)
}
