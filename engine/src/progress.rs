//! Progress of long operations (hashing a big file, pushing objects, a training grid), for
//! whoever renders it. Purely observational: nothing here changes a result.
//!
//! The binary installs one [`ProgressSink`] per process ([`set_sink`]): indicatif bars on a
//! terminal, plain lines otherwise, nothing with `--quiet`. Library code opens a [`Task`] with
//! [`task`], advances it and drops it when done; with no sink installed that costs nothing.
//! A process-wide hook rather than a parameter threaded through every hashing call, because it
//! is output only and the hashing functions are called from many places.

use std::sync::{Arc, OnceLock};

/// What a task counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

/// One running task as the sink sees it. Dropping it ends the task.
pub trait TaskHandle: Send + Sync {
    /// `n` more units done.
    fn inc(&self, n: u64);
}

/// Renders tasks.
pub trait ProgressSink: Send + Sync {
    /// A task starts: `label` says what (`hashing artifacts/big.bin`), `total` how much.
    fn start(&self, label: &str, total: u64, unit: Unit) -> Box<dyn TaskHandle>;
    /// Whether updates are shown live (a terminal bar). Callers may then choose a slightly
    /// slower code path that can report as it goes; otherwise only start and end are shown.
    fn live(&self) -> bool;
}

static SINK: OnceLock<Arc<dyn ProgressSink>> = OnceLock::new();

/// Installs the process's sink; only the first call wins.
pub fn set_sink(sink: Arc<dyn ProgressSink>) {
    let _ = SINK.set(sink);
}

/// Whether a live sink is installed.
pub fn live() -> bool {
    SINK.get().is_some_and(|s| s.live())
}

/// A running task; ends when dropped.
pub struct Task(Option<Box<dyn TaskHandle>>);

impl Task {
    pub fn inc(&self, n: u64) {
        if let Some(h) = &self.0 {
            h.inc(n);
        }
    }
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Task")
    }
}

/// Opens a task on the installed sink (a no-op task without one).
pub fn task(label: &str, total: u64, unit: Unit) -> Task {
    Task(SINK.get().map(|s| s.start(label, total, unit)))
}
