//! Training tasks: `POST /train` runs `EXE repro --json` in the repository root as a child
//! process, one at a time. Its JSON Lines events give stage-by-stage progress, its stderr a
//! bounded log tail; after success the metrics and the promotion decision are read, and a
//! promoted model is swapped in.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use netsec_protocol::{DagJson, ReproLine, Summary};
use serde::Serialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::clock::now_rfc3339;
use crate::slot::{ModelSlot, Reload};

/// Lifecycle of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// One pipeline stage as last reported (`pending` until its event arrives).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageProgress {
    pub stage: String,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// Everything `GET /tasks/{id}` shows.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRecord {
    pub task_id: String,
    pub state: TaskState,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub stages: Vec<StageProgress>,
    /// The `summary` event of `repro --json`, once received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `artifacts/evaluate/metrics.json` after success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Value>,
    /// `promoted` of `artifacts/evaluate/promotion.json`, only when `evaluate` ran in this task
    /// (a skipped or restored evaluate decided nothing now: then `promoted` is absent and
    /// `promotion_note` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promoted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promotion: Option<Value>,
    /// Whether the live model changed while this task ran (a promoted bundle was swapped in).
    pub model_reloaded: bool,
    /// The live model's version when the task finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The last lines of the child's stderr (bounded).
    pub log_tail: VecDeque<String>,
}

/// How `POST /train` was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyRunning {
    pub task_id: String,
}

/// What a task runs and where.
#[derive(Debug, Clone)]
pub struct TrainCommand {
    pub exe: PathBuf,
    pub root: PathBuf,
    pub log_tail_lines: usize,
}

#[derive(Debug, Default)]
struct Registry {
    tasks: BTreeMap<String, TaskRecord>,
    /// Insertion order, for dropping the oldest finished task.
    order: VecDeque<String>,
    running: Option<String>,
}

/// All tasks of this server process (in memory; a restart forgets them).
#[derive(Debug)]
pub struct Tasks {
    inner: Mutex<Registry>,
    counter: AtomicU64,
    max_tasks: usize,
    command: TrainCommand,
}

/// Longest stderr line kept, in bytes (a runaway line must not bloat the record).
const MAX_LINE: usize = 2000;

