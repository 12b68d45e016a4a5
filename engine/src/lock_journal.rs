//! The lock journal, `.netsec/state/lock-journal`: the lock entries `repro` recorded since the
//! lock was last written, one line each, so recording a stage costs the size of its entry
//! rather than a rewrite of the whole `netsec.lock`.
//!
//! Each line is `{"entry":…,"stage":NAME}` in compact canonical JSON, appended with one
//! `write` after the stage's outs are in place, hashed and cached. The run folds the journal
//! into `netsec.lock` (one atomic write) when it ends; `Lockfile::load` folds in whatever a
//! killed run left, so a stage finished before a kill stays fresh and one that did not finish
//! is never recorded. A line that was cut short (it does not end in a newline or does not
//! parse) ends the journal: what follows is ignored, so a torn write only loses entries,
//! which makes stages dirty, never wrongly fresh.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lock::LockEntry;

/// Where the journal lives, under the repository root.
pub fn path(root: &Path) -> PathBuf {
    root.join(".netsec").join("state").join("lock-journal")
}

#[derive(Serialize)]
struct LineOut<'a> {
    stage: &'a str,
    entry: &'a LockEntry,
}

#[derive(Deserialize)]
struct LineIn {
    stage: String,
    entry: LockEntry,
}

/// An open journal of one `repro`, appended to under its schedule's lock (one writer at a time).
#[derive(Debug)]
pub struct Journal {
    file: File,
}

impl Journal {
    /// Open (creating) the journal of the repository at `root` for appending, first cutting
    /// off a line a killed run left unfinished (the caller holds the repository lock).
    pub fn open(root: &Path) -> io::Result<Journal> {
        let p = path(root);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&p)?;
        let (_, good) = read_prefix(root)?;
        if file.metadata()?.len() > good {
            file.set_len(good)?;
        }
        Ok(Journal { file })
    }

    /// Record `entry` as the lock entry of `stage`: one line, one `write`.
    pub fn append(&mut self, stage: &str, entry: &LockEntry) -> io::Result<()> {
        let mut line = netsec_common::canonical::to_vec(&LineOut { stage, entry })
            .map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }
}

/// The entries of the journal at `root`, in order (a later entry of a stage replaces an
/// earlier one), up to the first line that was cut short. Empty when there is no journal.
pub fn read(root: &Path) -> io::Result<BTreeMap<String, LockEntry>> {
    read_prefix(root).map(|(entries, _)| entries)
}

/// The entries, and the length of the journal's undamaged beginning.
fn read_prefix(root: &Path) -> io::Result<(BTreeMap<String, LockEntry>, u64)> {
    let text = match std::fs::read(path(root)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((BTreeMap::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut entries = BTreeMap::new();
    let mut good = 0;
    while let Some(end) = text[good..].iter().position(|b| *b == b'\n') {
        let Ok(line) = serde_json::from_slice::<LineIn>(&text[good..good + end]) else {
            tracing::warn!("netsec.lock journal: ignoring a damaged line and what follows it");
            break;
        };
        entries.insert(line.stage, line.entry);
        good += end + 1;
    }
    Ok((entries, good as u64))
}

/// Forget the journal (after its entries were written into `netsec.lock`).
pub fn clear(root: &Path) -> io::Result<()> {
    match std::fs::remove_file(path(root)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::Lockfile;

    fn golden() -> (String, Lockfile) {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/netsec.lock.expected");
        let text = std::fs::read_to_string(&p).unwrap();
        let lock = Lockfile::parse(&text, p).unwrap();
        (text, lock)
    }

    #[test]
    fn a_killed_runs_entries_are_folded_in_and_a_torn_line_ends_the_journal() {
        let (text, full) = golden();
        assert!(full.stages.len() >= 2, "the fixture has several stages");
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        // A run killed before its end: no lock yet, every finished stage in the journal, the
        // last line cut short by the kill.
        let mut j = Journal::open(root).unwrap();
        let (last, rest) = full
            .stages
            .iter()
            .collect::<Vec<_>>()
            .split_last()
            .map(|(l, r)| (*l, r.to_vec()))
            .unwrap();
        for (name, entry) in &rest {
            j.append(name, entry).unwrap();
        }
        let mut torn = netsec_common::canonical::to_vec(&LineOut {
            stage: last.0,
            entry: last.1,
        })
        .unwrap();
        torn.truncate(torn.len() / 2);
        j.file.write_all(&torn).unwrap();
        let loaded = Lockfile::load(root).unwrap();
        assert_eq!(loaded.stages.len(), full.stages.len() - 1);
        assert!(
            !loaded.stages.contains_key(last.0),
            "a torn entry is never recorded"
        );

        // The next run cuts the torn line off, finishes the last stage, and writes the lock:
        // the same bytes as a lock written whole, and the journal is gone.
        let mut j = Journal::open(root).unwrap();
        j.append(last.0, last.1).unwrap();
        let folded = Lockfile::load(root).unwrap();
        assert_eq!(folded, full);
        folded.save(root).unwrap();
        assert_eq!(std::fs::read_to_string(Lockfile::path(root)).unwrap(), text);
        assert!(!path(root).exists());
        assert_eq!(Lockfile::load(root).unwrap(), full);
    }

    #[test]
    fn journal_entries_are_checked_like_the_lock() {
        let (_, full) = golden();
        let root = tempfile::tempdir().unwrap();
        let (name, entry) = full.stages.iter().next().unwrap();
        let mut bad = entry.clone();
        let rec = bad.outs.values().next().unwrap().clone();
        bad.outs.insert(
            crate::repo_path::RepoPath::parse(".git/hooks/x").unwrap(),
            rec,
        );
        Journal::open(root.path())
            .unwrap()
            .append(name, &bad)
            .unwrap();
        let err = Lockfile::load(root.path()).unwrap_err();
        assert!(err.to_string().contains("a git directory"), "{err}");
    }
}
