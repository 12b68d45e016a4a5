//! S3 remote for netsec: the engine's blocking, object-level `Remote` trait over `aws-sdk-s3`,
//! and the `s3://` [`S3Backend`] the binary registers.
//!
//! [`S3Remote`] owns a small multi-thread tokio runtime and blocks on it per call, so the
//! engine's worker threads can call it concurrently. Large files go up as multipart uploads whose parts travel in
//! parallel; an object becomes visible only once complete, and a failed upload is aborted.

mod backend;
mod client;
mod error;
mod location;
mod ops;
mod transfer;
mod unfinished;

pub use backend::S3Backend;
pub use client::{
    transfer_timeout, S3Config, CONNECT_TIMEOUT, CREDENTIAL_VARS, DEFAULT_TIMEOUT, MAX_ATTEMPTS,
    MIN_RATE,
};
pub use location::Location;

use error::Target;
use netsec_engine::remote::{Progress, Remote, RemoteError, RemoteErrorKind, RemoteObject};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

const MIB: u64 = 1024 * 1024;

/// Transfer sizes. S3 requires parts of at least 5 MiB (but the last) and at most 10,000 parts;
/// part sizes grow past `part_size` when a file would need more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// Files larger than this go up as multipart uploads.
    pub multipart_threshold: u64,
    /// Size of each uploaded part.
    pub part_size: u64,
    /// Parts of one file in flight at once.
    pub parts_in_flight: usize,
    /// Objects larger than this are copied part by part (CopyObject stops at 5 GiB).
    pub copy_threshold: u64,
    /// Size of each server-side copied part.
    pub copy_part_size: u64,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            multipart_threshold: 16 * MIB,
            part_size: 8 * MIB,
            parts_in_flight: 4,
            copy_threshold: 5 * 1024 * MIB,
            copy_part_size: 512 * MIB,
        }
    }
}

impl Tuning {
    /// Defaults, overridden by `NETSEC_S3_MULTIPART_THRESHOLD_MIB`, `NETSEC_S3_PART_MIB` and
    /// `NETSEC_S3_PARTS_IN_FLIGHT` (for benchmarks and tests).
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Tuning, RemoteError> {
        let mut t = Tuning::default();
        let num = |name: &str, min: u64| -> Result<Option<u64>, RemoteError> {
            let Some(v) = env.get(name) else {
                return Ok(None);
            };
            match v.trim().parse::<u64>() {
                Ok(n) if n >= min => Ok(Some(n)),
                _ => Err(RemoteError::new(
                    RemoteErrorKind::Other,
                    format!("{name}=`{v}` is not a whole number ≥ {min}"),
                )),
            }
        };
        if let Some(n) = num("NETSEC_S3_MULTIPART_THRESHOLD_MIB", 5)? {
            t.multipart_threshold = n * MIB;
        }
        if let Some(n) = num("NETSEC_S3_PART_MIB", 5)? {
            t.part_size = n * MIB;
        }
        if let Some(n) = num("NETSEC_S3_PARTS_IN_FLIGHT", 1)? {
            t.parts_in_flight = n as usize;
        }
        Ok(t)
    }
}

/// What the async operations share (cheap to clone into spawned part uploads).
#[derive(Clone)]
pub(crate) struct Inner {
    pub client: aws_sdk_s3::Client,
    pub loc: Location,
    pub target: Target,
    pub tuning: Tuning,
    /// The remote's `timeout` (or [`DEFAULT_TIMEOUT`]).
    pub timeout: std::time::Duration,
}

/// An S3 bucket (and key prefix) used as a netsec remote.
pub struct S3Remote {
    rt: tokio::runtime::Runtime,
    inner: Inner,
}

impl fmt::Debug for S3Remote {
    // Never the client: only where it points.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Remote")
            .field("url", &self.inner.target.url)
            .field("endpoint", &self.inner.target.endpoint)
            .finish()
    }
}

impl S3Remote {
    /// Opens the remote at `cfg.url` with the credentials, region and endpoint found in `cfg`
    /// and `env` (the process environment, as a map). Makes no request.
    pub fn open(cfg: &S3Config, env: &BTreeMap<String, String>) -> Result<S3Remote, RemoteError> {
        S3Remote::open_with(cfg, env, Tuning::from_env(env)?)
    }

