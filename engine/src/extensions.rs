//! What a binary plugs into the engine: built-in stages and remote backends. The engine
//! defines the traits; the binary registers implementations (ML stages, S3), so the engine's
//! dependencies never include them.

use crate::builtin::BuiltinRegistry;
use crate::remote::RemoteBackends;

/// The built-ins and remote backends a repository is opened with.
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    pub builtins: BuiltinRegistry,
    pub remotes: RemoteBackends,
}
