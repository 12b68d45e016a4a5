//! `netsec.lock`: per stage, the fingerprint it last succeeded with and its outs' digests.
//!
//! Format: pretty JSON, `{"version": 1, "stages": {NAME: {"fingerprint": …, "outs": …}}}`
//! plus, once `netsec add` was used, `"sources": {PATH: record}` (data tracked by hand),
//! keys sorted (BTreeMap), two-space indent, trailing newline: deterministic and diff-friendly.
//! JSON rather than TOML because param values may be `null` (YAML/JSON params), which TOML
//! cannot hold. `repro` appends each successful stage's entry to a journal (`lock_journal`) and
//! replaces the file atomically, once, when the run ends.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fingerprint::{Fingerprint, PathRecord};
use crate::repo_path::RepoPath;
use netsec_common::atomic::{write_atomic, Durability};

pub const LOCK_FILE: &str = "netsec.lock";
pub const VERSION: u32 = 1;

/// An out as recorded after success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "OutRecordWire")]
pub struct OutRecord {
    #[serde(flatten)]
    pub record: PathRecord,
    /// `false` for `cache = false` outs: hashed, never stored.
    pub cache: bool,
}

/// One stage's entry.
/// [`OutRecord`]'s fields as written, read without `flatten` (which buffers every record into
/// an intermediate tree before reading it again).
#[derive(Deserialize)]
struct OutRecordWire {
    digest: crate::digest::Digest,
    size: u64,
    #[serde(default)]
    nfiles: Option<u64>,
    cache: bool,
}

impl From<OutRecordWire> for OutRecord {
    fn from(w: OutRecordWire) -> Self {
        OutRecord {
            record: PathRecord {
                digest: w.digest,
                size: w.size,
                nfiles: w.nfiles,
            },
            cache: w.cache,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockEntry {
    pub fingerprint: Fingerprint,
    pub outs: BTreeMap<RepoPath, OutRecord>,
}

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lockfile {
    pub version: u32,
    pub stages: BTreeMap<String, LockEntry>,
    /// Data files and directories tracked with `netsec add`: no stage produces them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<RepoPath, OutRecord>,
}

impl Default for Lockfile {
    fn default() -> Self {
        Lockfile {
            version: VERSION,
            stages: BTreeMap::new(),
            sources: BTreeMap::new(),
        }
    }
}

impl Lockfile {
    /// Every out this lock records, stages' then sources': what gc keeps and a remote holds.
    pub fn all_records(&self) -> impl Iterator<Item = (&RepoPath, &OutRecord)> {
        self.stages
            .values()
            .flat_map(|e| e.outs.iter())
            .chain(self.sources.iter())
    }
}

/// A lock file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("`{path}` is not a valid lock file: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("`{path}` has version {found}; this netsec understands version {VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write `{path}`: {source}")]
    Write { path: PathBuf, source: io::Error },
}

impl Lockfile {
    pub fn path(root: &Path) -> PathBuf {
        root.join(LOCK_FILE)
    }

    /// Load, or an empty lock if the file does not exist, with the entries of a run that was
    /// killed before it wrote them in (see `lock_journal`).
    pub fn load(root: &Path) -> Result<Lockfile, LockError> {
        let mut lock = Self::load_file(root)?;
        let path = crate::lock_journal::path(root);
        let journal =
            crate::lock_journal::read(root).map_err(|source| LockError::Read { path, source })?;
        lock.stages.extend(journal);
        lock.check_outs(Self::path(root))?;
        Ok(lock)
    }

    fn load_file(root: &Path) -> Result<Lockfile, LockError> {
        let path = Self::path(root);
        const MAX_LOCK_BYTES: u64 = 1 << 30;
        let text = match netsec_common::read_regular_string(&path, Some(MAX_LOCK_BYTES)) {
            Ok(t) => t,
            Err(e) if e.is_not_found() => return Ok(Lockfile::default()),
            Err(netsec_common::BoundedReadError::Io(source)) => {
                return Err(LockError::Read { path, source })
            }
            Err(refused) => {
                return Err(LockError::Parse {
                    path,
                    message: refused.to_string(),
                })
            }
        };
        Self::parse(&text, path)
    }

    /// Parses lock text (from the workspace or from a git revision named by `path`),
    /// validating every path in it.
    pub fn parse(text: &str, path: PathBuf) -> Result<Lockfile, LockError> {
        #[derive(Deserialize)]
        struct Probe {
            version: u32,
        }
        // One pass in the usual case; the version is looked at alone only when that fails, so
        // that a lock of another version is named as such rather than as invalid.
        let parsed = serde_json::from_str::<Lockfile>(text);
        let found = match &parsed {
            Ok(lock) => lock.version,
            Err(_) => serde_json::from_str::<Probe>(text).map_or(VERSION, |p| p.version),
        };
        if found != VERSION {
            return Err(LockError::Version { path, found });
        }
        let lock = parsed.map_err(|e| LockError::Parse {
            path: path.clone(),
            message: e.to_string(),
        })?;
        lock.check_outs(path)?;
        Ok(lock)
    }

    /// The lock comes from git: a hostile one must not make checkout or pull write into
    /// `.git`, `.netsec` or the pipeline (paths are already normal and relative, see RepoPath).
    fn check_outs(&self, path: PathBuf) -> Result<(), LockError> {
        let lock = self;
        for (stage, entry) in &lock.stages {
            for out in entry.outs.keys().chain(entry.fingerprint.outs.iter()) {
                if let Some(what) = out.reserved() {
                    return Err(LockError::Parse {
                        path,
                        message: format!(
                            "stage `{stage}`: out `{out}` is {what}; refusing to use this lock"
                        ),
                    });
                }
            }
        }
        for (source, rec) in &lock.sources {
            let why = match source.reserved() {
                Some(what) => Some(format!("is {what}")),
                None if !rec.cache => Some("is not cached".to_string()),
                None => None,
            };
            if let Some(why) = why {
                return Err(LockError::Parse {
                    path,
                    message: format!("source `{source}` {why}; refusing to use this lock"),
                });
            }
        }
        Ok(())
    }

    pub fn to_text(&self) -> String {
        // Canonical: keys sorted at every depth, whatever serde_json's features in this build.
        netsec_common::canonical::to_string_pretty(self).unwrap_or_default()
    }

    /// Atomically replace the lock file; the journal, folded into it, is then removed.
    pub fn save(&self, root: &Path) -> Result<(), LockError> {
        let path = Self::path(root);
        write_atomic(&path, self.to_text().as_bytes(), Durability::Fsync)
            .map_err(|source| LockError::Write { path, source })?;
        crate::lock_journal::clear(root).map_err(|source| LockError::Write {
            path: crate::lock_journal::path(root),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_version_is_named_whatever_its_shape() {
        let p = PathBuf::from("netsec.lock");
        for text in [
            r#"{"version": 2, "stages": {}}"#,
            r#"{"version": 2, "stages": [1, 2], "new": true}"#,
        ] {
            let e = Lockfile::parse(text, p.clone()).unwrap_err();
            assert!(matches!(e, LockError::Version { found: 2, .. }), "{e}");
        }
        let e = Lockfile::parse(r#"{"version": 1, "stages": []}"#, p.clone()).unwrap_err();
        assert!(matches!(e, LockError::Parse { .. }), "{e}");
        let e = Lockfile::parse("{", p.clone()).unwrap_err();
        assert!(matches!(e, LockError::Parse { .. }), "{e}");
        assert!(Lockfile::parse(r#"{"version": 1, "stages": {}}"#, p)
            .unwrap()
            .stages
            .is_empty());
    }
}
