//! `s3://` remotes: the engine's [`Remote`] trait over `netsec_remote_s3::S3Remote`.
//!
//! The S3 crate cannot implement the engine's trait itself (the engine package depends on it,
//! and cargo forbids the cycle), so this newtype forwards each call and maps the error kinds.

use std::collections::BTreeMap;
use std::path::Path;

use netsec::remote::{Progress, Remote, RemoteConfig, RemoteError, RemoteErrorKind, RemoteObject};
use netsec_remote_s3::{ErrorKind, S3Config, S3Error, S3Remote};

/// An opened S3 remote.
#[derive(Debug)]
pub struct S3(S3Remote);

impl S3 {
    /// Opens `cfg` (an `s3://` url) with the credentials, region and endpoint found in `env`.
    pub fn open(cfg: &RemoteConfig, env: &BTreeMap<String, String>) -> Result<S3, RemoteError> {
        let s3 = S3Config {
            url: cfg.url.clone(),
            endpoint: cfg.endpoint.clone(),
            path_style: cfg.path_style,
            region: cfg.region.clone(),
            profile: cfg.profile.clone(),
        };
        S3Remote::open(&s3, env).map(S3).map_err(convert)
    }
}

fn convert(e: S3Error) -> RemoteError {
    let kind = match e.kind {
        ErrorKind::NotFound => RemoteErrorKind::NotFound,
        ErrorKind::Denied => RemoteErrorKind::Denied,
        ErrorKind::Unreachable => RemoteErrorKind::Unreachable,
        ErrorKind::Corrupt => RemoteErrorKind::Corrupt,
        ErrorKind::Other => RemoteErrorKind::Other,
    };
    RemoteError {
        kind,
        key: e.key,
        message: e.message,
        hint: e.hint,
    }
}

impl Remote for S3 {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        self.0.exists(key).map_err(convert)
    }

    fn list(&self, prefix: &str) -> Result<Vec<RemoteObject>, RemoteError> {
        let objects = self.0.list(prefix).map_err(convert)?;
        Ok(objects
            .into_iter()
            .map(|o| RemoteObject {
                key: o.key,
                size: o.size,
            })
            .collect())
    }

    fn put_file(&self, key: &str, src: &Path, progress: Progress<'_>) -> Result<(), RemoteError> {
        self.0.put_file(key, src, progress).map_err(convert)
    }

    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        self.0.put_bytes(key, bytes).map_err(convert)
    }

    fn get_file(&self, key: &str, dest: &Path, progress: Progress<'_>) -> Result<(), RemoteError> {
        self.0.get_file(key, dest, progress).map_err(convert)
    }

    fn get_bytes(&self, key: &str) -> Result<Vec<u8>, RemoteError> {
        self.0.get_bytes(key).map_err(convert)
    }

    fn copy(&self, from: &str, to: &str) -> Result<(), RemoteError> {
        self.0.copy(from, to).map_err(convert)
    }

    fn delete(&self, keys: &[String]) -> Result<(), RemoteError> {
        self.0.delete(keys).map_err(convert)
    }
}
