//! Cached outs are kept out of git: each directory holding one gets a block in its
//! `.gitignore` that netsec owns, one anchored line per out (`/prepared.csv`), like DVC. The
//! block is rewritten to match the pipeline after every command that records outs (`repro`,
//! `commit`, `add`): an out gone from pipeline.toml leaves its block, and a block left empty is
//! removed (with the file, when netsec created it and nothing else is in it). `cache = false`
//! outs are not ignored: git tracks them. Lines outside the block are never touched.
//!
//! Only inside a git work tree (a `.git` at the root or above). The directories that hold a
//! block are remembered in `.netsec/state/gitignores` so a block whose last out left the
//! pipeline is still found.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::Path;

use crate::lock::Lockfile;
use crate::repo_path::RepoPath;
use crate::workspace::Repo;
use netsec_common::atomic::{write_atomic, Durability};

const BEGIN: &str = "# >>> netsec: cached outs (managed by netsec; edit pipeline.toml instead)";
const END: &str = "# <<< netsec";
/// Largest `.gitignore` netsec edits (anything bigger is left alone, with a warning).
const MAX_BYTES: u64 = 4 << 20;

/// Rewrite the netsec blocks so they list exactly `outs` (the cached outs the pipeline has
/// recorded). Best effort per directory: a `.gitignore` that cannot be edited is reported,
/// never fatal to the command that produced the outs.
pub fn sync<'a>(repo: &Repo, outs: impl IntoIterator<Item = &'a RepoPath>) -> Vec<String> {
    if !in_git_work_tree(&repo.root) {
        return Vec::new();
    }
    let mut wanted: BTreeMap<RepoPath, BTreeSet<String>> = BTreeMap::new();
    for out in outs {
        let (dir, name) = split(out);
        wanted.entry(dir).or_default().insert(pattern(name));
    }
    let record = repo.dot.join("state").join("gitignores");
    let mut dirs: BTreeSet<RepoPath> = read_record(&record);
    dirs.extend(wanted.keys().cloned());
    let mut warnings = Vec::new();
    let mut kept = BTreeSet::new();
    for dir in dirs {
        let lines = wanted.get(&dir).cloned().unwrap_or_default();
        match rewrite(repo, &dir, &lines) {
            Ok(()) if !lines.is_empty() => {
                kept.insert(dir);
            }
            Ok(()) => {}
            Err(e) => {
                warnings.push(format!("cannot update `{}`: {e}", file_of(&dir)));
                kept.insert(dir);
            }
        }
    }
    let text: String = kept.iter().map(|d| format!("{}\n", d.as_str())).collect();
    if read_record(&record) != kept {
        if let Some(parent) = record.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Err(e) = write_atomic(&record, text.as_bytes(), Durability::NoFsync) {
            tracing::debug!("cannot record the .gitignore blocks: {e}");
        }
    }
    warnings
}

/// [`sync`] with the cached outs of every pipeline stage the lock has recorded and the data
/// sources of `netsec add`; problems are logged as warnings.
pub fn sync_recorded(repo: &Repo, lock: &Lockfile) {
    for w in sync(repo, recorded(repo, lock)) {
        tracing::warn!("{w}");
    }
}

/// The paths [`sync_recorded`] keeps out of git: cached outs of recorded stages, and sources.
fn recorded<'a>(repo: &'a Repo, lock: &'a Lockfile) -> impl Iterator<Item = &'a RepoPath> {
    repo.pipeline
        .stages
        .values()
        .filter(|s| lock.stages.contains_key(&s.name))
        .flat_map(|s| s.outs.iter().filter(|o| o.cache).map(|o| &o.path))
        .chain(lock.sources.keys())
}

/// Every file [`sync_recorded`] reads or may write (the record and each `.gitignore` it keeps),
/// relative to the root; empty outside a git work tree. Their stamps vouch that a sync would
/// change nothing (the fresh seal).
pub fn files_synced(repo: &Repo, lock: &Lockfile) -> Vec<String> {
    if !in_git_work_tree(&repo.root) {
        return Vec::new();
    }
    let record = repo.dot.join("state").join("gitignores");
    let mut dirs = read_record(&record);
    dirs.extend(recorded(repo, lock).map(|o| split(o).0));
    let mut files: Vec<String> = dirs.iter().map(file_of).collect();
    files.push(format!("{}/state/gitignores", crate::workspace::DOT_DIR));
    files
}

fn in_git_work_tree(root: &Path) -> bool {
    root.ancestors().any(|a| a.join(".git").exists())
}

