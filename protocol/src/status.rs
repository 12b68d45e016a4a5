//! `netsec status --json`.

use serde::{Deserialize, Serialize};

use crate::reason::DirtyReason;

/// A stage's state as `status` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    Fresh,
    Dirty,
    Frozen,
}

/// One stage, with every reason it is dirty (or, when frozen, what is missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageStatus {
    pub stage: String,
    pub status: StageState,
    pub reasons: Vec<DirtyReason>,
    /// The batch job running it now (`--executor slurm`), as the running `repro` last saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<crate::repro::JobInfo>,
}

/// The whole answer, stages in topological order, then the data sources of `netsec add`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusJson {
    pub up_to_date: bool,
    pub stages: Vec<StageStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceStatus>,
}

/// A data source's state: the workspace against its record in the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceState {
    Fresh,
    /// Changed since `netsec add` (run it again to record the new version).
    Modified,
    Missing,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub path: String,
    pub state: SourceState,
}
