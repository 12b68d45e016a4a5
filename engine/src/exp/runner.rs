//! `exp run --run-all` / `queue start`: run the queued experiments, N at a time, each as a
//! child `netsec repro --json` in its own workspace (see `workspace`). The child's stdout (the
//! typed events) and stderr (the log `queue logs` shows) go to files under `.netsec/exps/logs/`.
//! Children are in process groups of their own, registered with [`Cancel`], so Ctrl-C stops
//! them (their records become `failed`); each dies with the runner even on `kill -9`, which
//! leaves its record `running` on disk, shown and rerun as `queued`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use netsec_protocol::{Outcome, ReproLine};

use crate::cancel::Cancel;
use crate::error::Error;
use crate::exp::queue::{recover, QueueLock};
use crate::exp::record::{now_ms, ExpRecord, ExpStatus, Store};
use crate::lock::Lockfile;

/// How the runner starts each experiment.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Experiments at a time (at least 1).
    pub jobs: usize,
    /// The netsec binary.
    pub exe: PathBuf,
    /// Extra arguments for each child `repro` (e.g. `-j 1`).
    pub repro_args: Vec<String>,
}

/// What the binary reads from a finished workspace (it knows the metric formats).
#[derive(Debug, Default)]
pub struct Collected {
    pub params: BTreeMap<String, serde_json::Value>,
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
}

