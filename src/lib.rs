//! netsec engine: `pipeline.toml` → validated `Pipeline` → DAG → fingerprints → parallel
//! executor, with `netsec.lock`, a content-addressed cache and a run-cache. No ML, no network:
//! ML steps arrive as `Builtin`s registered by the binary.

#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

pub mod action;
pub mod atomic;
pub mod builtin;
pub mod cache;
pub mod cancel;
pub mod checkout;
pub mod commit;
pub mod digest;
pub mod dirty_reason;
pub mod dvcignore;
pub mod error;
pub mod events;
pub mod executor;
pub mod fingerprint;
pub mod gc;
pub mod graph;
pub mod init;
pub mod insert;
pub mod lock;
pub mod manifest;
pub mod memo;
pub mod params;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod remote;
pub mod repo_lock;
pub mod repo_path;
pub mod restore;
pub mod run_cache;
pub mod status;
pub mod workspace;

#[cfg(test)]
mod tests_builtin;

pub use builtin::{Builtin, BuiltinContext, BuiltinError, BuiltinErrorKind, BuiltinRegistry};
pub use cancel::Cancel;
pub use dirty_reason::DirtyReason;
pub use error::{exit, Error};
pub use events::{Event, Outcome, ReproResult, StageFailure, StageReport};
pub use executor::{repro, ReproOptions};
pub use lock::Lockfile;
pub use pipeline::{Pipeline, PipelineError, Stage, Warning};
pub use repo_lock::RepoLock;
pub use repo_path::RepoPath;
pub use workspace::{find_root, Repo};
