//! `Named`: an opened remote with the name it has in pipeline.toml, so that every error can
//! say which remote (name and URL, never a credential) an operation failed on.

use std::fmt;
use std::sync::Arc;

use super::{Remote, RemoteError};
use crate::error::Error;

/// An opened remote and its name.
#[derive(Clone)]
pub struct Named {
    pub name: String,
    pub remote: Arc<dyn Remote>,
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
        }
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
