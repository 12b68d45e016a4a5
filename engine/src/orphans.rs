//! Commands that outlived a killed netsec. Each netsec process that runs commands appends to a
//! log of its own, `.netsec/state/running/cmds-PID.log`: one line when a command starts (its
//! stage, process group and when the leader started), one when it ends. The process holds an
//! `flock` on its log and removes it when done (see [`Log`]), so a log nobody holds was left
//! by a killed netsec. The next process that runs a command folds such a log into one record
//! per command that had not ended (`.netsec/state/running/<stage hash>.json`), and before the
//! stage runs again its leftover group, if still alive, is killed: an orphan can never keep
//! writing an out that the new run is about to record as fresh. (The guard kills the groups of
//! a killed netsec too, see `exec/guard.rs`; this is the fallback when the guard could not.)
//!
//! One log per process instead of a record file written and removed per command: creating and
//! deleting a file for each of 10,000 stages cost an inode allocation each, which on ext4
//! without a journal scans past every inode deleted in the last minutes.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use netsec_common::read_regular;
use rustix::process::{kill_process_group, test_kill_process_group, Pid, Signal};
use serde::{Deserialize, Serialize};

use crate::workspace::Repo;

#[derive(Debug, Serialize, Deserialize)]
struct Record {
    stage: String,
    pgid: i32,
    /// Start time of the leader (clock ticks since boot, `/proc/PID/stat` field 22), as read
    /// from `/proc` by earlier versions of netsec (still honoured in the logs they left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start: Option<u64>,
    /// The leader started within these clock ticks since boot, inclusive (a [`SpawnWindow`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started: Option<(u64, u64)>,
}

/// Widest start window a record may claim and still be trusted: a spawn takes milliseconds, so
/// a wider window is not ours and its group is left alone.
const MAX_WINDOW_SECS: u64 = 600;

impl Record {
    /// Whether a leader that started at `now` (clock ticks since boot) is the one recorded.
    fn started_at(&self, now: u64) -> bool {
        match (self.start, self.started) {
            (Some(s), _) => s == now,
            (None, Some((lo, hi))) => {
                lo <= now
                    && now <= hi
                    && hi - lo
                        <= MAX_WINDOW_SECS.saturating_mul(rustix::param::clock_ticks_per_second())
            }
            (None, None) => true,
        }
    }
}

/// When a command was started, bounded by the clock before and after its spawn, in the units of
/// `/proc/PID/stat`'s start time (clock ticks of `CLOCK_BOOTTIME`). Its leader's start time lies
/// in between; a process that reuses the pid later cannot. Taking the bounds costs two clock
/// reads, where reading the start time from `/proc` right after the spawn waited for the
/// child's `exec` to finish (the kernel holds the child's exec lock) on most commands.
#[derive(Debug, Clone, Copy)]
pub struct SpawnWindow {
    lo: u64,
}

impl SpawnWindow {
    /// Call just before the spawn.
    pub fn open() -> SpawnWindow {
        SpawnWindow { lo: boot_ticks() }
    }

    /// The window, closed now (call after the spawn returned).
    fn close(self) -> (u64, u64) {
        (self.lo, boot_ticks())
    }
}

/// Clock ticks since boot now, as the kernel derives a process's start time for `/proc`
/// (`CLOCK_BOOTTIME` nanoseconds over nanoseconds per tick, rounded down).
fn boot_ticks() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    let ns = u64::try_from(t.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(t.tv_nsec).unwrap_or(0));
    ns / (1_000_000_000 / rustix::param::clock_ticks_per_second().clamp(1, 1_000_000_000))
}

fn dir(repo: &Repo) -> PathBuf {
    repo.dot.join("state").join("running")
}

fn path(repo: &Repo, stage: &str) -> PathBuf {
    repo.stage_state("running", stage)
}

const LOG_PREFIX: &str = "cmds-";
const LOG_SUFFIX: &str = ".log";
/// Caps on what is read back from `.netsec/state/running/`: a record is one small JSON object;
/// a process's log holds a line per command it started (about 100 bytes each). Anything larger,
/// or not a regular file, is not ours and is ignored.
const MAX_RECORD_BYTES: u64 = 1 << 20;
const MAX_LOG_BYTES: u64 = 64 << 20;

