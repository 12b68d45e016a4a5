//! `--json` of the remote commands: `remote list`, `push`, `fetch`, `pull`, `gc --remote`,
//! `snapshots`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One `[remotes.NAME]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteEntry {
    pub name: String,
    pub url: String,
    /// The effective default (marked, or the only one).
    pub default: bool,
    /// Backend options (`endpoint`, `region`, …) as written in pipeline.toml.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// The snapshot a push wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRef {
    pub timestamp: String,
    /// The manifest's key on the remote (`snapshots/<ts>.json`).
    pub manifest: String,
    pub keys: Vec<String>,
}

/// `netsec push --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushJson {
    pub remote: String,
    pub url: String,
    pub uploaded: u64,
    pub uploaded_bytes: u64,
    pub present: u64,
    pub present_bytes: u64,
    pub runs_uploaded: u64,
    pub runs_present: u64,
    /// Unfinished uploads of killed pushes (older than the remote's `stale_after`) aborted.
    #[serde(default)]
    pub aborted_uploads: u64,
    pub snapshot: Option<SnapshotRef>,
}

/// `netsec fetch --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchJson {
    pub remote: String,
    pub url: String,
    pub downloaded: u64,
    pub downloaded_bytes: u64,
    pub present: u64,
}

/// `netsec pull --json`: the fetch, then the checkout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullJson {
    #[serde(flatten)]
    pub fetch: FetchJson,
    pub restored: Vec<String>,
    pub unchanged: Vec<String>,
    pub not_cached: Vec<String>,
    pub failed: Vec<String>,
    /// Edited outs left alone (`pull --force` overwrites them).
    #[serde(default)]
    pub refused: Vec<String>,
}

/// One entry of `netsec snapshots --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotJson {
    pub timestamp: String,
    pub git_commit: Option<String>,
    pub lock_digest: String,
    pub netsec_version: String,
    pub stages: Vec<String>,
    /// How many keys the snapshot wrote.
    pub keys: usize,
    pub metrics: BTreeMap<String, serde_json::Value>,
}
