//! `netsec gc --json` (local cache, or `--remote`).

use serde::{Deserialize, Serialize};

/// What gc removed (or, with `dry_run`, would remove).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GcJson {
    /// The remote collected, or absent for the local cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    pub dry_run: bool,
    /// The scope whose locks were kept: `workspace`, `all-branches`, `all-tags`, `all-commits`.
    pub scope: Vec<String>,
    /// How many distinct locks that scope held.
    pub locks: usize,
    /// Experiment records whose locks (and run-cache entries) were kept besides the scope's:
    /// the local ones, or with `--remote` those on the remote.
    #[serde(default)]
    pub experiments: usize,
    pub removed_objects: u64,
    pub removed_bytes: u64,
    pub kept_objects: u64,
    pub removed_runs: u64,
    pub kept_runs: u64,
    /// `--remote`: keys of unfinished snapshots (copies whose `snapshots/<ts>.json` was never
    /// written) older than the remote's `stale_after`, and their bytes.
    #[serde(default)]
    pub removed_unfinished: u64,
    #[serde(default)]
    pub removed_unfinished_bytes: u64,
    /// `--remote`: unfinished uploads (a killed push's) aborted.
    #[serde(default)]
    pub aborted_uploads: u64,
}
