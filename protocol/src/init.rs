//! `netsec init --json`: what was created.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitJson {
    /// The directory initialized (absolute).
    pub root: String,
    /// What was created, relative to `root` (`pipeline.toml`, `.dvcignore`, `.netsec/`, and
    /// `.gitignore entry `/.netsec/`` when that line was added); empty when nothing was missing.
    pub created: Vec<String>,
}
