//! One stage run by a netsec of its own: a Slurm job, or a built-in under a local timeout.
//!
//! The coordinating `netsec repro` writes a spec (stage, fingerprint key, the tracked params
//! as the built-in sees them) to `.netsec/state/job-spec/`, then starts `netsec SUBCOMMAND
//! STAGE` in the workspace. That process runs the stage's commands or built-in exactly as the
//! local executor does (outs deleted first, a built-in staged then moved into place), writes
//! its result to `.netsec/state/job-result/` and exits. It takes no repository lock and writes
//! no cache object, run-cache entry or lock entry: the coordinator alone hashes, caches and
//! records the outs, so they and the lock are those of a local run.

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::error::exit;
use crate::events::{FailureKind, StageFailure};
use crate::exec::{Deadline, Watchdog};
use crate::fingerprint::Fingerprint;
use crate::pipeline::Stage;
use crate::workspace::Repo;
use netsec_common::atomic::{write_json_atomic, Durability};

/// The hidden subcommand of the binary that runs one stage (`netsec __run-stage STAGE`).
pub const SUBCOMMAND: &str = "__run-stage";

/// What the coordinator asks a job to run.
#[derive(Debug, Serialize, Deserialize)]
pub struct Spec {
    pub stage: String,
    /// Hex key of the fingerprint the coordinator will record.
    pub fingerprint: String,
    pub params: serde_json::Value,
}

/// What the job reports back.
#[derive(Debug, Serialize, Deserialize)]
pub struct JobResult {
    pub fingerprint: String,
    pub failure: Option<StageFailure>,
}

fn spec_path(repo: &Repo, stage: &str) -> PathBuf {
    repo.stage_state("job-spec", stage)
}

pub(crate) fn result_path(repo: &Repo, stage: &str) -> PathBuf {
    repo.stage_state("job-result", stage)
}

fn write<T: Serialize>(path: &std::path::Path, value: &T) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_json_atomic(path, value, Durability::NoFsync)
}

/// Before starting a job: its spec, and no result of an earlier one.
pub fn prepare(
    repo: &Repo,
    stage: &Stage,
    fp: &Fingerprint,
    params: &serde_json::Value,
) -> Result<(), StageFailure> {
    let spec = Spec {
        stage: stage.name.clone(),
        fingerprint: fp.key().to_hex(),
        params: params.clone(),
    };
    let _ = std::fs::remove_file(result_path(repo, &stage.name));
    write(&spec_path(repo, &stage.name), &spec).map_err(|e| {
        StageFailure::new(
            FailureKind::Io,
            exit::IO,
            format!("failed to write the job spec of `{}`: {e}", stage.name),
        )
    })
}

/// The result a job left for this fingerprint, if any.
pub fn result(repo: &Repo, stage: &str, fp: &Fingerprint) -> Option<Result<(), StageFailure>> {
    let bytes = std::fs::read(result_path(repo, stage)).ok()?;
    let r: JobResult = serde_json::from_slice(&bytes).ok()?;
    if r.fingerprint != fp.key().to_hex() {
        return None;
    }
    Some(match r.failure {
        None => Ok(()),
        Some(f) => Err(f),
    })
}

/// The job side, called by the hidden subcommand: run `stage` as its spec says, record the
/// result, return the process exit code.
pub fn run(repo: &Repo, stage: &str, cancel: &Cancel) -> i32 {
    let fail = |message: String| {
        eprintln!("netsec {SUBCOMMAND}: {message}");
        exit::IO
    };
    let spec: Spec = match std::fs::read(spec_path(repo, stage))
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => return fail(format!("no readable job spec for stage `{stage}`: {e}")),
    };
    let Some(st) = repo
        .pipeline
        .stages
        .get(stage)
        .filter(|_| spec.stage == stage)
    else {
        return fail(format!("stage `{stage}` is not in pipeline.toml"));
    };
    let progress = |s: &str, m: &str| eprintln!("[{s}] {m}");
    let outcome = crate::action::run_action(repo, st, &spec.params, cancel, &progress);
    repo.running.close();
    let code = match &outcome {
        Ok(()) => exit::OK,
        Err(f) => {
            eprintln!("netsec: stage `{stage}` failed: {}", f.message);
            f.exit_code
        }
    };
    let r = JobResult {
        fingerprint: spec.fingerprint,
        failure: outcome.err(),
    };
    if let Err(e) = write(&result_path(repo, stage), &r) {
        return fail(format!("cannot write the result of `{stage}`: {e}"));
    }
    code
}

/// Run the stage in a child netsec on this machine, killed at `deadline` (a built-in cannot be
/// stopped inside netsec's own process).
pub fn run_child(
    req: &crate::exec::Request<'_>,
    deadline: Option<Deadline>,
) -> Result<(), StageFailure> {
    let (repo, stage) = (req.repo, req.stage);
    let io = |what: &str, e: std::io::Error| {
        StageFailure::new(FailureKind::Io, exit::IO, format!("failed to {what}: {e}"))
    };
    prepare(repo, stage, req.fingerprint, req.params)?;
    let exe = std::env::current_exe().map_err(|e| io("find the netsec executable", e))?;
    let out = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| io("duplicate stderr", e))?;
    let mut command = Command::new(exe);
    command
        .arg(SUBCOMMAND)
        .arg(&stage.name)
        .current_dir(&repo.root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::inherit());
    let (mut child, registration) =
        super::guard::spawn(&mut command).map_err(|e| io("start a netsec for the stage", e))?;
    let pgid = child.id() as i32;
    req.cancel.register(pgid);
    let watchdog = deadline.map(|d| Watchdog::start(pgid, d));
    let status = child.wait();
    let timed_out = watchdog.is_some_and(Watchdog::stop);
    req.cancel.unregister(pgid);
    drop(registration);
    let status = status.map_err(|e| io("wait for the stage's netsec", e))?;
    if let Some(d) = deadline.filter(|_| timed_out) {
        return Err(d.failure(&stage.name));
    }
    if req.cancel.is_cancelled() && !status.success() {
        return Err(
            StageFailure::new(FailureKind::Interrupted, exit::STAGE_FAILED, "interrupted")
                .with_hint("it is stale and will run again next time"),
        );
    }
    match result(repo, &stage.name, req.fingerprint) {
        Some(r) => r,
        None => Err(StageFailure::new(
            FailureKind::Failed,
            exit::STAGE_FAILED,
            format!("the stage's netsec ended ({status}) without a result"),
        )),
    }
}
