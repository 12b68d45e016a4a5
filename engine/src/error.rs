//! The engine's top-level error, with the semantic exit code each kind maps to.

use std::io;
use std::path::PathBuf;

use crate::lock::LockError;
use crate::pipeline::PipelineError;
use crate::remote::RemoteError;

/// Exit codes shared by every command (see docs/ARCHITECTURE.md).
pub mod exit {
    pub const OK: i32 = 0;
    pub const STAGE_FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const INVALID_PIPELINE: i32 = 3;
    pub const DATA_REJECTED: i32 = 4;
    pub const IO: i32 = 5;
    pub const LOCKED: i32 = 6;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("failed to {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("the repository is locked by another netsec process{}", pid.map(|p| format!(" (PID {p})")).unwrap_or_default())]
    Locked { pid: Option<u32>, path: PathBuf },
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("no pipeline.toml found in `{start}` or any parent directory")]
    NoPipeline { start: PathBuf },
    /// The executor (a batch scheduler) cannot be used: unreachable, or its tools missing.
    #[error("{message}")]
    Executor {
        message: String,
        hint: Option<String>,
    },
    /// A remote operation failed. `url` is the remote's `describe()` (never a credential);
    /// the key, if any, is in `source`.
    #[error("{op} failed on remote `{remote}` ({url}): {source}")]
    Remote {
        remote: String,
        url: String,
        op: &'static str,
        source: RemoteError,
    },
}

impl Error {
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Pipeline(_) | Error::NoPipeline { .. } => exit::INVALID_PIPELINE,
            Error::Lock(_) | Error::Io { .. } | Error::Remote { .. } | Error::Executor { .. } => {
                exit::IO
            }
            Error::Locked { .. } => exit::LOCKED,
            Error::Usage { .. } => exit::USAGE,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Pipeline(e) => e.hint.clone(),
            Error::Locked { path, .. } => Some(format!(
                "wait for it to finish; if no netsec is running, the lock `{}` is released automatically",
                path.display()
            )),
            Error::Usage { hint, .. } | Error::Executor { hint, .. } => hint.clone(),
            Error::Remote { source, .. } => source.hint.clone(),
            Error::NoPipeline { .. } => Some("run `netsec init`, or pass `-C DIR`".into()),
            Error::Lock(LockError::Parse { .. }) => {
                Some("restore netsec.lock from git, or delete it to rerun every stage".into())
            }
            _ => None,
        }
    }
}
