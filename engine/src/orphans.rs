//! Commands that outlived a killed netsec. Each running command's process group is recorded
//! in `.netsec/state/running/` (pgid and the leader's start time) and the record removed when
//! it ends. A `kill -9` of netsec leaves the record behind; before the stage runs again its
//! leftover group, if still alive, is killed, so an orphan can never keep writing an out that
//! the new run is about to record as fresh. (The leader also gets `SIGKILL` from the kernel when
//! netsec dies, see `action.rs`; this catches what it started in the background.)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, test_kill_process_group, Pid, Signal};
use serde::{Deserialize, Serialize};

use crate::workspace::Repo;

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    stage: String,
    pgid: i32,
    /// Start time of the leader (clock ticks since boot, `/proc/PID/stat` field 22).
    start: Option<u64>,
}

fn path(repo: &Repo, stage: &str) -> PathBuf {
    repo.stage_state("running", stage)
}

/// Start time of `pid`, if it is alive.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Remember that `stage`'s command runs as process group `pgid`.
pub fn record(repo: &Repo, stage: &str, pgid: i32) {
    let p = path(repo, stage);
    let rec = Record {
        stage: stage.to_string(),
        pgid,
        start: start_time(pgid),
    };
    // Written in place, not through a temporary file and a rename (one per command): a record
    // torn by a kill still exists (the stage counts as interrupted), it just names no group.
    let write = || -> std::io::Result<()> {
        let bytes = serde_json::to_vec(&rec).map_err(std::io::Error::other)?;
        match std::fs::write(&p, &bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = p.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&p, &bytes)
            }
            r => r,
        }
    };
    if let Err(e) = write() {
        tracing::debug!("cannot record the process group of `{stage}`: {e}");
    }
}

/// Whether a command of `stage` was cut off by a killed netsec (its record is still there):
/// its outs may be half-written, never a user's edit.
pub fn interrupted(repo: &Repo, stage: &str) -> bool {
    path(repo, stage).exists()
}

/// The command of `stage` ended normally.
pub fn clear(repo: &Repo, stage: &str) {
    let _ = std::fs::remove_file(path(repo, stage));
}

/// Before `stage` runs: kill the process group a killed netsec left running for it, if it is
/// still alive and still ours. Returns a message saying what was done.
pub fn reap(repo: &Repo, stage: &str) -> Option<String> {
    let p = path(repo, stage);
    let bytes = std::fs::read(&p).ok()?;
    let _ = std::fs::remove_file(&p);
    let rec: Record = serde_json::from_slice(&bytes).ok()?;
    let pid = Pid::from_raw(rec.pgid)?;
    if rec.pgid <= 1 || test_kill_process_group(pid).is_err() {
        return None;
    }
    // The group exists. If its leader is alive it must be the process we started (same start
    // time): a reused pid is someone else's. If the leader is gone the group id cannot have been
    // reused (Linux never hands out a pid still used as a process group id), so it is ours.
    if let Some(now) = start_time(rec.pgid) {
        if rec.start.is_some_and(|s| s != now) {
            return None;
        }
    }
    let _ = kill_process_group(pid, Signal::KILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while test_kill_process_group(pid).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(format!(
        "killed the command of `{stage}` left running by a killed netsec (process group {})",
        rec.pgid
    ))
}
