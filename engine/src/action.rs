//! Running one stage's action: shell commands (each in its own process group, output streamed,
//! a stderr tail kept for the failure message) or a built-in (in a staging directory whose
//! outs are moved into place afterwards).

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::{Command, Stdio};

use crate::builtin::{BuiltinContext, BuiltinErrorKind};
use crate::cancel::Cancel;
use crate::error::exit;
use crate::events::{FailureKind, StageFailure};
use crate::pipeline::{Action, Stage};
use crate::restore::{remove_path, replace_path, unshare_persist_out};
use crate::workspace::Repo;

const TAIL_LINES: usize = 20;

fn io_failure(stage: &Stage, what: &str, e: impl std::fmt::Display) -> StageFailure {
    let _ = stage;
    StageFailure::new(FailureKind::Io, exit::IO, format!("failed to {what}: {e}"))
}

/// Run the stage's action. On `Err`, no lock entry may be written.
pub fn run_action(
    repo: &Repo,
    stage: &Stage,
    params_nested: &serde_json::Value,
    cancel: &Cancel,
    progress: &(dyn Fn(&str, &str) + Sync),
) -> Result<(), StageFailure> {
    run_action_until(repo, stage, params_nested, cancel, progress, None)
}

/// [`run_action`] with a deadline for commands: past it, the running command's process group
/// is killed and the stage fails as timed out (a built-in under a timeout runs as a child
/// process instead, see `exec::local`).
pub fn run_action_until(
    repo: &Repo,
    stage: &Stage,
    params_nested: &serde_json::Value,
    cancel: &Cancel,
    progress: &(dyn Fn(&str, &str) + Sync),
    deadline: Option<crate::exec::Deadline>,
) -> Result<(), StageFailure> {
    match &stage.action {
        Action::Command(cmds) => run_commands(repo, stage, cmds, cancel, deadline),
        Action::Builtin { id, with, .. } => {
            run_builtin(repo, stage, id, with, params_nested, progress)
        }
    }
}

fn run_commands(
    repo: &Repo,
    stage: &Stage,
    cmds: &[String],
    cancel: &Cancel,
    deadline: Option<crate::exec::Deadline>,
) -> Result<(), StageFailure> {
    // Outs are deleted first (unless persist), so a command that fails to write one can never
    // leave the previous version looking like its output.
    for o in &stage.outs {
        let abs = o.path.to_path(&repo.root);
        // Checked at load too; again here, right before deleting (a link may have appeared).
        crate::confine::check_inside(&repo.root, &o.path)
            .map_err(|e| io_failure(stage, &format!("prepare out `{}`", o.path), e))?;
        if o.persist {
            unshare_persist_out(repo, &abs)
                .map_err(|e| io_failure(stage, "un-share persist out", e))?;
        } else {
            remove_path(&abs)
                .map_err(|e| io_failure(stage, &format!("remove out `{}`", o.path), e))?;
        }
        // A stat first: `mkdir` of an existing directory takes the lock of its parent, which
        // every worker creating outs in the same directory contends for.
        if let Some(parent) = abs.parent().filter(|p| !p.is_dir()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| io_failure(stage, "create out directory", e))?;
        }
    }
    let cwd = stage.wdir.to_path(&repo.root);
    if let Some(msg) = crate::orphans::reap(repo, &stage.name) {
        tracing::warn!("{msg}");
    }
    for cmd in cmds {
        if cancel.is_cancelled() {
            return Err(interrupted(stage));
        }
        if let Some(d) = deadline.filter(crate::exec::Deadline::passed) {
            return Err(d.failure(&stage.name));
        }
        tracing::debug!(stage = %stage.name, "$ {cmd}");
        // The command's stdout goes to our stderr: netsec's stdout carries data (--json).
        let out = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| io_failure(stage, "duplicate stderr", e))?;
        let mut command = Command::new(crate::exec::guard::SHELL);
        command
            .arg("-c")
            .arg(cmd)
            .current_dir(&cwd)
            .env("NETSEC_ROOT", &repo.root)
            .env("NETSEC_STAGE", &stage.name)
            .stdin(null_stdin())
            .stdout(Stdio::from(out))
            .stderr(Stdio::piped());
        let window = crate::orphans::SpawnWindow::open();
        let (mut child, registration) = crate::exec::guard::spawn(&mut command)
            .map_err(|e| io_failure(stage, &format!("start `sh -c {cmd}`"), e))?;
        let pgid = child.id() as i32;
        cancel.register(pgid);
        crate::orphans::record(repo, &stage.name, pgid, window);
        let watchdog = deadline.map(|d| crate::exec::Watchdog::start(pgid, d));
        // stderr is copied by this thread until the command exits and the pipe closes; a
        // process it left in the background may still hold the pipe: its last lines are
        // awaited briefly, never that process.
        let tail: VecDeque<String> = match child.stderr.take() {
            Some(err) => match pump_stderr(child.id(), &err, stage) {
                Some(tail) => tail,
                None => spawn_tail_reader(err).finish(stage),
            },
            None => VecDeque::new(),
        };
        let status = child.wait();
        let timed_out = watchdog.is_some_and(|w| w.stop());
        cancel.unregister(pgid);
        drop(registration);
        crate::orphans::clear(repo, pgid);
        let status = status.map_err(|e| io_failure(stage, "wait for the command", e))?;
        if !status.success() {
            if cancel.is_cancelled() {
                return Err(interrupted(stage));
            }
            if let Some(d) = deadline.filter(|_| timed_out) {
                let mut f = d.failure(&stage.name);
                f.stderr_tail = tail.into_iter().collect();
                return Err(f);
            }
            let (kind, how) = match (status.code(), status.signal()) {
                (Some(c), _) => (FailureKind::Failed, format!("exited with code {c}")),
                (None, Some(s)) => (FailureKind::Signalled, format!("was killed by signal {s}")),
                _ => (FailureKind::Failed, "failed".to_string()),
            };
            let mut f =
                StageFailure::new(kind, exit::STAGE_FAILED, format!("command `{cmd}` {how}"))
                    .with_hint(format!(
                        "fix the command, then `netsec repro {}`",
                        stage.name
                    ));
            f.status = status.code();
            f.stderr_tail = tail.into_iter().collect();
            return Err(f);
        }
    }
    Ok(())
}