/// Progress of the runner, for the binary to render.
#[derive(Debug)]
pub enum RunnerEvent<'a> {
    Recovered(&'a [String]),
    Started(&'a ExpRecord),
    Finished(&'a ExpRecord),
}

struct Slot {
    rec: ExpRecord,
    child: Child,
    /// Held until the child has been waited for (dropped with the slot).
    _guard: crate::exec::guard::Registration,
    ws: PathBuf,
}

/// Marker written by `queue kill` so the runner says why the run ended.
pub fn killed_marker(store: &Store, name: &str) -> PathBuf {
    store.dir.join("logs").join(format!("{name}.killed"))
}

/// Run every queued experiment; returns (succeeded, failed) counts.
pub fn run_all(
    root: &Path,
    dot: &Path,
    opts: &RunnerOptions,
    cancel: &Arc<Cancel>,
    collect: &dyn Fn(&Path) -> Collected,
    on_event: &dyn Fn(RunnerEvent<'_>),
) -> Result<(usize, usize), Error> {
    let store = Store::new(dot);
    let _lock = QueueLock::acquire(&store)?;
    let recovered = recover(&store)?;
    if !recovered.is_empty() {
        on_event(RunnerEvent::Recovered(&recovered));
    }
    let logs = store.dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| Error::io("create", &logs, e))?;
    let (all, _) = store.list();
    let mut pending: std::collections::VecDeque<String> = all
        .into_iter()
        .filter(|r| r.status == ExpStatus::Queued)
        .map(|r| r.name)
        .collect();
    let mut running: Vec<Slot> = Vec::new();
    let (mut ok, mut failed) = (0, 0);
    let jobs = opts.jobs.max(1);
    loop {
        while running.len() < jobs && !cancel.is_cancelled() {
            let Some(name) = pending.pop_front() else {
                break;
            };
            // Removed or killed since the queue was read: skip it.
            let Ok(rec) = store.load(&name) else { continue };
            if rec.status != ExpStatus::Queued {
                continue;
            }
            match start(root, dot, &store, opts, cancel, rec) {
                Ok(slot) => {
                    on_event(RunnerEvent::Started(&slot.rec));
                    running.push(slot);
                }
                Err(rec) => {
                    failed += 1;
                    on_event(RunnerEvent::Finished(&rec));
                }
            }
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
        let mut i = 0;
        while i < running.len() {
            let done = matches!(running[i].child.try_wait(), Ok(Some(_)) | Err(_));
            if !done {
                i += 1;
                continue;
            }
            let mut slot = running.swap_remove(i);
            let code = slot.child.wait().ok().and_then(|s| s.code()).unwrap_or(1);
            cancel.unregister(slot.child.id() as i32);
            let rec = finish(&store, &mut slot, code, cancel.is_cancelled(), collect);
            if rec.status == ExpStatus::Success {
                ok += 1;
            } else {
                failed += 1;
            }
            on_event(RunnerEvent::Finished(&rec));
        }
    }
    Ok((ok, failed))
}

/// Prepare the workspace and spawn the child; on failure the record is saved `failed`.
fn start(
    root: &Path,
    dot: &Path,
    store: &Store,
    opts: &RunnerOptions,
    cancel: &Arc<Cancel>,
    mut rec: ExpRecord,
) -> Result<Slot, Box<ExpRecord>> {
    rec.attempts += 1;
    rec.started_ms = Some(now_ms());
    let _ = std::fs::remove_file(killed_marker(store, &rec.name));
    let fail = |mut rec: ExpRecord, message: String| {
        let _ = std::fs::write(store.log_path(&rec.name), format!("error: {message}\n"));
        rec.status = ExpStatus::Failed;
        rec.message = Some(message);
        rec.finished_ms = Some(now_ms());
        let _ = store.save(&rec);
        Box::new(rec)
    };
    let ws = match crate::exp::workspace::prepare(root, dot, store, &rec) {
        Ok(ws) => ws,
        Err(e) => {
            let msg = match e.hint() {
                Some(h) => format!("{e} (hint: {h})"),
                None => e.to_string(),
            };
            return Err(fail(rec, msg));
        }
    };
    let files = File::create(store.log_path(&rec.name))
        .and_then(|log| Ok((log, File::create(store.events_path(&rec.name))?)));
    let (log, events) = match files {
        Ok(f) => f,
        Err(e) => return Err(fail(rec, format!("cannot create the log: {e}"))),
    };
    let mut cmd = Command::new(&opts.exe);
    cmd.arg("-C")
        .arg(&ws)
        .arg("repro")
        .arg("--json")
        .args(&opts.repro_args)
        .args(&rec.targets)
        .env("NO_COLOR", "1")
        .env_remove("NETSEC_ROOT")
        .env_remove("NETSEC_STAGE")
        .stdin(Stdio::null())
        .stdout(events)
        .stderr(log);
    let (child, guard) = match crate::exec::guard::spawn(&mut cmd) {
        Ok(c) => c,
        Err(e) => {
            crate::exp::workspace::cleanup(&ws);
            return Err(fail(
                rec,
                format!("cannot start `{}`: {e}", opts.exe.display()),
            ));
        }
    };
    cancel.register(child.id() as i32);
    rec.status = ExpStatus::Running;
    rec.pgid = Some(child.id() as i32);
    if let Err(e) = store.save(&rec) {
        tracing::warn!("cannot record that `{}` started: {e}", rec.name);
    }
    Ok(Slot {
        rec,
        child,
        _guard: guard,
        ws,
    })
}

/// Record the outcome of a finished child and remove its workspace.
fn finish(
    store: &Store,
    slot: &mut Slot,
    code: i32,
    cancelled: bool,
    collect: &dyn Fn(&Path) -> Collected,
) -> ExpRecord {
    let rec = &mut slot.rec;
    rec.finished_ms = Some(now_ms());
    rec.pgid = None;
    rec.exit_code = Some(code);
    let events = netsec_common::read_regular_string(&store.events_path(&rec.name), Some(64 << 20))
        .ok()
        .and_then(|t| ReproLine::parse_stream(&t).ok())
        .unwrap_or_default();
    let mut failure = None;
    rec.stages.clear();
    for line in events {
        if let ReproLine::Stage(ev) = line {
            if ev.outcome == Outcome::Failed && failure.is_none() {
                failure = ev
                    .failure
                    .as_ref()
                    .map(|f| format!("stage `{}` failed: {}", ev.stage, f.message));
            }
            rec.stages.insert(ev.stage, ev.outcome.as_str().to_string());
        }
    }
    match Lockfile::load(&slot.ws) {
        Ok(lock) => rec.lock = serde_json::to_value(&lock).ok(),
        Err(e) => tracing::warn!("experiment `{}`: cannot read its lock: {e}", rec.name),
    }
    let c = collect(&slot.ws);
    rec.params = c.params;
    rec.metrics = c.metrics;
    let killed = killed_marker(store, &rec.name).exists();
    if code == 0 && !cancelled && !killed {
        rec.status = ExpStatus::Success;
        rec.message = None;
    } else {
        rec.status = ExpStatus::Failed;
        rec.message = Some(if killed {
            "killed by `netsec queue kill`".to_string()
        } else if cancelled {
            "interrupted".to_string()
        } else {
            failure.unwrap_or_else(|| format!("`netsec repro` exited with {code}"))
        });
    }
    let _ = std::fs::remove_file(killed_marker(store, &rec.name));
    if let Err(e) = store.save(rec) {
        tracing::warn!("cannot record the end of `{}`: {e}", rec.name);
    }
    crate::exp::workspace::cleanup(&slot.ws);
    rec.clone()
}
