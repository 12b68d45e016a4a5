//! The `s3://` backend: the options a `[remotes.NAME]` table with an `s3://` URL may hold,
//! checked at load time, and opening an [`S3Remote`] from them.

use std::collections::BTreeMap;
use std::sync::Arc;

use netsec_engine::remote::{Remote, RemoteBackend, RemoteConfig, RemoteError};

use crate::client::S3Config;
use crate::location::Location;
use crate::S3Remote;

/// Registered by the binary for `s3://` URLs.
#[derive(Debug, Clone, Copy, Default)]
pub struct S3Backend;

/// Keys of an `s3://` remote table besides `url` and `default`.
pub const OPTION_KEYS: &[&str] = &["endpoint", "path_style", "region", "profile", "timeout"];

impl S3Config {
    /// The S3 settings of a remote table (already checked by [`S3Backend::check`]).
    pub fn from_options(url: &str, options: &toml::Table) -> Result<S3Config, (String, String)> {
        let text = |key: &str| -> Result<Option<String>, (String, String)> {
            match options.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
                Some(_) => Err((
                    key.to_string(),
                    format!("`{key}` must be a non-empty string"),
                )),
            }
        };
        let path_style = match options.get("path_style") {
            None => None,
            Some(toml::Value::Boolean(b)) => Some(*b),
            Some(_) => {
                return Err((
                    "path_style".to_string(),
                    "`path_style` must be true or false".to_string(),
                ))
            }
        };
        let timeout = match options.get("timeout") {
            None => None,
            Some(toml::Value::Integer(n)) if (1..=3600).contains(n) => {
                Some(std::time::Duration::from_secs(*n as u64))
            }
            Some(_) => {
                return Err((
                    "timeout".to_string(),
                    "`timeout` must be a whole number of seconds from 1 to 3600".to_string(),
                ))
            }
        };
        Ok(S3Config {
            url: url.to_string(),
            timeout,
            endpoint: text("endpoint")?,
            path_style,
            region: text("region")?,
            profile: text("profile")?,
        })
    }
}

impl RemoteBackend for S3Backend {
    fn scheme(&self) -> &'static str {
        "s3"
    }

    fn option_keys(&self) -> &'static [&'static str] {
        OPTION_KEYS
    }

    fn check(&self, url: &str, options: &toml::Table) -> Result<(), (String, String)> {
        Location::parse(url).map_err(|e| ("url".to_string(), e.message))?;
        S3Config::from_options(url, options).map(|_| ())
    }

    fn open(
        &self,
        cfg: &RemoteConfig,
        env: &BTreeMap<String, String>,
    ) -> Result<Arc<dyn Remote>, RemoteError> {
        let s3 = S3Config::from_options(&cfg.url, &cfg.options).map_err(|(_, message)| {
            RemoteError::new(netsec_engine::remote::RemoteErrorKind::Other, message)
        })?;
        Ok(Arc::new(S3Remote::open(&s3, env)?))
    }
}
