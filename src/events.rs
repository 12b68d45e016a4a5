//! What the executor tells the outside world: per-stage outcomes and reports. The binary
//! renders them (human lines on stderr, or JSON Lines on stdout).

use serde::Serialize;

use crate::dirty_reason::DirtyReason;

/// How a stage ended in one `repro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its action ran and succeeded.
    Ran,
    /// Its outs came from the run-cache.
    Restored,
    /// Fresh: nothing to do.
    Skipped,
    Failed,
    /// Frozen: never run; outs present.
    Frozen,
    /// `--dry-run`: would run.
    WouldRun,
    /// Blocked by an upstream failure or an interruption.
    NotRun,
}

/// Why a stage failed, with the exit code it maps to.
#[derive(Debug, Clone, Serialize)]
pub struct StageFailure {
    pub message: String,
    pub hint: Option<String>,
    pub exit_code: i32,
}

/// The result for one stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub stage: String,
    pub outcome: Outcome,
    pub reasons: Vec<DirtyReason>,
    pub duration_ms: u64,
    #[serde(skip)]
    pub failure: Option<StageFailure>,
}

/// An executor event.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// The stage is about to run (or be restored), and why.
    Started {
        stage: &'a str,
        reasons: &'a [DirtyReason],
    },
    /// Final outcome of a stage.
    Finished(&'a StageReport),
    /// A progress line from a built-in stage.
    Progress { stage: &'a str, message: &'a str },
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct ReproResult {
    pub reports: Vec<StageReport>,
    pub exit_code: i32,
}

impl ReproResult {
    pub fn names(&self, outcome: Outcome) -> Vec<&str> {
        self.reports
            .iter()
            .filter(|r| r.outcome == outcome)
            .map(|r| r.stage.as_str())
            .collect()
    }
}