/// Start time of `pid` (clock ticks since boot), if it is alive. One `read` of at most a page
/// (`/proc/PID/stat` is a few hundred bytes, returned whole by one read).
fn start_time(pid: i32) -> Option<u64> {
    let mut buf = [0u8; 4096];
    let n = File::open(format!("/proc/{pid}/stat"))
        .ok()?
        .read(&mut buf)
        .ok()?;
    let stat = std::str::from_utf8(buf.get(..n)?).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// This process's log of running commands in one workspace, opened with the first command,
/// removed when no command is running any more and the [`Repo`] is dropped (or [`Log::close`]).
#[derive(Debug, Default)]
pub struct Log(Mutex<LogState>);

#[derive(Debug, Default)]
struct LogState {
    open: Option<(File, PathBuf)>,
    running: usize,
    /// Opening failed once: not tried again (recording is best effort).
    failed: bool,
}

impl Log {
    /// Remove the log if no command it recorded is still running.
    pub fn close(&self) {
        if let Ok(mut st) = self.0.lock() {
            if st.running == 0 {
                if let Some((file, p)) = st.open.take() {
                    // Removed before the lock is released (by closing): a log found unlocked
                    // is always a killed process's.
                    let _ = std::fs::remove_file(&p);
                    drop(file);
                }
            }
        }
    }

    /// Open the log if it is not: this folds the logs killed processes left (see
    /// [`fold_leftovers`]), so call it before looking for their records.
    fn ensure_open(&self, repo: &Repo) {
        if let Ok(mut st) = self.0.lock() {
            st.ensure_open(repo);
        }
    }

    fn append(&self, repo: &Repo, line: &[u8], delta: isize) {
        let Ok(mut st) = self.0.lock() else { return };
        st.ensure_open(repo);
        if let Some((file, _)) = st.open.as_mut() {
            // One `write` of a whole line (O_APPEND): a kill tears at most the last line.
            if let Err(e) = file.write_all(line) {
                tracing::debug!("cannot record a running command: {e}");
            }
        }
        st.running = st.running.saturating_add_signed(delta);
    }
}

impl LogState {
    fn ensure_open(&mut self, repo: &Repo) {
        if self.open.is_none() && !self.failed {
            match open_log(repo) {
                Ok(o) => self.open = Some(o),
                Err(e) => {
                    self.failed = true;
                    tracing::debug!("cannot open the log of running commands: {e}");
                }
            }
        }
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.close();
    }
}

/// Fold the logs of killed processes, then create this process's log, locked, under a name
/// other processes only see once it is locked.
fn open_log(repo: &Repo) -> std::io::Result<(File, PathBuf)> {
    let d = dir(repo);
    std::fs::create_dir_all(&d)?;
    fold_leftovers(repo);
    let pid = std::process::id();
    let tmp = d.join(format!("{LOG_PREFIX}{pid}.tmp"));
    let file = OpenOptions::new().create(true).append(true).open(&tmp)?;
    file.lock()?;
    // A killed process of the same pid may have left this name.
    file.set_len(0)?;
    let mut n = 0u32;
    let p = loop {
        let p = d.join(match n {
            0 => format!("{LOG_PREFIX}{pid}{LOG_SUFFIX}"),
            _ => format!("{LOG_PREFIX}{pid}-{n}{LOG_SUFFIX}"),
        });
        if !p.exists() {
            break p;
        }
        n += 1;
    };
    std::fs::rename(&tmp, &p)?;
    Ok((file, p))
}

/// The commands a log says started and did not end, by process group.
fn unfinished(bytes: &[u8]) -> BTreeMap<i32, Record> {
    let mut open = BTreeMap::new();
    for line in bytes.split(|b| *b == b'\n') {
        if let Some(pgid) = line.strip_prefix(b"-") {
            if let Some(p) = std::str::from_utf8(pgid).ok().and_then(|s| s.parse().ok()) {
                open.remove(&p);
            }
        } else if let Ok(r) = serde_json::from_slice::<Record>(line) {
            open.insert(r.pgid, r);
        }
    }
    open
}

/// Every log in the running directory that no live process holds: (path, its unfinished
/// commands), the file still locked by us so nobody else folds it at the same time.
fn leftovers(repo: &Repo) -> Vec<(PathBuf, File, BTreeMap<i32, Record>)> {
    let Ok(entries) = std::fs::read_dir(dir(repo)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(LOG_PREFIX) && name.ends_with(LOG_SUFFIX)) {
            continue;
        }
        // Only a regular file (not followed through a symlink): a FIFO would block the open.
        if !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let p = e.path();
        let Ok(file) = File::open(&p) else { continue };
        if file.try_lock().is_err() {
            continue; // a live process's
        }
        // Read from the handle just locked (a regular file, checked above); past the cap it
        // is not ours and reads as empty.
        let mut bytes = Vec::new();
        let read = (&file).take(MAX_LOG_BYTES + 1).read_to_end(&mut bytes);
        if read.is_err() || bytes.len() as u64 > MAX_LOG_BYTES {
            bytes.clear();
        }
        out.push((p, file, unfinished(&bytes)));
    }
    out
}