/// How long to wait for a command's last stderr lines after it exited.
const TAIL_GRACE: std::time::Duration = std::time::Duration::from_millis(300);

/// The last [`TAIL_LINES`] lines of a command's stderr, each copied to ours as it comes (one
/// write per line under the lock of our stderr, so parallel stages never mix within a line).
#[derive(Default)]
struct Tail {
    lines: VecDeque<String>,
}

impl Tail {
    fn line(&mut self, line: &[u8]) {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(line);
        if !line.ends_with(b"\n") {
            let _ = e.write_all(b"\n");
        }
        drop(e);
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines
            .push_back(String::from_utf8_lossy(line).trim_end().to_string());
    }
}

/// `/dev/null` as a command's stdin: opened once per process, each command given a duplicate
/// (a path lookup per command cost more than the rest of its redirections together).
fn null_stdin() -> Stdio {
    static NULL: std::sync::OnceLock<Option<std::fs::File>> = std::sync::OnceLock::new();
    NULL.get_or_init(|| std::fs::File::open("/dev/null").ok())
        .as_ref()
        .and_then(|f| f.try_clone().ok())
        .map_or_else(Stdio::null, Stdio::from)
}

/// Copies a command's stderr to ours on the calling thread (no thread per command), keeping
/// the last lines, until the pipe closes or, once the command has exited (its pidfd is
/// readable), [`TAIL_GRACE`] has passed. `None` when no pidfd can be had (then a thread reads
/// instead, see [`spawn_tail_reader`]).
fn pump_stderr(
    pid: u32,
    err: &std::process::ChildStderr,
    stage: &Stage,
) -> Option<VecDeque<String>> {
    use rustix::event::{poll, PollFd, PollFlags};
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()?;
    let mut tail = Tail::default();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    let mut exited: Option<std::time::Instant> = None;
    loop {
        let wait = match exited {
            Some(at) => {
                let left = TAIL_GRACE.saturating_sub(at.elapsed());
                if left.is_zero() {
                    tracing::warn!(
                        "stage `{}`: the command exited but a process it started still holds its stderr; not waiting for it",
                        stage.name
                    );
                    break;
                }
                rustix::event::Timespec::try_from(left).ok()
            }
            None => None,
        };
        let mut fds = [
            PollFd::new(err, PollFlags::IN),
            PollFd::new(&pidfd, PollFlags::IN),
        ];
        let watched = if exited.is_some() { 1 } else { 2 };
        match poll(&mut fds[..watched], wait.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
        if watched == 2 && !fds[1].revents().is_empty() {
            exited = Some(std::time::Instant::now());
        }
        if fds[0].revents().is_empty() {
            continue;
        }
        match rustix::io::read(err, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                let mut start = 0;
                while let Some(end) = pending[start..].iter().position(|b| *b == b'\n') {
                    tail.line(&pending[start..start + end + 1]);
                    start += end + 1;
                }
                pending.drain(..start);
            }
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
            Err(_) => break,
        }
    }
    if !pending.is_empty() {
        tail.line(&pending);
    }
    Some(tail.lines)
}

/// Copies a command's stderr to ours on a thread of its own, keeping the last lines.
struct TailReader {
    lines: std::sync::Arc<std::sync::Mutex<VecDeque<String>>>,
    done: std::sync::mpsc::Receiver<()>,
}

