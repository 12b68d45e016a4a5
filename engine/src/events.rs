//! What the executor tells the outside world: per-stage events, typed once in
//! `netsec-protocol`. The binary renders them (human lines on stderr, or JSON Lines on stdout).

pub use netsec_protocol::repro::{
    FailureKind, Outcome, RestoreSource, StageEvent as StageReport, StageFailure, Summary,
};

use crate::dirty_reason::DirtyReason;

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

    /// The `summary` line of `repro --json`.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.reports)
    }
}
