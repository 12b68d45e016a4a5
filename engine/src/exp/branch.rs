//! `exp branch NAME BRANCH`: a git branch whose one new commit, on the experiment's base,
//! holds its params (the overrides applied to the base's files), its `netsec.lock` and its
//! uncached metric outs. Built with a temporary index: the user's work tree, index and
//! current branch are not touched.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::Error;
use crate::exp::record::ExpRecord;
use crate::params_edit::Override;
use crate::run_cache;
use crate::workspace::Repo;

fn git(
    root: &Path,
    index: Option<&Path>,
    args: &[&str],
    input: Option<&[u8]>,
) -> Result<String, Error> {
    let mut c = Command::new("git");
    c.arg("-C").arg(root).args(args);
    if let Some(i) = index {
        c.env("GIT_INDEX_FILE", i);
    }
    c.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let fail = |m: String| Error::Usage {
        message: format!("git {}: {m}", args.join(" ")),
        hint: None,
    };
    let mut child = c.spawn().map_err(|e| fail(e.to_string()))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write;
        stdin.write_all(bytes).map_err(|e| fail(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Create `branch` for experiment `rec`; returns the new commit id.
pub fn create(repo: &Repo, rec: &ExpRecord, branch: &str) -> Result<String, Error> {
    let root = &repo.root;
    let base = rec.base.as_deref().ok_or_else(|| Error::Usage {
        message: format!("experiment `{}` has no base commit", rec.name),
        hint: None,
    })?;
    let lock = rec.lockfile()?.ok_or_else(|| Error::Usage {
        message: format!("experiment `{}` has no recorded lock", rec.name),
        hint: Some("only a finished experiment can be branched".into()),
    })?;
    git(root, None, &["check-ref-format", "--branch", branch], None)?;
    if git(
        root,
        None,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ],
        None,
    )
    .is_ok()
    {
        return Err(Error::Usage {
            message: format!("branch `{branch}` already exists"),
            hint: Some("choose another name".into()),
        });
    }
    // The params files at the base, edited in a scratch directory.
    let scratch = tempfile::tempdir().map_err(|e| Error::io("create", std::env::temp_dir(), e))?;
    let overrides = rec.overrides()?;
    let mut files: Vec<String> = overrides
        .iter()
        .map(|o| {
            o.key
                .file
                .as_ref()
                .map_or_else(|| crate::workspace::MANIFEST.to_string(), |f| f.to_string())
        })
        .collect();
    files.sort();
    files.dedup();
    for f in &files {
        let out = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["show", &format!("{base}:{f}")])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::io("run git in", root, e))?;
        if !out.status.success() {
            return Err(Error::Usage {
                message: format!("`{f}` is not in the experiment's base commit {base}"),
                hint: None,
            });
        }
        let dest = scratch.path().join(f);
        if let Some(d) = dest.parent() {
            std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
        }
        std::fs::write(&dest, &out.stdout).map_err(|e| Error::io("write", &dest, e))?;
    }
    let plan = crate::params_edit::plan(scratch.path(), &overrides)?;
    let index = scratch.path().join(".netsec-index");
    git(root, Some(&index), &["read-tree", base], None)?;
    let add = |path: &str, bytes: &[u8]| -> Result<(), Error> {
        let blob = git(root, None, &["hash-object", "-w", "--stdin"], Some(bytes))?;
        git(
            root,
            Some(&index),
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("100644,{blob},{path}"),
            ],
            None,
        )?;
        Ok(())
    };
    for (abs, text) in &plan.files {
        let rel = abs
            .strip_prefix(scratch.path())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        add(&rel, text.as_bytes())?;
    }
    add(crate::lock::LOCK_FILE, lock.to_text().as_bytes())?;
    for entry in lock.stages.values() {
        let uncached: Vec<_> = entry.outs.iter().filter(|(_, o)| !o.cache).collect();
        if uncached.is_empty() {
            continue;
        }
        if let Some(run) = run_cache::lookup(repo, &entry.fingerprint) {
            for (path, _) in uncached {
                if let Some(text) = run.inline.get(path) {
                    add(path.as_str(), text.as_bytes())?;
                }
            }
        }
    }
    let tree = git(root, Some(&index), &["write-tree"], None)?;
    let shown: Vec<String> = overrides.iter().map(Override::display).collect();
    let message = format!("Experiment {}: {}", rec.name, shown.join(" "));
    let commit = git(
        root,
        None,
        &["commit-tree", &tree, "-p", base, "-m", &message],
        None,
    )?;
    git(root, None, &["branch", branch, &commit], None)?;
    Ok(commit)
}
