//! Remotes: where a team shares cached objects, run-cache entries and timestamped snapshots.
//!
//! The engine knows no network: it speaks to a remote through the blocking [`Remote`] trait
//! and ships one implementation, a local (or mounted) directory. The binary adds S3
//! (`netsec-remote-s3`). Every method is one object-level operation; the engine supplies the
//! concurrency (`-j N` worker threads), so an implementation only has to be `Sync`.
//!
//! Key layout, relative to the remote's root (`s3://bucket/prefix` or the directory):
//!
//! | key | what |
//! |---|---|
//! | `files/blake3/ab/cdef…` | a cache object (file content or directory manifest), by blake3 |
//! | `runs/blake3/ab/cdef….json` | a run-cache entry, by fingerprint key |
//! | `artifact/<ts>/<out path>` | every out of a push, as files, under the push's UTC timestamp |
//! | `<prefix><ts>/<file>` | extra copies the caller asks for (the binary: the promoted model) |
//! | `snapshots/<ts>.json` | the push's manifest (lock digest, git commit, metrics, key list) |
//! | `exps/records-v1/NAME.json` | a finished experiment's record (`exp push`), written after its objects and run entries |
//!
//! `<ts>` is `YYYYMMDDTHHMMSSZ` (UTC), taken when the snapshot is written.

use std::fmt;
use std::path::Path;
use std::time::Duration;

pub mod backend;
pub mod config;
pub mod edit;
pub mod fetch;
pub mod gc;
pub mod handle;
pub mod local;
pub mod observer;
pub mod open;
pub mod pool;
pub mod pull_run;
pub mod push;
pub mod refs;
pub mod retry;
pub mod snapshot;
pub mod timestamp;
pub mod unfinished;

pub use backend::{RemoteBackend, RemoteBackends};
pub use config::select;
pub use fetch::{fetch, FetchOptions, FetchReport};
pub use gc::{gc, RemoteGcReport};
pub use handle::Named;
pub use local::LocalRemote;
pub use observer::{Silent, TransferObserver};
pub use open::{open, open_named};
pub use push::{push, PushOptions, PushReport};
pub use snapshot::{ExtraCopy, Snapshot, SnapshotOptions};

/// Prefix of content-addressed objects.
pub const FILES_PREFIX: &str = "files/blake3/";
/// Prefix of run-cache entries.
pub const RUNS_PREFIX: &str = "runs/blake3/";
/// Prefix of timestamped out copies.
pub const ARTIFACT_PREFIX: &str = "artifact/";
/// Prefix of snapshot manifests.
pub const SNAPSHOTS_PREFIX: &str = "snapshots/";

/// Prefix of experiment records (`exp push` / `exp pull`).
pub const EXPS_PREFIX: &str = "exps/records-v1/";

/// A stored object, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteObject {
    /// Key relative to the remote's root.
    pub key: String,
    pub size: u64,
}

/// Called with the number of bytes moved since the last call (for progress bars).
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// A place objects are shared through. Implementations must make an object visible only when
/// it is complete (temp + rename, a single PUT, or a completed multipart upload), never put a
/// credential in an error message, and bound every network wait.
pub trait Remote: Send + Sync {
    /// Where it is, for messages: `s3://bucket/prefix`, `/srv/netsec-remote`. No credentials.
    fn describe(&self) -> String;

    /// Whether `key` exists.
    fn exists(&self, key: &str) -> Result<bool, RemoteError>;

    /// Every object whose key starts with `prefix` (relative to the root), sorted by key.
    fn list(&self, prefix: &str) -> Result<Vec<RemoteObject>, RemoteError>;

