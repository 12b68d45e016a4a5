//! `netsec repro --json`: one JSON object per line on stdout, a `stage` event per finished stage
//! and a `summary` last.

use serde::{Deserialize, Serialize};

use crate::reason::DirtyReason;

/// How a stage ended in one `repro`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its action ran and succeeded.
    Ran,
    /// Its outs were restored (see [`RestoreSource`]).
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

impl Outcome {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ran => "ran",
            Outcome::Restored => "restored",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Frozen => "frozen",
            Outcome::WouldRun => "would_run",
            Outcome::NotRun => "not_run",
        }
    }
}

/// Where a restored stage's outs came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreSource {
    /// The local run-cache (`.netsec/cache/runs-v1`).
    RunCache,
    /// The remote given to `repro --pull` (its run-cache, or the outs netsec.lock records).
    Remote,
}

impl RestoreSource {
    pub fn describe(self) -> &'static str {
        match self {
            RestoreSource::RunCache => "the run-cache",
            RestoreSource::Remote => "the remote",
        }
    }
}

/// What kind of failure ended a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The command exited non-zero, or a built-in failed.
    Failed,
    /// The command was killed by a signal.
    Signalled,
    /// The run was interrupted (Ctrl-C, SIGTERM).
    Interrupted,
    /// A built-in rejected its input data (validation, drift).
    DataRejected,
    /// Reading or writing the workspace, the cache or a remote failed.
    Io,
    /// The command could not be started, or a declared out was missing after it.
    Invalid,
    /// It ran longer than its `timeout` and was killed (its process group, or its job).
    TimedOut,
}

/// Why a stage failed, as fields (rendered by the binary, never re-parsed from text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageFailure {
    pub kind: FailureKind,
    /// The process exit code netsec maps this failure to.
    pub exit_code: i32,
    /// One line: what went wrong (`command exited with status 3`).
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The command's exit status, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
    /// The last lines the command wrote to stderr (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stderr_tail: Vec<String>,
}

impl StageFailure {
    /// A failure with no hint, exit status or stderr tail.
    pub fn new(kind: FailureKind, exit_code: i32, message: impl Into<String>) -> StageFailure {
        StageFailure {
            kind,
            exit_code,
            message: message.into(),
            hint: None,
            status: None,
            stderr_tail: Vec::new(),
        }
    }

    /// The same failure with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> StageFailure {
        self.hint = Some(hint.into());
        self
    }
}

/// One finished stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageEvent {
    pub stage: String,
    pub outcome: Outcome,
    pub reasons: Vec<DirtyReason>,
    pub duration_ms: u64,
    /// Set when `outcome` is `restored`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<RestoreSource>,
    /// Set when `outcome` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StageFailure>,
    /// Set when the stage ran as a batch job (`--executor slurm`): its last job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobInfo>,
    /// Set when it ran more than once (`retries`, or a requeued job): how many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
}

impl StageEvent {
    /// A stage found fresh and not run, after `duration_ms` spent finding so.
    pub fn skipped(stage: String, duration_ms: u64) -> StageEvent {
        StageEvent {
            stage,
            outcome: Outcome::Skipped,
            reasons: Vec::new(),
            duration_ms,
            restored_from: None,
            failure: None,
            job: None,
            attempts: None,
        }
    }
}

/// A stage's batch job (`--executor slurm`), in `repro --json` and `status --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    /// The scheduler's job id (`12345`).
    pub id: String,
    /// `netsec-<stage>-<fingerprint prefix>`.
    pub name: String,
    /// The node it ran on, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The scheduler's state when last seen (`RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`…).
    pub state: String,
}

/// The last line: stage names by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub ran: Vec<String>,
    pub restored: Vec<String>,
    pub skipped: Vec<String>,
    pub failed: Vec<String>,
    pub not_run: Vec<String>,
    pub frozen: Vec<String>,
    pub would_run: Vec<String>,
}

impl Summary {
    /// The summary of a list of finished stages.
    pub fn of(events: &[StageEvent]) -> Summary {
        let mut s = Summary::default();
        for e in events {
            let list = match e.outcome {
                Outcome::Ran => &mut s.ran,
                Outcome::Restored => &mut s.restored,
                Outcome::Skipped => &mut s.skipped,
                Outcome::Failed => &mut s.failed,
                Outcome::NotRun => &mut s.not_run,
                Outcome::Frozen => &mut s.frozen,
                Outcome::WouldRun => &mut s.would_run,
            };
            list.push(e.stage.clone());
        }
        s
    }
}

/// One line of `repro --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ReproLine {
    Stage(StageEvent),
    Summary(Summary),
}

impl ReproLine {
    /// Parses a whole `repro --json` stdout: every non-empty line must be a [`ReproLine`].
    pub fn parse_stream(text: &str) -> serde_json::Result<Vec<ReproLine>> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect()
    }

    /// `(stage, outcome)` of every stage event in a `repro --json` stdout.
    pub fn outcomes(text: &str) -> serde_json::Result<Vec<(String, Outcome)>> {
        Ok(Self::parse_stream(text)?
            .into_iter()
            .filter_map(|l| match l {
                ReproLine::Stage(ev) => Some((ev.stage, ev.outcome)),
                ReproLine::Summary(_) => None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_with_their_tags() {
        let ev = ReproLine::Stage(StageEvent {
            stage: "train".into(),
            outcome: Outcome::Restored,
            reasons: vec![DirtyReason::NeverRun],
            duration_ms: 3,
            restored_from: Some(RestoreSource::RunCache),
            failure: None,
            job: None,
            attempts: None,
        });
        let text = serde_json::to_string(&ev).unwrap();
        assert_eq!(
            text,
            r#"{"event":"stage","stage":"train","outcome":"restored","reasons":[{"kind":"never_run"}],"duration_ms":3,"restored_from":"run-cache"}"#
        );
        let sum = ReproLine::Summary(Summary::default());
        let both = format!("{text}\n{}\n", serde_json::to_string(&sum).unwrap());
        assert_eq!(ReproLine::parse_stream(&both).unwrap(), vec![ev, sum]);
    }
}
