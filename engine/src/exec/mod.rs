//! Executors: where a stage's action runs. The scheduler (`executor.rs`) decides, restores and
//! commits every stage itself; an [`Executor`] only makes one attempt at the action so that its
//! outs are in place in the workspace, and says how it went. Retries, the timeout's message and
//! the choice of executor per stage are here, shared by every executor.
//!
//! - [`local::Local`]: child processes of netsec (today's behaviour), a timeout kills the
//!   command's process group; a built-in under a timeout runs in a child netsec ([`job`]).
//! - [`slurm::Slurm`]: one `sbatch` job per attempt running [`job::SUBCOMMAND`] in the
//!   workspace (a shared filesystem), polled with `scontrol`.

pub mod guard;
pub mod job;
pub mod local;
pub mod slurm;

use std::time::{Duration, Instant};

use netsec_protocol::repro::JobInfo;

use crate::cancel::Cancel;
use crate::error::exit;
use crate::events::{FailureKind, StageFailure};
use crate::fingerprint::Fingerprint;
use crate::pipeline::Stage;
use crate::run_settings::{format_duration, ExecutorKind};
use crate::workspace::Repo;

/// What an executor is given for one attempt.
pub struct Request<'a> {
    pub repo: &'a Repo,
    pub stage: &'a Stage,
    /// The tracked params, nested (what a built-in sees).
    pub params: &'a serde_json::Value,
    pub fingerprint: &'a Fingerprint,
    pub cancel: &'a Cancel,
    /// A progress line for the stage (`submitted as Slurm job 12`).
    pub say: &'a (dyn Fn(&str) + Sync),
    /// The progress callback of built-ins: (stage, message).
    pub progress: &'a (dyn Fn(&str, &str) + Sync),
}

/// How one attempt went.
#[derive(Debug)]
pub struct Attempt {
    pub result: Result<(), StageFailure>,
    /// The batch job that ran it, if any.
    pub job: Option<JobInfo>,
    /// The attempt was lost to the machine, not to the stage (a node failed, the job was
    /// preempted): run it again without counting it against `retries`.
    pub lost: bool,
}

impl Attempt {
    pub fn of(result: Result<(), StageFailure>) -> Attempt {
        Attempt {
            result,
            job: None,
            lost: false,
        }
    }
}

/// Where stages run. Implementations are `Sync`: the scheduler's workers share one.
pub trait Executor: Send + Sync {
    fn kind(&self) -> ExecutorKind;
    /// One attempt at the stage's action. On `Ok` its outs are in place in the workspace; the
    /// caller hashes, caches and records them (one writer). On `Err` nothing may be recorded.
    fn run(&self, req: &Request<'_>) -> Attempt;
}

/// A stage's time limit: when it ends and how long it was.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    pub limit: Duration,
}

impl Deadline {
    pub fn after(limit: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + limit,
            limit,
        }
    }
    pub fn passed(&self) -> bool {
        Instant::now() >= self.at
    }
    /// The failure of a stage killed at its deadline.
    pub fn failure(&self, stage: &str) -> StageFailure {
        StageFailure::new(
            FailureKind::TimedOut,
            exit::STAGE_FAILED,
            format!("timed out after {}", format_duration(self.limit)),
        )
        .with_hint(format!(
            "raise `timeout` of stage `{stage}` in pipeline.toml, or make it faster"
        ))
    }
}

/// Kills a process group when a deadline passes (SIGTERM, then SIGKILL 2 s later).
pub struct Watchdog {
    stop: std::sync::mpsc::Sender<()>,
    fired: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    pub fn start(pgid: i32, deadline: Deadline) -> Watchdog {
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let fired = std::thread::spawn(move || {
            let wait = deadline.at.saturating_duration_since(Instant::now());
            if rx.recv_timeout(wait) != Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                return false;
            }
            let Some(pid) = rustix::process::Pid::from_raw(pgid) else {
                return false;
            };
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::TERM);
            if rx.recv_timeout(Duration::from_secs(2))
                == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
            {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            true
        });
        Watchdog { stop, fired }
    }

    /// The command ended: stop watching. Whether the deadline had killed it.
    pub fn stop(self) -> bool {
        let _ = self.stop.send(());
        self.fired.join().unwrap_or(false)
    }
}

