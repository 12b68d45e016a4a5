//! The isolated workspace of a queued experiment: `.netsec/exps/ws/NAME-ATTEMPT/`, holding
//! the repository's tracked files at the base commit (`git archive`), the overrides applied,
//! and a `.netsec/cache` that is a link to the repository's cache. Its `repro` therefore shares
//! objects and run-cache entries with the user's workspace and with every other experiment,
//! while its outs, lock and state are its own. The data tracked with `netsec add` (not in git)
//! is restored into it from the cache. Removed when the experiment ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cache::Cache;
use crate::error::Error;
use crate::exp::record::{ExpRecord, Store};
use crate::lock::Lockfile;
use crate::memo::Memo;
use crate::params_edit::Plan;

/// Create the workspace of `rec` (its previous attempt's is removed first).
pub fn prepare(root: &Path, dot: &Path, store: &Store, rec: &ExpRecord) -> Result<PathBuf, Error> {
    let base = rec.base.as_deref().ok_or_else(|| Error::Usage {
        message: format!("experiment `{}` has no base commit", rec.name),
        hint: Some("queued experiments need a git repository with a commit".into()),
    })?;
    if !base.bytes().all(|b| b.is_ascii_hexdigit()) || base.len() < 7 {
        return Err(Error::Usage {
            message: format!("experiment `{}`: `{base}` is not a commit id", rec.name),
            hint: None,
        });
    }
    let ws = store
        .dir
        .join("ws")
        .join(format!("{}-{}", rec.name, rec.attempts));
    let _ = crate::restore::remove_path(&ws);
    std::fs::create_dir_all(&ws).map_err(|e| Error::io("create", &ws, e))?;
    extract(root, base, &ws)?;
    // Shared cache: objects and run-cache entries are written by temp file + rename, so
    // several processes may add the same object at once; the file lock of `run_lock` makes
    // them compute one fingerprint once.
    let cache = dot.join("cache");
    std::fs::create_dir_all(&cache).map_err(|e| Error::io("create", &cache, e))?;
    let ws_dot = ws.join(crate::workspace::DOT_DIR);
    let _ = crate::restore::remove_path(&ws_dot);
    std::fs::create_dir_all(&ws_dot).map_err(|e| Error::io("create", &ws_dot, e))?;
    std::os::unix::fs::symlink(&cache, ws_dot.join("cache"))
        .map_err(|e| Error::io("link", ws_dot.join("cache"), e))?;
    restore_sources(root, &ws)?;
    let overrides = rec.overrides()?;
    let plan: Plan = crate::params_edit::plan(&ws, &overrides)?;
    plan.write()?;
    Ok(ws)
}

/// Put the data tracked with `netsec add` into the workspace: git carries their records
/// (`sources` of netsec.lock), not their content. The base commit's lock decides; a source
/// only the user's workspace lock records (added, not yet committed) is restored from it too,
/// so a queued experiment sees the data its pipeline depends on. Paths that `git archive`
/// wrote are left alone. Every path was validated by the lock parser, and is checked once more
/// against symlinks the archive may hold.
fn restore_sources(root: &Path, ws: &Path) -> Result<(), Error> {
    let mut sources = Lockfile::load(ws)?.sources;
    // Best effort: the base commit's lock is what counts; a workspace lock that cannot be
    // read only adds nothing.
    for (path, rec) in Lockfile::load(root).unwrap_or_default().sources {
        sources.entry(path).or_insert(rec);
    }
    if sources.is_empty() {
        return Ok(());
    }
    let cache = Cache::new(&ws.join(crate::workspace::DOT_DIR));
    let memo = Memo::ephemeral();
    for (path, rec) in &sources {
        let dest = path.to_path(ws);
        if std::fs::symlink_metadata(&dest).is_ok() {
            continue;
        }
        crate::confine::check_inside(ws, path).map_err(|e| Error::io("restore", &dest, e))?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        crate::restore::materialise_record(&cache, &memo, rec, &dest).map_err(|e| {
            Error::io(
                "restore",
                &dest,
                std::io::Error::new(
                    e.kind(),
                    format!("{e} (data tracked with `netsec add`; `netsec pull` fetches it)"),
                ),
            )
        })?;
    }
    Ok(())
}

/// `git archive BASE | tar -x -C ws`.
fn extract(root: &Path, base: &str, ws: &Path) -> Result<(), Error> {
    let fail = |what: String| Error::io("extract", ws, std::io::Error::other(what));
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["archive", "--format=tar", base])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run git: {e}")))?;
    let out = archive
        .stdout
        .take()
        .ok_or_else(|| fail("no pipe".into()))?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(ws)
        .stdin(out)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| fail(format!("cannot run tar: {e}")))?;
    let git = archive
        .wait_with_output()
        .map_err(|e| fail(format!("git archive: {e}")))?;
    if !git.status.success() {
        return Err(fail(format!(
            "git archive {base}: {}",
            String::from_utf8_lossy(&git.stderr).trim()
        )));
    }
    if !tar.status.success() {
        return Err(fail(format!(
            "tar: {}",
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    Ok(())
}

/// Remove an experiment's workspace (best effort: a leftover is removed by the next attempt
/// or by `exp remove`).
pub fn cleanup(ws: &Path) {
    let _ = crate::restore::remove_path(ws);
}