impl Tasks {
    pub fn new(command: TrainCommand, max_tasks: usize) -> Tasks {
        Tasks {
            inner: Mutex::new(Registry::default()),
            counter: AtomicU64::new(0),
            max_tasks: max_tasks.max(1),
            command,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn get(&self, id: &str) -> Option<TaskRecord> {
        self.lock().tasks.get(id).cloned()
    }

    pub fn running(&self) -> Option<String> {
        self.lock().running.clone()
    }

    /// Registers a task and starts it in the background; refused while another one runs.
    pub fn start(self: &Arc<Self>, slot: Arc<ModelSlot>) -> Result<TaskRecord, AlreadyRunning> {
        let record = {
            let mut reg = self.lock();
            if let Some(id) = &reg.running {
                return Err(AlreadyRunning {
                    task_id: id.clone(),
                });
            }
            let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
            let id = random_id(n);
            let record = TaskRecord {
                task_id: id.clone(),
                state: TaskState::Queued,
                created_at: now_rfc3339(),
                started_at: None,
                finished_at: None,
                stages: Vec::new(),
                summary: None,
                exit_code: None,
                error: None,
                metrics: None,
                promoted: None,
                promotion_note: None,
                promotion: None,
                model_reloaded: false,
                model_version: None,
                log_tail: VecDeque::new(),
            };
            reg.running = Some(id.clone());
            reg.order.push_back(id.clone());
            reg.tasks.insert(id, record.clone());
            // Forget the oldest finished tasks beyond the bound.
            while reg.order.len() > self.max_tasks {
                let Some(old) = reg.order.pop_front() else {
                    break;
                };
                if reg.running.as_deref() == Some(old.as_str()) {
                    reg.order.push_back(old);
                    break;
                }
                reg.tasks.remove(&old);
            }
            record
        };
        let tasks = Arc::clone(self);
        let id = record.task_id.clone();
        tokio::spawn(async move { tasks.run(id, slot).await });
        Ok(record)
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut TaskRecord)) {
        if let Some(rec) = self.lock().tasks.get_mut(id) {
            f(rec);
        }
    }

    async fn run(self: Arc<Self>, id: String, slot: Arc<ModelSlot>) {
        let cmd = self.command.clone();
        // The stage list first, so progress shows pending stages too (best effort).
        let stages = list_stages(&cmd).await.unwrap_or_default();
        self.update(&id, |r| {
            r.state = TaskState::Running;
            r.started_at = Some(now_rfc3339());
            r.stages = stages
                .into_iter()
                .map(|stage| StageProgress {
                    stage,
                    outcome: "pending".into(),
                    duration_ms: None,
                })
                .collect();
        });
        tracing::info!(task = %id, exe = %cmd.exe.display(), "training started");
        let version_before = slot.get().map(|m| m.card.version.clone());
        let outcome = self.run_child(&id, &cmd).await;
        let failed = match outcome {
            Ok(0) => None,
            Ok(code) => Some((
                Some(code),
                format!("`netsec repro` exited with code {code}"),
            )),
            Err(e) => Some((None, e)),
        };
        if let Some((code, message)) = failed {
            tracing::warn!(task = %id, "training failed: {message}");
            self.finish(&id, |r| {
                r.state = TaskState::Failed;
                r.exit_code = code;
                r.error = Some(message);
            });
            return;
        }
        let metrics = read_json(&cmd.root.join("artifacts/evaluate/metrics.json")).await;
        let promotion = read_json(&cmd.root.join("artifacts/evaluate/promotion.json")).await;
        let evaluate = self.get(&id).and_then(|r| {
            r.stages
                .iter()
                .find(|s| s.stage == "evaluate")
                .map(|s| s.outcome.clone())
        });
        let (promoted, promotion_note) = match evaluate.as_deref() {
            Some("ran") => (
                promotion
                    .as_ref()
                    .and_then(|p| p.get("promoted"))
                    .and_then(Value::as_bool),
                None,
            ),
            Some(outcome) => (
                None,
                Some(format!(
                    "`evaluate` did not run in this task ({outcome}): no promotion was decided; `promotion` is the last decision on disk"
                )),
            ),
            None => (
                None,
                Some("the pipeline has no `evaluate` stage that reported: no promotion was decided".to_string()),
            ),
        };
        // A promoted model goes live now rather than at the next poll (the watcher may have
        // been first: what counts is whether the live model changed during the task). It goes
        // live just before the task is marked finished: for that instant `/predict` may answer
        // with the new model while `/tasks` still says running.
        if promoted == Some(true) {
            let slot = Arc::clone(&slot);
            match tokio::task::spawn_blocking(move || slot.reload(false)).await {
                Ok(Reload::Rejected(msg)) => {
                    tracing::warn!(task = %id, "the promoted bundle was not loaded: {msg}")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(task = %id, "reload failed: {e}"),
            }
        }
        let version_after = slot.get().map(|m| m.card.version.clone());
        let reloaded = version_after.is_some() && version_after != version_before;
        tracing::info!(task = %id, ?promoted, reloaded, "training succeeded");
        self.finish(&id, |r| {
            r.state = TaskState::Succeeded;
            r.exit_code = Some(0);
            r.metrics = metrics;
            r.promoted = promoted;
            r.promotion_note = promotion_note;
            r.promotion = promotion;
            r.model_reloaded = reloaded;
            r.model_version = version_after;
        });
    }

    fn finish(&self, id: &str, f: impl FnOnce(&mut TaskRecord)) {
        let mut reg = self.lock();
        if let Some(rec) = reg.tasks.get_mut(id) {
            f(rec);
            rec.finished_at = Some(now_rfc3339());
        }
        if reg.running.as_deref() == Some(id) {
            reg.running = None;
        }
    }

    /// Runs the child to completion, streaming its output into the record; the exit code.
    async fn run_child(&self, id: &str, cmd: &TrainCommand) -> Result<i32, String> {
        let mut child = Command::new(&cmd.exe)
            .args(["repro", "--json"])
            .current_dir(&cmd.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1")
            // Dropped with the server (shutdown): the engine is crash-safe, a killed run is
            // simply stale next time.
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("failed to start `{} repro --json`: {e}", cmd.exe.display()))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let events = async {
            if let Some(out) = stdout {
                self.pump(out, |line| self.on_event(id, line)).await;
            }
        };
        let logs = async {
            if let Some(err) = stderr {
                self.pump(err, |line| self.on_log(id, line, cmd.log_tail_lines))
                    .await;
            }
        };
        tokio::join!(events, logs);
        let status = child
            .wait()
            .await
            .map_err(|e| format!("failed to wait for the training process: {e}"))?;
        Ok(status.code().unwrap_or(-1))
    }

    async fn pump(&self, stream: impl AsyncRead + Unpin, mut on_line: impl FnMut(String)) {
        let mut lines = BufReader::new(stream).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => on_line(line),
                Ok(None) => break,
                Err(e) => {
                    // Non-UTF-8 output: keep going with the next line is impossible with
                    // `lines()`; record why the tail stops.
                    on_line(format!("[netsec serve: output unreadable: {e}]"));
                    break;
                }
            }
        }
    }

    fn on_event(&self, id: &str, line: String) {
        let Ok(event) = serde_json::from_str::<ReproLine>(&line) else {
            // Not an event (stdout carries only JSON Lines with --json): keep it as a log line.
            self.on_log(id, line, usize::MAX);
            return;
        };
        match event {
            ReproLine::Stage(ev) => self.update(id, |r| {
                let progress = StageProgress {
                    stage: ev.stage.clone(),
                    outcome: ev.outcome.as_str().to_string(),
                    duration_ms: Some(ev.duration_ms),
                };
                match r.stages.iter_mut().find(|s| s.stage == ev.stage) {
                    Some(s) => *s = progress,
                    None => r.stages.push(progress),
                }
            }),
            ReproLine::Summary(summary) => self.update(id, |r| r.summary = Some(summary)),
        }
    }

    fn on_log(&self, id: &str, mut line: String, max_lines: usize) {
        if line.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push('…');
        }
        let max_lines = if max_lines == usize::MAX {
            self.command.log_tail_lines
        } else {
            max_lines
        };
        self.update(id, |r| {
            r.log_tail.push_back(line);
            while r.log_tail.len() > max_lines {
                r.log_tail.pop_front();
            }
        });
    }
}

/// An unguessable task id: 128 bits from the OS (`/dev/urandom`), or, where that cannot be
/// read, from std's randomly keyed hasher; `n` keeps ids distinct either way.
fn random_id(n: u64) -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !from_os {
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(n);
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("t{hex}")
}

/// Stage names from `EXE dag --json` (in the engine's order), or `None` if that fails.
async fn list_stages(cmd: &TrainCommand) -> Option<Vec<String>> {
    let out = Command::new(&cmd.exe)
        .args(["dag", "--json"])
        .current_dir(&cmd.root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dag: DagJson = serde_json::from_slice(&out.stdout).ok()?;
    Some(dag.nodes)
}

async fn read_json(path: &Path) -> Option<Value> {
    let bytes = tokio::fs::read(path).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}
