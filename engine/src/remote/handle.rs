//! `Named`: an opened remote with the name it has in pipeline.toml, so that every error can
//! say which remote (name and URL, never a credential) an operation failed on.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Remote, RemoteError};
use crate::error::Error;

/// An opened remote and its name.
#[derive(Clone)]
pub struct Named {
    pub name: String,
    pub remote: Arc<dyn Remote>,
    /// How old an unfinished write or snapshot must be before it is removed (the remote's
    /// `stale_after`).
    pub stale_after: Duration,
}

impl fmt::Debug for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Named({} = {})", self.name, self.remote.describe())
    }
}

impl Named {
    pub fn new(name: impl Into<String>, remote: Arc<dyn Remote>) -> Named {
        Named {
            name: name.into(),
            remote,
            stale_after: super::unfinished::DEFAULT_STALE_AFTER,
        }
    }

    /// With the grace period `stale_after` instead of the default.
    pub fn with_stale_after(mut self, stale_after: Duration) -> Named {
        self.stale_after = stale_after;
        self
    }

    /// The engine error for `source`, raised while doing `op` (`push`, `fetch`, …).
    pub fn err(&self, op: &'static str, source: RemoteError) -> Error {
        Error::Remote {
            remote: self.name.clone(),
            url: self.remote.describe(),
            op,
            source,
        }
    }
}
