//! Remote backends: how a `[remotes.NAME]` URL scheme becomes a [`Remote`]. The engine ships
//! the directory remote (a URL without a scheme); the binary registers the others (`s3://`,
//! served by `netsec-remote-s3`). Each backend names and checks its own options, so the engine
//! validates a remote table completely at load time without knowing any backend's keys.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::{Remote, RemoteConfig, RemoteError};

/// One URL scheme's remotes.
pub trait RemoteBackend: Send + Sync {
    /// The scheme it serves, without `://` (`s3`).
    fn scheme(&self) -> &'static str;

    /// Keys a `[remotes.NAME]` table of this scheme may hold besides `url` and `default`.
    fn option_keys(&self) -> &'static [&'static str];

    /// Checks the URL and the option values (types, ranges) at load time. `Err((key, message))`
    /// names the offending key (`url` for the URL).
    fn check(&self, url: &str, options: &toml::Table) -> Result<(), (String, String)>;

    /// Opens the remote. Makes no request; `env` is the process environment.
    fn open(
        &self,
        cfg: &RemoteConfig,
        env: &BTreeMap<String, String>,
    ) -> Result<Arc<dyn Remote>, RemoteError>;
}

/// The backends a binary provides, by scheme.
#[derive(Clone, Default)]
pub struct RemoteBackends {
    map: BTreeMap<&'static str, Arc<dyn RemoteBackend>>,
}

impl fmt::Debug for RemoteBackends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.map.keys()).finish()
    }
}

impl RemoteBackends {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, b: impl RemoteBackend + 'static) -> &mut Self {
        self.map.insert(b.scheme(), Arc::new(b));
        self
    }

    pub fn get(&self, scheme: &str) -> Option<&Arc<dyn RemoteBackend>> {
        self.map.get(scheme)
    }

    pub fn schemes(&self) -> Vec<&'static str> {
        self.map.keys().copied().collect()
    }
}

/// The scheme of `url` (`s3` of `s3://b/p`), or `None` for a directory path.
pub fn scheme_of(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once("://")?;
    (!scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+'))
    .then_some(scheme)
}
