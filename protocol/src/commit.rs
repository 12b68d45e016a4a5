//! `netsec commit --json` and `netsec add --json`: what was recorded in the lock.

use serde::{Deserialize, Serialize};

use crate::repro::StageFailure;

/// One `commit --json` object: each selected stage and what happened to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommitJson {
    pub stages: Vec<CommittedStage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommittedStage {
    pub stage: String,
    /// `committed` (its current outs are now the lock's), `up_to_date` (nothing to record) or
    /// `failed` (see `failure`; the lock entry is unchanged).
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StageFailure>,
}

/// One `add --json` object: each data source and whether its recorded version changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddJson {
    pub added: Vec<AddedSource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddedSource {
    pub path: String,
    /// blake3 hex of the file, or of a directory's manifest.
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfiles: Option<u64>,
    /// `false` when the lock already recorded this exact version.
    pub changed: bool,
}