/// Turn the logs of killed processes into one record per unfinished command, then remove them.
fn fold_leftovers(repo: &Repo) {
    for (p, file, open) in leftovers(repo) {
        for r in open.values() {
            write_record(&path(repo, &r.stage), r);
        }
        let _ = std::fs::remove_file(&p);
        drop(file);
    }
}

fn write_record(p: &Path, rec: &Record) {
    let write = || -> std::io::Result<()> {
        let bytes = serde_json::to_vec(rec).map_err(std::io::Error::other)?;
        crate::parent_dir::retry_with_parent(p, || std::fs::write(p, &bytes))
    };
    if let Err(e) = write() {
        tracing::debug!("cannot record the process group of `{}`: {e}", rec.stage);
    }
}

/// Remember that `stage`'s command runs as process group `pgid`, its leader spawned within
/// `window` (opened just before the spawn).
pub fn record(repo: &Repo, stage: &str, pgid: i32, window: SpawnWindow) {
    let rec = Record {
        stage: stage.to_string(),
        pgid,
        start: None,
        started: Some(window.close()),
    };
    let Ok(mut line) = serde_json::to_vec(&rec) else {
        return;
    };
    line.push(b'\n');
    repo.running.append(repo, &line, 1);
}

/// Whether a command of `stage` was cut off by a killed netsec (a record of it is still
/// there, or a killed process's log says it started and never ended): its outs may be
/// half-written, never a user's edit.
pub fn interrupted(repo: &Repo, stage: &str) -> bool {
    path(repo, stage).exists()
        || leftovers(repo)
            .iter()
            .any(|(_, _, open)| open.values().any(|r| r.stage == stage))
}

/// The command of `stage` running as process group `pgid` ended normally.
pub fn clear(repo: &Repo, pgid: i32) {
    repo.running
        .append(repo, format!("-{pgid}\n").as_bytes(), -1);
}