/// The directory holding `out` and the out's name in it.
fn split(out: &RepoPath) -> (RepoPath, &str) {
    match out.as_str().rsplit_once('/') {
        Some((dir, name)) => (
            RepoPath::parse(dir).unwrap_or_else(|_| RepoPath::root()),
            name,
        ),
        None => (RepoPath::root(), out.as_str()),
    }
}

fn file_of(dir: &RepoPath) -> String {
    if dir.is_root() {
        ".gitignore".into()
    } else {
        format!("{}/.gitignore", dir.as_str())
    }
}

/// An anchored pattern matching exactly `name` (gitignore's special characters escaped).
fn pattern(name: &str) -> String {
    let mut p = String::with_capacity(name.len() + 2);
    p.push('/');
    for c in name.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#' | ' ') {
            p.push('\\');
        }
        p.push(c);
    }
    p
}

fn read_record(path: &Path) -> BTreeSet<RepoPath> {
    let text = netsec_common::read_regular_string(path, Some(MAX_BYTES)).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            if l.is_empty() {
                Some(RepoPath::root())
            } else {
                RepoPath::parse(l).ok().filter(|p| p.reserved().is_none())
            }
        })
        .collect()
}

/// Put `lines` in `dir/.gitignore`'s netsec block (no block when empty).
fn rewrite(repo: &Repo, dir: &RepoPath, lines: &BTreeSet<String>) -> io::Result<()> {
    let rel = RepoPath::parse(&file_of(dir)).map_err(io::Error::other)?;
    crate::confine::check_inside(&repo.root, &rel)?;
    let path = rel.to_path(&repo.root);
    let old = match netsec_common::read_regular_string(&path, Some(MAX_BYTES)) {
        Ok(t) => t,
        Err(e) if e.is_not_found() => String::new(),
        Err(e) => return Err(io::Error::other(e.to_string())),
    };
    let new = with_block(&old, lines);
    if new == old {
        return Ok(());
    }
    if new.is_empty() {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    if !dir.is_root() && !dir.to_path(&repo.root).is_dir() {
        return Ok(()); // the outs' directory is gone: nothing to ignore there
    }
    write_atomic(&path, new.as_bytes(), Durability::NoFsync)
}

/// `text` with its netsec block (if any) replaced by one listing `lines`, appended at the end
/// when there was none. Everything outside the block is kept byte for byte.
fn with_block(text: &str, lines: &BTreeSet<String>) -> String {
    let mut before = String::new();
    let mut after = String::new();
    let mut state = 0; // 0 before the block, 1 inside, 2 after
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        match state {
            0 if bare == BEGIN => state = 1,
            0 => before.push_str(line),
            1 if bare == END => state = 2,
            1 => {}
            _ => after.push_str(line),
        }
    }
    let mut out = before;
    if !lines.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(BEGIN);
        out.push('\n');
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(END);
        out.push('\n');
    }
    out.push_str(&after);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_replaced_in_place_and_removed_when_empty() {
        let lines: BTreeSet<String> = ["/a.csv".to_string(), "/models".to_string()].into();
        let once = with_block("*.log\n", &lines);
        assert_eq!(once, format!("*.log\n{BEGIN}\n/a.csv\n/models\n{END}\n"));
        assert_eq!(with_block(&once, &lines), once);
        let user_after = format!("{once}/mine\n");
        let fewer: BTreeSet<String> = ["/a.csv".to_string()].into();
        assert_eq!(
            with_block(&user_after, &fewer),
            format!("*.log\n{BEGIN}\n/a.csv\n{END}\n/mine\n")
        );
        assert_eq!(with_block(&user_after, &BTreeSet::new()), "*.log\n/mine\n");
        assert_eq!(with_block(&with_block("", &lines), &BTreeSet::new()), "");
        assert_eq!(
            with_block("x", &fewer),
            format!("x\n{BEGIN}\n/a.csv\n{END}\n")
        );
    }

    #[test]
    fn patterns_are_anchored_and_escaped() {
        assert_eq!(pattern("a.csv"), "/a.csv");
        assert_eq!(pattern("#x [1]*"), "/\\#x\\ \\[1\\]\\*");
        let nested = RepoPath::parse("data/raw/x.csv").unwrap();
        let (dir, name) = split(&nested);
        assert_eq!((dir.as_str(), name), ("data/raw", "x.csv"));
        let top = RepoPath::parse("x.csv").unwrap();
        let (dir, name) = split(&top);
        assert!(dir.is_root() && name == "x.csv");
    }
}
