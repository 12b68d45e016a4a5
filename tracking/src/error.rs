//! Errors of the tracking crate. Messages never contain credentials: URLs are redacted of
//! any `user:password@` part (by `netsec_common::redact`) and auth headers are never echoed.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error("invalid tracking config `{key}` in `{}`: {message}", file.display())]
    Config {
        file: PathBuf,
        key: String,
        message: String,
    },

    #[error("failed to read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("failed to write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("`{}`: {message}", path.display())]
    Artifact { path: PathBuf, message: String },

    #[error("MLflow server {uri} unreachable ({endpoint}): {message}")]
    Unreachable {
        uri: String,
        endpoint: String,
        message: String,
    },

    #[error("MLflow server {uri} answered {status} to {endpoint}: {message}")]
    Http {
        uri: String,
        endpoint: String,
        status: u16,
        message: String,
    },

    #[error("MLflow server {uri}: unexpected answer from {endpoint}: {message}")]
    Protocol {
        uri: String,
        endpoint: String,
        message: String,
    },

    #[error("git: {message}")]
    Git { message: String },
}

impl TrackingError {
    /// A hint for the user, when one helps.
    pub fn hint(&self) -> Option<String> {
        match self {
            TrackingError::Unreachable { .. } => Some(
                "is the server running? `scripts/services.sh start mlflow` starts a local one; \
                 unset MLFLOW_TRACKING_URI to disable tracking"
                    .into(),
            ),
            TrackingError::Http {
                status: 401 | 403, ..
            } => Some(
                "set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN"
                    .into(),
            ),
            _ => None,
        }
    }
}

pub type Result<T, E = TrackingError> = std::result::Result<T, E>;
