//! What a binary plugs into the engine: built-in stages and remote backends. The engine
//! defines the traits; the binary registers implementations (ML stages, S3), so the engine's
//! dependencies never include them.

use std::collections::BTreeMap;

use crate::builtin::BuiltinRegistry;
use crate::remote::RemoteBackends;

/// Checks a top-level table a binary owns (`[tracking]`, `[plots]`) when pipeline.toml is
/// loaded, so it is parsed once and a mistake fails before any stage runs.
pub type TableCheck = fn(&toml::Value) -> Result<(), TableError>;

/// Why a binary-owned table is invalid. `at` is the key path inside the table (`["roc",
/// "template"]`); the engine turns it into file:line:col (the table's header when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableError {
    pub at: Vec<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl From<String> for TableError {
    fn from(message: String) -> Self {
        TableError {
            message,
            ..TableError::default()
        }
    }
}

/// The built-ins, remote backends and top-level tables a repository is opened with.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    pub builtins: BuiltinRegistry,
    pub remotes: RemoteBackends,
    /// Top-level tables of pipeline.toml owned by the binary, by name, with their check.
    pub tables: BTreeMap<&'static str, TableCheck>,
}
