//! `netsec exp push --json` and `netsec exp pull --json`: experiments shared through a remote.

use serde::{Deserialize, Serialize};

/// `netsec exp push --json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExpPushJson {
    pub remote: String,
    pub url: String,
    /// Records written to the remote.
    pub pushed: Vec<String>,
    /// Records the remote already held, identical.
    pub unchanged: Vec<String>,
    /// Cache objects uploaded, and those already there.
    pub uploaded: u64,
    pub uploaded_bytes: u64,
    pub present: u64,
    pub runs_uploaded: u64,
    pub runs_present: u64,
}

/// A remote record `exp pull` did not take, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedRecord {
    /// The remote key (`exps/records-v1/NAME.json`).
    pub key: String,
    pub reason: String,
}

/// `netsec exp pull --json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExpPullJson {
    pub remote: String,
    pub url: String,
    /// Records written locally (their objects and run entries fetched first).
    pub pulled: Vec<String>,
    /// Records already here, identical.
    pub unchanged: Vec<String>,
    /// Names held locally by a different experiment: refused (exit 2).
    pub conflicts: Vec<String>,
    /// Unusable remote records (malformed, too large, unfinished, objects missing): skipped
    /// (exit 5).
    pub skipped: Vec<SkippedRecord>,
    /// Cache objects downloaded (verified), and those already in the cache.
    pub downloaded: u64,
    pub downloaded_bytes: u64,
    pub present: u64,
    /// Run-cache entries fetched.
    pub runs_fetched: u64,
}
