//! `netsec checkout --json` (and the checkout half of `pull --json`).

use serde::{Deserialize, Serialize};

/// What a checkout did, out by out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CheckoutJson {
    pub restored: Vec<String>,
    pub unchanged: Vec<String>,
    /// `cache = false` outs that are missing (only their stage can make them).
    pub not_cached: Vec<String>,
    /// Outs that could not be restored (object missing or corrupt, I/O error).
    pub failed: Vec<String>,
    /// Outs edited in the workspace and held by no cache object: left alone (`--force`
    /// overwrites them).
    pub refused: Vec<String>,
}
