//! `netsec dag --json`.

use serde::{Deserialize, Serialize};

/// Stages in topological order and data-flow edges `[from, to]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DagJson {
    pub nodes: Vec<String>,
    pub edges: Vec<(String, String)>,
}
