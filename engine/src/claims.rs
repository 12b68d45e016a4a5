//! Which outs netsec has claimed. A stage deletes its outs before it runs; that is safe for
//! files netsec produced (possibly half-written by a failed or killed run) but not for a file
//! the user put there (raw data declared as an out by mistake). A stage's out paths are
//! claimed the first time it runs; an existing out that is neither claimed, nor recorded in
//! the lock, nor held by the cache is refused instead of deleted.
//!
//! Claims are appended, one line each (`{"outs":[…],"stage":NAME}`, the last line of a stage
//! wins), to `.netsec/state/claims.log`, read once per process ([`Index`]). Each line is
//! written with one `write` that starts with a newline, so a line torn by a kill only loses
//! itself: an unclaimed out is refused, never deleted. A file per stage (the earlier
//! `.netsec/state/claims/<stage hash>.json`, still read) cost an inode allocation per stage.
//! The log is opened with the first claim and kept open for the rest of the process (nothing
//! rewrites it), so the first run of 10,000 stages opens it once, not 10,000 times.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::repo_path::RepoPath;
use crate::workspace::Repo;

/// Caps on the claims read back: the log holds one line per stage (about 100 bytes plus its
/// out paths), so 64 MiB is hundreds of thousands of stages; a legacy file is one stage's.
const MAX_LOG_BYTES: u64 = 64 << 20;
const MAX_LEGACY_BYTES: u64 = 4 << 20;

fn legacy_path(repo: &Repo, stage: &str) -> PathBuf {
    repo.stage_state("claims", stage)
}

fn log_path(repo: &Repo) -> PathBuf {
    repo.dot.join("state").join("claims.log")
}

#[derive(Serialize, Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    stage: std::borrow::Cow<'a, str>,
    outs: BTreeSet<RepoPath>,
}

/// The claims log as this process knows it: read on first use, kept up to date by [`claim`],
/// and the log opened for appending by the first claim.
#[derive(Debug, Default)]
pub struct Index(
    Mutex<Option<BTreeMap<String, BTreeSet<RepoPath>>>>,
    Mutex<Option<std::fs::File>>,
);

fn load(repo: &Repo) -> BTreeMap<String, BTreeSet<RepoPath>> {
    let mut map = BTreeMap::new();
    // A log that is not a regular file or beyond the cap reads as no claims: outs that exist
    // are then refused, never deleted.
    let Ok(bytes) = netsec_common::read_regular(&log_path(repo), Some(MAX_LOG_BYTES)) else {
        return map;
    };
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(l) = serde_json::from_slice::<Line<'_>>(line) {
            map.insert(l.stage.into_owned(), l.outs);
        }
    }
    map
}

/// The outs `stage` has claimed before.
pub fn claimed(repo: &Repo, stage: &str) -> BTreeSet<RepoPath> {
    let known = repo
        .claims
        .0
        .lock()
        .ok()
        .and_then(|mut g| g.get_or_insert_with(|| load(repo)).get(stage).cloned());
    known.unwrap_or_else(|| {
        netsec_common::read_regular(&legacy_path(repo, stage), Some(MAX_LEGACY_BYTES))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    })
}

/// Claim `outs` for `stage` (before it runs for the first time).
pub fn claim(repo: &Repo, stage: &str, outs: &BTreeSet<RepoPath>) -> std::io::Result<()> {
    let line = Line {
        stage: stage.into(),
        outs: outs.clone(),
    };
    let mut bytes = vec![b'\n'];
    bytes.extend(netsec_common::canonical::to_vec(&line).map_err(std::io::Error::other)?);
    {
        let mut open = repo
            .claims
            .1
            .lock()
            .map_err(|_| std::io::Error::other("the claims log's lock is poisoned"))?;
        let file = match open.take() {
            Some(f) => f,
            None => {
                let p = log_path(repo);
                let mut opts = std::fs::OpenOptions::new();
                opts.create(true).append(true);
                crate::parent_dir::retry_with_parent(&p, || opts.open(&p))?
            }
        };
        // A failed write closes the log: the next claim opens it again.
        (&file).write_all(&bytes)?;
        *open = Some(file);
    }
    if let Ok(mut g) = repo.claims.0.lock() {
        g.get_or_insert_with(|| load(repo))
            .insert(stage.to_string(), outs.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(root: &std::path::Path) -> Repo {
        crate::test_repo::one_stage_repo(root)
    }

    fn outs(p: &str) -> BTreeSet<RepoPath> {
        [RepoPath::parse(p).expect("path")].into_iter().collect()
    }

    #[test]
    fn claims_survive_a_torn_line_and_are_read_by_the_next_process() {
        let t = tempfile::tempdir().expect("tempdir");
        let repo = open(t.path());
        claim(&repo, "a", &outs("a.txt")).expect("claim a");
        // A kill tore the next line; the claim after it is whole.
        let log = log_path(&repo);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("log");
        f.write_all(b"\n{\"outs\":[\"b.t").expect("torn");
        claim(&repo, "c", &outs("c.txt")).expect("claim c");
        claim(&repo, "a", &outs("a2.txt")).expect("claim a again");
        drop(repo);
        let next = open(t.path());
        assert_eq!(claimed(&next, "a"), outs("a2.txt"));
        assert_eq!(claimed(&next, "c"), outs("c.txt"));
        assert!(claimed(&next, "b").is_empty());
        // A claim in the earlier per-stage file is still honoured.
        let legacy = legacy_path(&next, "d");
        std::fs::create_dir_all(legacy.parent().expect("dir")).expect("mkdir");
        std::fs::write(&legacy, b"[\"d.txt\"]").expect("legacy");
        assert_eq!(claimed(&next, "d"), outs("d.txt"));
    }

    #[test]
    fn a_claims_log_that_is_not_a_regular_file_reads_as_no_claims_without_blocking() {
        let t = tempfile::tempdir().expect("tempdir");
        let repo = open(t.path());
        let log = log_path(&repo);
        // A FIFO would block a plain read forever; /dev/zero would fill memory.
        crate::test_repo::mkfifo(&log);
        assert!(claimed(&repo, "a").is_empty());
        std::fs::remove_file(&log).expect("rm fifo");
        std::os::unix::fs::symlink("/dev/zero", &log).expect("symlink");
        let next = open(t.path());
        assert!(claimed(&next, "a").is_empty());
    }
}
