//! The Slurm executor: each attempt is one batch job, named `netsec-<stage>-<fingerprint
//! prefix>`, that runs `netsec __run-stage STAGE` in the workspace (a filesystem shared with
//! the nodes, the Slurm norm); see [`super::job`]. Blocking: each scheduler worker polls its
//! own job with `scontrol show job` every `poll` (not `sbatch --wait`, which polls every ~10 s)
//! and copies the job's output file (`.netsec/logs/<stage>.log`) to stderr as it grows.
//!
//! - A job already in the controller under this name and workspace (left by a netsec killed
//!   with `kill -9`) is adopted: waited for, its result used, nothing submitted twice.
//! - Ctrl-C/SIGTERM: `scancel` of the job, then the stage is interrupted.
//! - `timeout`: the job is cancelled once it has been running that long.
//! - NODE_FAIL, PREEMPTED, BOOT_FAIL: the attempt is lost, not failed (retried freely).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netsec_protocol::repro::JobInfo;
use serde::{Deserialize, Serialize};

use crate::error::{exit, Error};
use crate::events::{FailureKind, StageFailure};
use crate::exec::{Attempt, Deadline, Executor, Request};
use crate::run_settings::{ExecutorConfig, ExecutorKind};
use crate::workspace::Repo;

/// How long a Slurm command may take before Slurm counts as unreachable.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the controller may stay unreachable while a job runs.
const UNREACHABLE_FOR: Duration = Duration::from_secs(60);
const TAIL_LINES: usize = 20;
/// The poll interval once a job is known to be ending (its result written, or cancelled).
const FAST_POLL: Duration = Duration::from_millis(100);

pub struct Slurm {
    config: ExecutorConfig,
    /// Where the settings came from, for hints.
    origin: String,
}

/// What `status -v` shows of a stage's job (`.netsec/state/jobs/`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    pub stage: String,
    pub fingerprint: String,
    pub job: JobInfo,
}

fn record_path(repo: &Repo, stage: &str) -> PathBuf {
    repo.stage_state("jobs", stage)
}