fn spawn_tail_reader(err: std::process::ChildStderr) -> TailReader {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(VecDeque::new()));
    let (tx, done) = std::sync::mpsc::channel();
    let shared = std::sync::Arc::clone(&lines);
    let spawned = std::thread::Builder::new()
        .name("netsec-stderr".into())
        .spawn(move || {
            let mut reader = BufReader::new(err);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let mut e = std::io::stderr().lock();
                        let _ = e.write_all(&line);
                        if !line.ends_with(b"\n") {
                            let _ = e.write_all(b"\n");
                        }
                        drop(e);
                        if let Ok(mut tail) = shared.lock() {
                            if tail.len() == TAIL_LINES {
                                tail.pop_front();
                            }
                            tail.push_back(String::from_utf8_lossy(&line).trim_end().to_string());
                        }
                    }
                }
            }
            let _ = tx.send(());
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the stderr reader: {e}");
    }
    TailReader { lines, done }
}

impl TailReader {
    /// The kept lines, once the pipe closed or [`TAIL_GRACE`] passed.
    fn finish(self, stage: &Stage) -> VecDeque<String> {
        if self.done.recv_timeout(TAIL_GRACE).is_err() {
            tracing::warn!(
                "stage `{}`: the command exited but a process it started still holds its stderr; not waiting for it",
                stage.name
            );
        }
        self.lines.lock().map(|t| t.clone()).unwrap_or_default()
    }
}

fn interrupted(_stage: &Stage) -> StageFailure {
    StageFailure::new(FailureKind::Interrupted, exit::STAGE_FAILED, "interrupted")
        .with_hint("it is stale and will run again next time")
}

fn run_builtin(
    repo: &Repo,
    stage: &Stage,
    id: &str,
    with: &toml::Table,
    params: &serde_json::Value,
    progress: &(dyn Fn(&str, &str) + Sync),
) -> Result<(), StageFailure> {
    let Some(b) = repo.registry.get(id) else {
        return Err(StageFailure::new(
            FailureKind::Invalid,
            exit::INVALID_PIPELINE,
            format!("unknown built-in `{id}`"),
        ));
    };
    let staging = repo
        .tmp_dir()
        .join(format!("{}-{}", stage.name, std::process::id()));
    remove_path(&staging).map_err(|e| io_failure(stage, "clear the staging directory", e))?;
    std::fs::create_dir_all(&staging)
        .map_err(|e| io_failure(stage, "create the staging directory", e))?;
    let outs = stage.out_paths();
    let env: &BTreeMap<String, String> = &repo.env;
    let ctx = BuiltinContext::new(
        &stage.name,
        with,
        params,
        &repo.root,
        &stage.deps,
        &outs,
        &staging,
        env,
        progress,
    );
    // Each built-in computes on a thread pool of its own. On the shared global pool a short stage
    // (transform) queues behind the long jobs of a stage running beside it (compare's CV fits),
    // and the critical path waits for work that is not on it.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads())
        .thread_name(|i| format!("netsec-builtin-{i}"))
        .build();
    let call = || catch_unwind(AssertUnwindSafe(|| b.run(&ctx)));
    let outcome = match &pool {
        Ok(pool) => pool.install(call),
        Err(_) => call(),
    };
    let result = outcome.unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
            .unwrap_or_else(|| "panic".into());
        Err(crate::builtin::BuiltinError::failed(format!(
            "built-in `{id}` panicked: {msg}"
        )))
    });
    let publish = match &result {
        Ok(()) => true,
        Err(e) => e.kind == BuiltinErrorKind::DataRejected,
    };
    if publish {
        // Move staged outs into place, one rename each. A non-persist out that was not staged
        // is removed, so its old version cannot pass for this run's output.
        for o in &stage.outs {
            let staged = o.path.to_path(&staging);
            let dest = o.path.to_path(&repo.root);
            if staged.exists() {
                crate::confine::check_inside(&repo.root, &o.path)
                    .and_then(|()| replace_path(repo, &staged, &dest))
                    .map_err(|e| {
                        io_failure(stage, &format!("move out `{}` into place", o.path), e)
                    })?;
            } else if !o.persist {
                remove_path(&dest)
                    .map_err(|e| io_failure(stage, &format!("remove out `{}`", o.path), e))?;
            }
        }
    }
    let _ = remove_path(&staging);
    result.map_err(|e| {
        let kind = match e.kind {
            BuiltinErrorKind::DataRejected => FailureKind::DataRejected,
            BuiltinErrorKind::Io => FailureKind::Io,
            BuiltinErrorKind::Failed => FailureKind::Failed,
        };
        StageFailure {
            hint: e.hint.clone(),
            ..StageFailure::new(kind, e.exit_code(), e.message.clone())
        }
    })
}
