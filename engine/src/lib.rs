//! netsec engine: `pipeline.toml` → validated `Pipeline` → DAG → fingerprints → parallel
//! executor, with `netsec.lock`, a content-addressed cache, a run-cache and remotes. No ML, no
//! HTTP, no S3, no MongoDB (its Cargo.toml cannot reach them): ML steps arrive as `Builtin`s and
//! storage backends as `Remote`s, both registered by the binary.

#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

pub mod action;
pub mod add;
pub mod builtin;
pub mod cache;
pub mod cancel;
pub mod checkout;
pub mod claims;
pub mod commit;
pub mod confine;
pub mod digest;
pub mod dvcignore;
pub mod error;
pub mod events;
pub mod exec;
pub mod executor;
pub mod exp;
pub mod expand;
pub mod extensions;
pub mod fingerprint;
pub mod fresh_seal;
pub mod gc;
pub mod gitignore;
pub mod graph;
pub mod history;
pub mod init;
pub mod insert;
pub mod interpolate;
pub mod local_config;
pub mod lock;
pub mod lock_journal;
pub mod lock_preload;
pub mod manifest;
pub mod memo;
pub mod orphans;
pub mod out_index;
pub mod params;
pub mod params_edit;
pub mod params_rev;
pub mod parent_dir;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod remote;
pub mod repo_lock;
pub mod repo_path;
pub mod restore;
pub mod run_cache;
pub mod run_lock;
pub mod run_settings;
pub mod stamp;
pub mod status;
pub mod suggest;
pub mod workspace;

#[cfg(test)]
mod test_repo;
#[cfg(test)]
mod tests_builtin;

/// The reasons a stage is dirty live in the protocol crate (they are `--json` output).
pub use netsec_protocol::reason as dirty_reason;

pub use builtin::{Builtin, BuiltinContext, BuiltinError, BuiltinErrorKind, BuiltinRegistry};
pub use cancel::Cancel;
pub use dirty_reason::DirtyReason;
pub use error::{exit, Error};
pub use events::{
    Event, FailureKind, Outcome, ReproResult, RestoreSource, StageFailure, StageReport,
};
pub use executor::{repro, ReproOptions};
pub use extensions::Extensions;
pub use lock::Lockfile;
pub use pipeline::{Pipeline, PipelineError, Stage, Warning};
pub use repo_lock::RepoLock;
pub use repo_path::RepoPath;
pub use workspace::{find_root, Repo};