/// The job a stage has in flight, as last recorded by a `repro` (gone once it is committed).
pub fn running_job(repo: &Repo, stage: &str) -> Option<JobRecord> {
    // Written by netsec, but on disk: bounded like any other state file.
    let bytes = netsec_common::read_regular(&record_path(repo, stage), Some(64 * 1024)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether any stage has a job record at all: `status` looks each stage up only then (one
/// `stat` instead of one failed `open` per stage).
pub fn any_job_records(repo: &Repo) -> bool {
    record_path(repo, "").parent().is_some_and(|d| d.is_dir())
}

fn save_record(repo: &Repo, rec: &JobRecord) {
    let p = record_path(repo, &rec.stage);
    if let Some(dir) = p.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = netsec_common::atomic::write_json_atomic(
        &p,
        rec,
        netsec_common::atomic::Durability::NoFsync,
    );
}

/// `.netsec/logs/<stage>.log`: the output of the stage's last job.
pub fn log_path(repo: &Repo, stage: &str) -> PathBuf {
    repo.dot.join("logs").join(format!("{stage}.log"))
}

/// Run `program args` with a time limit; its stdout, or why not.
fn slurm_cmd(program: &str, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let reader = std::thread::spawn(move || {
        let mut o = String::new();
        let mut e = String::new();
        if let Some(s) = out.as_mut() {
            let _ = s.read_to_string(&mut o);
        }
        if let Some(s) = err.as_mut() {
            let _ = s.read_to_string(&mut e);
        }
        (o, e)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > COMMAND_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{program}` did not answer within {} s",
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("`{program}`: {e}")),
        }
    };
    let (o, e) = reader.join().unwrap_or_default();
    if status.success() {
        Ok(o)
    } else {
        let msg = e.lines().last().unwrap_or("").trim().to_string();
        Err(format!("`{program}` failed ({status}): {msg}"))
    }
}

/// A job as `scontrol show job -o` describes it.
#[derive(Debug, Default)]
struct JobState {
    state: String,
    exit_code: Option<String>,
    node: Option<String>,
    reason: Option<String>,
}

impl JobState {
    fn parse(line: &str) -> JobState {
        let mut s = JobState::default();
        for field in line.split_whitespace() {
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            match k {
                "JobState" => s.state = v.to_string(),
                "ExitCode" => s.exit_code = Some(v.to_string()),
                "NodeList" if v != "(null)" => s.node = Some(v.to_string()),
                "Reason" if v != "None" => s.reason = Some(v.to_string()),
                _ => {}
            }
        }
        s
    }
    fn finished(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "PENDING"
                | "RUNNING"
                | "CONFIGURING"
                | "COMPLETING"
                | "SUSPENDED"
                | "REQUEUED"
                | "RESIZING"
                | "SIGNALING"
                | "STAGE_OUT"
                | "REQUEUE_HOLD"
                | "REQUEUE_FED"
                | ""
        )
    }
}

impl Slurm {
    /// A Slurm executor, checked reachable (`sinfo` answers) or exit 5 with a hint naming the
    /// config it came from.
    pub fn connect(config: &ExecutorConfig, origin: &str) -> Result<Slurm, Error> {
        let me = Slurm {
            config: config.clone(),
            origin: origin.to_string(),
        };
        let mut args = vec!["-h", "-o", "%a"];
        if let Some(p) = &config.partition {
            args.extend(["-p", p.as_str()]);
        }
        match slurm_cmd("sinfo", &args) {
            Ok(_) => Ok(me),
            Err(e) => Err(Error::Executor {
                message: format!("Slurm is unreachable: {e}"),
                hint: Some(me.hint()),
            }),
        }
    }

    fn hint(&self) -> String {
        format!(
            "the executor comes from {}; check `SLURM_CONF` and that slurmctld runs (`sinfo`), or run with `--executor local`",
            self.origin
        )
    }

    fn job_name(stage: &str, fp_hex: &str) -> String {
        let safe: String = stage
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("netsec-{safe}-{}", &fp_hex[..12])
    }

    /// A job of this name left by an earlier netsec in this workspace: one still pending or
    /// running, or one that completed while no netsec waited for it (its record is still
    /// there: the netsec that submitted it was killed before committing). Its id.
    fn find_job(&self, repo: &Repo, stage: &str, name: &str) -> Option<String> {
        let out = slurm_cmd(
            "squeue",
            &["-h", "--states=all", "-n", name, "-o", "%i|%T|%Z"],
        )
        .ok()?;
        let root = repo.root.to_string_lossy();
        let orphan = running_job(repo, stage).map(|r| r.job.id);
        out.lines()
            .filter_map(|l| {
                let mut f = l.splitn(3, '|');
                Some((f.next()?.trim(), f.next()?.trim(), f.next()?.trim()))
            })
            .filter(|(id, state, dir)| {
                let active = !JobState {
                    state: state.to_string(),
                    ..Default::default()
                }
                .finished();
                Path::new(dir) == Path::new(root.as_ref())
                    && (active || (*state == "COMPLETED" && orphan.as_deref() == Some(*id)))
            })
            .filter_map(|(id, _, _)| id.parse::<u64>().ok())
            .max()
            .map(|id| id.to_string())
    }

    fn submit(&self, req: &Request<'_>, name: &str, log: &Path) -> Result<String, StageFailure> {
        let st = req.stage;
        let exe = std::env::current_exe().map_err(|e| {
            StageFailure::new(
                FailureKind::Io,
                exit::IO,
                format!("cannot find the netsec executable: {e}"),
            )
        })?;
        let r = &st.run.resources;
        let mut args: Vec<String> = vec![
            "--parsable".into(),
            "-J".into(),
            name.into(),
            "-D".into(),
            req.repo.root.to_string_lossy().into_owned(),
            "-o".into(),
            log.to_string_lossy().into_owned(),
            "--open-mode=truncate".into(),
            "--export=ALL".into(),
            format!("--cpus-per-task={}", r.cpus),
        ];
        if let Some(m) = &r.mem {
            args.push(format!("--mem={m}"));
        }
        // Slurm's own limit: the resources' time, else the timeout plus a minute (netsec
        // cancels at the timeout itself, to the second).
        let limit = r
            .time
            .or(st.run.timeout.map(|t| t + Duration::from_secs(60)));
        if let Some(t) = limit {
            let s = t.as_secs().max(60);
            args.push(format!(
                "--time={}:{:02}:{:02}",
                s / 3600,
                s / 60 % 60,
                s % 60
            ));
        }
        if r.gpus > 0 {
            args.push(format!("--gpus={}", r.gpus));
        }
        for (flag, v) in [
            ("--partition", &self.config.partition),
            ("--account", &self.config.account),
            ("--qos", &self.config.qos),
        ] {
            if let Some(v) = v {
                args.push(format!("{flag}={v}"));
            }
        }
        args.extend(self.config.extra.iter().cloned());
        args.push("--wrap".into());
        args.push(format!(
            "exec {} {} {}",
            shell_quote(&exe.to_string_lossy()),
            super::job::SUBCOMMAND,
            shell_quote(&st.name)
        ));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = slurm_cmd("sbatch", &refs).map_err(|e| {
            StageFailure::new(FailureKind::Io, exit::IO, format!("sbatch failed: {e}"))
                .with_hint(self.hint())
        })?;
        let id = out.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() {
            return Err(StageFailure::new(
                FailureKind::Io,
                exit::IO,
                "sbatch printed no job id",
            ));
        }
        Ok(id)
    }

    fn cancel_job(id: &str) {
        let _ = slurm_cmd("scancel", &[id]);
    }

    fn state(id: &str) -> Result<JobState, String> {
        slurm_cmd("scontrol", &["show", "job", "-o", id]).map(|o| JobState::parse(&o))
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Copies what a job's output file gained since the last call to stderr; keeps the last lines.
struct LogFollower {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    tail: std::collections::VecDeque<String>,
}

impl LogFollower {
    fn new(path: PathBuf) -> Self {
        LogFollower {
            path,
            offset: 0,
            partial: Vec::new(),
            tail: Default::default(),
        }
    }

    fn pump(&mut self) {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            // Truncated: a new job writes it from the start.
            self.offset = 0;
        }
        if len == self.offset || f.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if let Ok(n) = f.take(len - self.offset).read_to_end(&mut buf) {
            self.offset += n as u64;
        }
        self.partial.extend_from_slice(&buf);
        let mut err = std::io::stderr().lock();
        while let Some(nl) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=nl).collect();
            let _ = err.write_all(&line);
            if self.tail.len() == TAIL_LINES {
                self.tail.pop_front();
            }
            self.tail
                .push_back(String::from_utf8_lossy(&line).trim_end().to_string());
        }
    }

    fn finish(&mut self) -> Vec<String> {
        self.pump();
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            let _ = std::io::stderr().write_all(&line);
            let _ = std::io::stderr().write_all(b"\n");
            self.tail
                .push_back(String::from_utf8_lossy(&line).trim_end().to_string());
        }
        self.tail.iter().cloned().collect()
    }
}

impl Executor for Slurm {
    fn kind(&self) -> ExecutorKind {
        ExecutorKind::Slurm
    }

    fn run(&self, req: &Request<'_>) -> Attempt {
        let (repo, stage) = (req.repo, req.stage);
        let fp_hex = req.fingerprint.key().to_hex();
        let name = Slurm::job_name(&stage.name, &fp_hex);
        let log = log_path(repo, &stage.name);
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let adopted = self.find_job(repo, &stage.name, &name);
        let id = match adopted {
            Some(id) => {
                (req.say)(&format!(
                    "adopting Slurm job {id} ({name}) left by an earlier netsec"
                ));
                id
            }
            None => {
                if let Err(f) = super::job::prepare(repo, stage, req.fingerprint, req.params) {
                    return Attempt::of(Err(f));
                }
                let _ = std::fs::remove_file(&log);
                match self.submit(req, &name, &log) {
                    Ok(id) => {
                        (req.say)(&format!("submitted as Slurm job {id} ({name})"));
                        id
                    }
                    Err(f) => return Attempt::of(Err(f)),
                }
            }
        };
        let mut info = JobInfo {
            id: id.clone(),
            name: name.clone(),
            node: None,
            state: "PENDING".into(),
        };
        let mut rec = JobRecord {
            stage: stage.name.clone(),
            fingerprint: fp_hex.clone(),
            job: info.clone(),
        };
        save_record(repo, &rec);
        let mut follow = LogFollower::new(log.clone());
        let mut running_since: Option<Instant> = None;
        let mut unreachable_since: Option<Instant> = None;
        let mut next_poll = Instant::now();
        let mut cancelled = false;
        let mut timed_out: Option<Deadline> = None;
        let result_file = super::job::result_path(repo, &stage.name);
        let mut fast = false;
        let done = loop {
            follow.pump();
            // The job's output file appears when it starts; its result file when it is done:
            // both are seen at once on the shared filesystem, and bring the next poll forward.
            if running_since.is_none() && log.exists() {
                running_since = Some(Instant::now());
            }
            if !fast && result_file.exists() {
                fast = true;
                next_poll = Instant::now();
            }
            if req.cancel.is_cancelled() && !cancelled {
                Slurm::cancel_job(&id);
                cancelled = true;
                fast = true;
                next_poll = Instant::now();
            }
            if let (Some(t), Some(since)) = (stage.run.timeout, running_since) {
                if timed_out.is_none() && since.elapsed() >= t {
                    Slurm::cancel_job(&id);
                    timed_out = Some(Deadline {
                        at: since + t,
                        limit: t,
                    });
                    fast = true;
                    next_poll = Instant::now();
                }
            }
            if Instant::now() >= next_poll {
                next_poll = Instant::now()
                    + if fast {
                        FAST_POLL.min(self.config.poll)
                    } else {
                        self.config.poll
                    };
                match Slurm::state(&id) {
                    Ok(s) => {
                        unreachable_since = None;
                        if s.state == "RUNNING" && info.state != "RUNNING" {
                            running_since.get_or_insert_with(Instant::now);
                            if let Some(n) = &s.node {
                                (req.say)(&format!("Slurm job {id} running on {n}"));
                            }
                        }
                        if info.state != s.state || info.node != s.node {
                            info.state = s.state.clone();
                            info.node = s.node.clone().or(info.node.take());
                            rec.job = info.clone();
                            save_record(repo, &rec);
                        }
                        if s.finished() {
                            break Some(s);
                        }
                    }
                    Err(e) => {
                        // A job the controller forgot (past MinJobAge) has ended: its result
                        // file says how.
                        if e.contains("Invalid job id") {
                            break None;
                        }
                        let since = *unreachable_since.get_or_insert_with(Instant::now);
                        if since.elapsed() > UNREACHABLE_FOR {
                            let _ = std::fs::remove_file(record_path(repo, &stage.name));
                            return Attempt {
                                result: Err(StageFailure::new(
                                    FailureKind::Io,
                                    exit::IO,
                                    format!("lost contact with Slurm while job {id} ran: {e}"),
                                )
                                .with_hint(self.hint())),
                                job: Some(info),
                                lost: false,
                            };
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let tail = follow.finish();
        let _ = std::fs::remove_file(record_path(repo, &stage.name));
        let state = done.unwrap_or_else(|| JobState {
            state: "COMPLETED".into(),
            ..Default::default()
        });
        info.state = state.state.clone();
        let with_tail = |mut f: StageFailure| {
            if f.stderr_tail.is_empty() {
                f.stderr_tail = tail.clone();
            }
            f
        };
        if let Some(d) = timed_out {
            return Attempt {
                result: Err(with_tail(d.failure(&stage.name))),
                job: Some(info),
                lost: false,
            };
        }
        if cancelled {
            return Attempt {
                result: Err(StageFailure::new(
                    FailureKind::Interrupted,
                    exit::STAGE_FAILED,
                    format!("interrupted (Slurm job {id} cancelled)"),
                )
                .with_hint("it is stale and will run again next time")),
                job: Some(info),
                lost: false,
            };
        }
        let from_job = super::job::result(repo, &stage.name, req.fingerprint);
        let lost = matches!(
            state.state.as_str(),
            "NODE_FAIL" | "PREEMPTED" | "BOOT_FAIL"
        );
        let result = match (state.state.as_str(), from_job) {
            ("COMPLETED", Some(r)) => r.map_err(with_tail),
            (s, job_result) => {
                let exit_code = state.exit_code.clone().unwrap_or_else(|| "?".into());
                let mut f = match job_result {
                    Some(Err(f)) => f,
                    _ => StageFailure::new(
                        if s == "TIMEOUT" {
                            FailureKind::TimedOut
                        } else {
                            FailureKind::Failed
                        },
                        exit::STAGE_FAILED,
                        String::new(),
                    ),
                };
                let what = format!(
                    "Slurm job {id} ended {s} (exit code {exit_code}{}{})",
                    state
                        .node
                        .as_deref()
                        .map(|n| format!(", node {n}"))
                        .unwrap_or_default(),
                    state
                        .reason
                        .as_deref()
                        .map(|r| format!(", reason {r}"))
                        .unwrap_or_default()
                );
                f.message = if f.message.is_empty() {
                    what
                } else {
                    format!("{}; {what}", f.message)
                };
                if f.hint.is_none() {
                    f.hint = Some(format!(
                        "the job's output is in `{}`",
                        log.strip_prefix(&repo.root).unwrap_or(&log).display()
                    ));
                }
                f.status = exit_code.split(':').next().and_then(|c| c.parse().ok());
                Err(with_tail(f))
            }
        };
        Attempt {
            result,
            job: Some(info),
            lost,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scontrol_lines_parse() {
        let s = JobState::parse("JobId=7 JobName=netsec-a-0123 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 NodeList=vm");
        assert_eq!(s.state, "FAILED");
        assert_eq!(s.exit_code.as_deref(), Some("3:0"));
        assert_eq!(s.node.as_deref(), Some("vm"));
        assert!(s.finished());
        assert!(!JobState::parse("JobState=PENDING NodeList=(null)").finished());
        assert_eq!(
            Slurm::job_name("tr ain", "0123456789abcdef"),
            "netsec-tr_ain-0123456789ab"
        );
    }
}