    /// [`S3Remote::open`] with explicit transfer sizes.
    pub fn open_with(
        cfg: &S3Config,
        env: &BTreeMap<String, String>,
        tuning: Tuning,
    ) -> Result<S3Remote, RemoteError> {
        let loc = Location::parse(&cfg.url)?;
        if tuning.part_size < 5 * MIB
            || tuning.copy_part_size < 5 * MIB
            || tuning.parts_in_flight == 0
        {
            return Err(RemoteError::new(
                RemoteErrorKind::Other,
                format!("invalid S3 transfer sizes {tuning:?}"),
            )
            .with_hint("S3 parts are at least 5 MiB; at least one part in flight"));
        }
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 4);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("netsec-s3")
            .enable_all()
            .build()
            .map_err(|e| {
                RemoteError::new(
                    RemoteErrorKind::Other,
                    format!("cannot start the S3 client's runtime: {e}"),
                )
            })?;
        let built = rt.block_on(client::build(cfg, &loc, env))?;
        Ok(S3Remote {
            rt,
            inner: Inner {
                client: built.client,
                loc,
                target: built.target,
                tuning,
                timeout: cfg.timeout.unwrap_or(DEFAULT_TIMEOUT),
            },
        })
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &str {
        &self.inner.target.endpoint
    }

    /// Runs one object's transfer under its total deadline: every request of it (a multipart
    /// upload is several) must be done within twice the timeout plus the time to send `bytes`
    /// at [`MIN_RATE`]. Past it the transfer is abandoned as unreachable.
    fn bounded<T>(
        &self,
        key: &str,
        bytes: u64,
        op: impl std::future::Future<Output = Result<T, RemoteError>>,
    ) -> Result<T, RemoteError> {
        let deadline = 2 * self.inner.timeout + transfer_timeout(std::time::Duration::ZERO, bytes);
        self.rt.block_on(async {
            match tokio::time::timeout(deadline, op).await {
                Ok(r) => r,
                Err(_) => Err(RemoteError::new(
                    RemoteErrorKind::Unreachable,
                    format!(
                        "{}: `{key}` was not transferred within {}s",
                        self.inner.target.endpoint,
                        deadline.as_secs()
                    ),
                )
                .with_key(key)
                .with_hint("a slow or unresponsive endpoint: raise the remote's `timeout` (seconds) if the network is just slow")),
            }
        })
    }
}

impl Remote for S3Remote {
    /// `s3://bucket/prefix/`
    fn describe(&self) -> String {
        self.inner.target.url.clone()
    }

    /// Whether `key` exists (HeadObject).
    fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        self.rt.block_on(self.inner.exists(key))
    }

    /// Every object under `prefix`, keys relative to the remote's root, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<RemoteObject>, RemoteError> {
        self.rt.block_on(self.inner.list(prefix))
    }

    /// Uploads `src` as `key`: one PutObject, or a multipart upload above the threshold.
    fn put_file(&self, key: &str, src: &Path, progress: Progress<'_>) -> Result<(), RemoteError> {
        let size = std::fs::metadata(src).map_or(0, |m| m.len());
        self.bounded(key, size, self.inner.put_file(key, src, progress))
    }

    /// Uploads `bytes` as `key`.
    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        self.bounded(key, bytes.len() as u64, self.inner.put_bytes(key, bytes))
    }

    /// Streams `key` into `dest` (created or truncated).
    fn get_file(&self, key: &str, dest: &Path, progress: Progress<'_>) -> Result<(), RemoteError> {
        self.rt.block_on(self.inner.get_file(key, dest, progress))
    }

    /// Downloads `key` into memory.
    fn get_bytes(&self, key: &str) -> Result<Vec<u8>, RemoteError> {
        self.rt.block_on(self.inner.get_bytes(key))
    }

    /// Server-side copy (CopyObject, or UploadPartCopy parts above `copy_threshold`).
    fn copy(&self, from: &str, to: &str) -> Result<(), RemoteError> {
        self.rt.block_on(self.inner.copy(from, to))
    }

    /// Deletes `keys` (DeleteObjects, 1000 per request); missing keys are not an error.
    fn delete(&self, keys: &[String]) -> Result<(), RemoteError> {
        self.rt.block_on(self.inner.delete(keys))
    }

    /// Aborts the multipart uploads under the prefix initiated more than `older_than` ago
    /// (ListMultipartUploads, AbortMultipartUpload).
    fn abort_unfinished(
        &self,
        older_than: std::time::Duration,
        dry_run: bool,
    ) -> Result<u64, RemoteError> {
        self.rt
            .block_on(self.inner.abort_unfinished(older_than, dry_run))
    }
}