    /// Uploads the local file `src` as `key`, replacing any object there.
    fn put_file(&self, key: &str, src: &Path, progress: Progress<'_>) -> Result<(), RemoteError>;

    /// Uploads `bytes` as `key`, replacing any object there.
    fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteError>;

    /// Downloads `key` into `dest`, a temporary path the caller owns (created or truncated).
    /// The caller verifies the content before it enters the cache.
    fn get_file(&self, key: &str, dest: &Path, progress: Progress<'_>) -> Result<(), RemoteError>;

    /// Downloads `key` into memory (manifests, run-cache entries: small objects).
    fn get_bytes(&self, key: &str) -> Result<Vec<u8>, RemoteError>;

    /// Copies `from` to `to` inside the remote (server-side where the store allows it).
    fn copy(&self, from: &str, to: &str) -> Result<(), RemoteError>;

    /// Deletes `keys`; a key that is already gone is not an error.
    fn delete(&self, keys: &[String]) -> Result<(), RemoteError>;

    /// Removes the remote's unfinished writes (an S3 multipart upload never completed, a
    /// directory's temp file) begun more than `older_than` ago: what a killed push leaves. With
    /// `dry_run`, only counts them. Returns how many there were. Younger ones may belong to a
    /// push still running and are left alone.
    fn abort_unfinished(&self, older_than: Duration, dry_run: bool) -> Result<u64, RemoteError> {
        let _ = (older_than, dry_run);
        Ok(0)
    }
}

/// What went wrong, so callers can react (a missing object during `pull` is reported, a
/// denied request stops everything) and messages can carry a matching hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteErrorKind {
    /// The key (or the bucket / directory) does not exist.
    NotFound,
    /// Credentials missing or rejected, signature mismatch, access denied.
    Denied,
    /// Could not connect, timed out, server gone.
    Unreachable,
    /// Content did not match its digest.
    Corrupt,
    /// The request itself is refused (a malformed key or argument): asking again cannot help.
    Invalid,
    /// Anything else (local I/O, unexpected response).
    Other,
}

/// A remote operation's failure. `message` must never contain a credential.
#[derive(Debug, Clone)]
pub struct RemoteError {
    pub kind: RemoteErrorKind,
    /// The key concerned, if any.
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl RemoteError {
    pub fn new(kind: RemoteErrorKind, message: impl Into<String>) -> RemoteError {
        RemoteError {
            kind,
            key: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> RemoteError {
        self.key = Some(key.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> RemoteError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(k) => write!(f, "`{k}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for RemoteError {}

/// One `[remotes.NAME]` table of pipeline.toml, as declared. `url` is `SCHEME://…` (served by a
/// registered [`RemoteBackend`]) or a directory (relative paths are relative to the repository
/// root). `options` are the backend's own keys, checked by the backend at load time;
/// credentials never live here.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteConfig {
    pub name: String,
    pub url: String,
    /// `default = true`: used when no `-r NAME` is given (a single remote is the default anyway).
    pub default: bool,
    /// Every other key of the table (e.g. `endpoint`, `region` for `s3://`), and the engine's
    /// `stale_after` (see [`RemoteConfig::stale_after`]).
    pub options: toml::Table,
}

impl RemoteConfig {
    /// How old an unfinished write or snapshot must be before `push` and `gc --remote` remove
    /// it: `stale_after` of the table (checked at load time), else [`unfinished::DEFAULT_STALE_AFTER`].
    pub fn stale_after(&self) -> Duration {
        self.options
            .get(unfinished::STALE_AFTER_KEY)
            .and_then(|v| unfinished::parse_stale_after(v).ok())
            .unwrap_or(unfinished::DEFAULT_STALE_AFTER)
    }
}

/// The key of a cache object: `files/blake3/ab/cdef…`.
pub fn object_key(hex: &str) -> String {
    let (a, b) = hex.split_at(hex.len().min(2));
    format!("{FILES_PREFIX}{a}/{b}")
}

/// The key of a run-cache entry: `runs/blake3/ab/cdef….json`.
pub fn run_key(hex: &str) -> String {
    let (a, b) = hex.split_at(hex.len().min(2));
    format!("{RUNS_PREFIX}{a}/{b}.json")
}

/// The key of an experiment's record: `exps/records-v1/NAME.json`.
pub fn exp_key(name: &str) -> String {
    format!("{EXPS_PREFIX}{name}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fan_out_on_the_first_byte() {
        assert_eq!(object_key("abcdef"), "files/blake3/ab/cdef");
        assert_eq!(run_key("0123"), "runs/blake3/01/23.json");
    }
}