/// The executor kind stage `stage` runs on in a run whose kind is `run_kind`: a Slurm run
/// keeps the stages that say `executor = "local"` local; a local run keeps everything local.
pub fn kind_for(stage: &Stage, run_kind: ExecutorKind) -> ExecutorKind {
    match run_kind {
        ExecutorKind::Local => ExecutorKind::Local,
        ExecutorKind::Slurm => stage.run.executor.unwrap_or(ExecutorKind::Slurm),
    }
}

/// Most attempts lost to the machine (node failures, preemption) before giving up.
const MAX_LOST: u32 = 5;

/// How running a stage went, over all its attempts.
pub struct Outcome {
    pub result: Result<(), StageFailure>,
    pub job: Option<JobInfo>,
    pub attempts: u32,
}

/// Run the stage on `exec`, again after a failure up to `retries` times (an interrupted or
/// rejected stage is not retried; a lost attempt does not count).
pub fn run_with_retries(exec: &dyn Executor, req: &Request<'_>) -> Outcome {
    let retries = req.stage.run.retries;
    let mut failures = 0u32;
    let mut lost = 0u32;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let a = exec.run(req);
        let Err(f) = &a.result else {
            return Outcome {
                result: a.result,
                job: a.job,
                attempts,
            };
        };
        if req.cancel.is_cancelled() || f.kind == FailureKind::Interrupted {
            return Outcome {
                result: a.result,
                job: a.job,
                attempts,
            };
        }
        if a.lost && lost < MAX_LOST {
            lost += 1;
            (req.say)(&format!(
                "{}; submitting it again (not counted as a retry)",
                f.message
            ));
            continue;
        }
        let retryable = matches!(
            f.kind,
            FailureKind::Failed | FailureKind::Signalled | FailureKind::TimedOut
        );
        if !retryable || failures >= retries {
            return Outcome {
                result: a.result,
                job: a.job,
                attempts,
            };
        }
        failures += 1;
        (req.say)(&format!(
            "failed ({}); retrying, retry {failures} of {retries}",
            f.message
        ));
    }
}

/// The executors of one `repro`: local always; Slurm connected on first use (a run whose stale
/// stages all stay local never asks the cluster anything).
pub struct Executors {
    run_kind: ExecutorKind,
    config: crate::run_settings::ExecutorConfig,
    origin: String,
    local: local::Local,
    slurm: std::sync::OnceLock<Result<slurm::Slurm, (String, Option<String>)>>,
}

impl Executors {
    /// `flag` is `repro --executor`, else the pipeline's `[executor] kind` decides.
    pub fn new(repo: &Repo, flag: Option<ExecutorKind>) -> Executors {
        let config = repo.pipeline.executor.clone();
        let origin = match flag {
            Some(k) => format!("`--executor {}`", k.as_str()),
            None => format!(
                "`[executor]` in pipeline.toml or `{}`",
                crate::local_config::LOCAL_CONFIG
            ),
        };
        Executors {
            run_kind: flag.unwrap_or(config.kind),
            config,
            origin,
            local: local::Local,
            slurm: std::sync::OnceLock::new(),
        }
    }

    /// Where `stage` runs.
    pub fn kind(&self, stage: &Stage) -> ExecutorKind {
        kind_for(stage, self.run_kind)
    }

    /// How many of `-j`'s slots the stage takes: its `cpus` on this machine, one as a job.
    pub fn slots(&self, stage: &Stage, jobs: usize) -> usize {
        match self.kind(stage) {
            ExecutorKind::Local => (stage.run.resources.cpus as usize).clamp(1, jobs.max(1)),
            ExecutorKind::Slurm => 1,
        }
    }

    /// The executor for `stage`; an unreachable Slurm is an I/O failure (exit 5) with a hint.
    pub fn for_stage(&self, stage: &Stage) -> Result<&dyn Executor, StageFailure> {
        match self.kind(stage) {
            ExecutorKind::Local => Ok(&self.local),
            ExecutorKind::Slurm => {
                let s = self.slurm.get_or_init(|| {
                    slurm::Slurm::connect(&self.config, &self.origin)
                        .map_err(|e| (e.to_string(), e.hint()))
                });
                match s {
                    Ok(s) => Ok(s),
                    Err((m, h)) => {
                        let f = StageFailure::new(FailureKind::Io, exit::IO, m.clone());
                        Err(match h {
                            Some(h) => f.with_hint(h.clone()),
                            None => f,
                        })
                    }
                }
            }
        }
    }
}