/// Before `stage` runs: kill the process group a killed netsec left running for it, if it is
/// still alive and still ours. Returns a message saying what was done.
pub fn reap(repo: &Repo, stage: &str) -> Option<String> {
    repo.running.ensure_open(repo);
    let p = path(repo, stage);
    let bytes = match read_regular(&p, Some(MAX_RECORD_BYTES)) {
        Ok(b) => Some(b),
        // The usual case, once per command: no record, nothing to remove.
        Err(netsec_common::BoundedReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return None
        }
        Err(_) => None,
    };
    let _ = std::fs::remove_file(&p);
    let bytes = bytes?;
    let rec: Record = serde_json::from_slice(&bytes).ok()?;
    let pid = Pid::from_raw(rec.pgid)?;
    if rec.pgid <= 1 || test_kill_process_group(pid).is_err() {
        return None;
    }
    // The group exists. If its leader is alive it must be the process we started (started
    // within the recorded window): a reused pid is someone else's. If the leader is gone the
    // group id cannot have been reused (Linux never hands out a pid still used as a process
    // group id), so it is ours.
    if let Some(now) = start_time(rec.pgid) {
        if !rec.started_at(now) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    fn open(root: &std::path::Path) -> Repo {
        crate::test_repo::one_stage_repo(root)
    }

    fn group_alive(pgid: i32) -> bool {
        Pid::from_raw(pgid).is_some_and(|p| test_kill_process_group(p).is_ok())
    }

    #[test]
    fn fifos_where_logs_and_records_belong_are_skipped_without_blocking() {
        let t = tempfile::tempdir().expect("tempdir");
        let repo = open(t.path());
        // A FIFO opened for reading blocks until a writer comes: none ever will.
        crate::test_repo::mkfifo(&dir(&repo).join("cmds-9.log"));
        let rec = path(&repo, "x");
        crate::test_repo::mkfifo(&rec);
        assert!(!interrupted(&repo, "a"));
        assert!(reap(&repo, "x").is_none());
        assert!(!rec.exists(), "the bogus record is removed");
        record(&repo, "b", 4_000_002, SpawnWindow::open());
        clear(&repo, 4_000_002);
        repo.running.close();
    }

    #[test]
    fn a_finished_process_leaves_no_log_and_a_killed_ones_log_is_folded_and_reaped() {
        let t = tempfile::tempdir().expect("tempdir");
        let repo = open(t.path());
        // A normal run: start and end recorded, the log gone once closed.
        record(&repo, "b", 4_000_000, SpawnWindow::open());
        clear(&repo, 4_000_000);
        repo.running.close();
        let d = dir(&repo);
        assert_eq!(std::fs::read_dir(&d).expect("dir").count(), 0);

        // A killed process's log: `a` started (still running), `b` started and ended.
        let mut orphan = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 60 & wait"])
            .process_group(0)
            .spawn()
            .expect("spawn");
        let pgid = orphan.id() as i32;
        // As earlier versions recorded it: the exact start time read from `/proc`.
        let a = Record {
            stage: "a".into(),
            pgid,
            start: start_time(pgid),
            started: None,
        };
        let b = Record {
            stage: "b".into(),
            pgid: 4_000_001,
            start: None,
            started: Some((0, 1)),
        };
        let log = format!(
            "{}\n{}\n-4000001\n{{\"stage\":\"a\",\"pg",
            serde_json::to_string(&a).expect("json"),
            serde_json::to_string(&b).expect("json")
        );
        std::fs::write(d.join("cmds-1.log"), log).expect("log");
        // A live process's log (locked) is neither read nor folded.
        let live = d.join("cmds-2.log");
        std::fs::write(
            &live,
            format!("{}\n", serde_json::to_string(&b).expect("json")),
        )
        .expect("live log");
        let held = File::open(&live).expect("open live");
        held.lock().expect("lock live");

        assert!(interrupted(&repo, "a"));
        assert!(!interrupted(&repo, "b"));
        let msg = reap(&repo, "a").expect("the orphan group is killed");
        assert!(msg.contains(&pgid.to_string()), "{msg}");
        let _ = orphan.wait();
        assert!(!group_alive(pgid));
        assert!(
            !d.join("cmds-1.log").exists(),
            "the killed process's log is folded"
        );
        assert!(live.exists(), "a live process's log is left alone");
        assert!(!interrupted(&repo, "a"), "reaped: no longer interrupted");
        assert!(!path(&repo, "b").exists());
        drop(held);
        repo.running.close();
    }

    #[test]
    fn the_spawn_window_holds_the_leaders_start_time_and_nothing_else_matches() {
        let window = SpawnWindow::open();
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 5"])
            .process_group(0)
            .spawn()
            .expect("spawn");
        let (lo, hi) = window.close();
        let now = start_time(child.id() as i32).expect("the child is alive");
        let _ = child.kill();
        let _ = child.wait();
        let rec = |start, started| Record {
            stage: "s".into(),
            pgid: 1,
            start,
            started,
        };
        assert!(lo <= now && now <= hi, "{lo} <= {now} <= {hi}");
        assert!(rec(None, Some((lo, hi))).started_at(now));
        // A process started after the window (a reused pid) or before it is someone else's.
        assert!(!rec(None, Some((lo, hi))).started_at(hi + 1));
        assert!(lo == 0 || !rec(None, Some((lo, hi))).started_at(lo - 1));
        // A window no spawn could take, or an inverted one, is not trusted.
        let ticks = rustix::param::clock_ticks_per_second();
        assert!(!rec(None, Some((0, (MAX_WINDOW_SECS + 1) * ticks))).started_at(ticks));
        assert!(!rec(None, Some((hi, lo.saturating_sub(1)))).started_at(now));
        // Records of older versions: the exact start time, or none at all.
        assert!(rec(Some(now), None).started_at(now));
        assert!(!rec(Some(now + 1), None).started_at(now));
        assert!(rec(None, None).started_at(now));
        // The new field is written, the old one left out.
        let line = serde_json::to_string(&rec(None, Some((lo, hi)))).expect("json");
        assert!(
            line.contains("\"started\"") && !line.contains("\"start\""),
            "{line}"
        );
    }
}
