//! Experiment records: `.netsec/exps/records-v1/NAME.json`, one canonical JSON file per
//! experiment, replaced atomically at each change of status. A record carries the whole lock
//! of its run, so applying or branching it needs no rerun.
//!
//! Records are data from disk (and, pulled, from teammates): every one is checked when read —
//! its name must be a valid name equal to the file's, its lock goes through
//! [`Lockfile::parse`] (normal relative paths only, nothing reserved), its override keys
//! through [`ParamKey::parse`]. A record that fails is skipped with a warning, never used.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::lock::Lockfile;
use crate::params::ParamKey;
use crate::params_edit::Override;
use netsec_common::atomic::{write_atomic, Durability};

/// Version of the record format (also in the directory name).
pub const FORMAT: u32 = 1;
/// Largest record read, locally or from a remote (it holds a lock; locks are capped at 1 GiB,
/// records lower).
pub const MAX_RECORD_BYTES: u64 = 256 << 20;

/// Where an experiment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpStatus {
    Queued,
    Running,
    Success,
    Failed,
}

impl ExpStatus {
    /// Finished: `success` or `failed` (what `exp push` shares and `exp pull` accepts).
    pub fn is_final(self) -> bool {
        matches!(self, ExpStatus::Success | ExpStatus::Failed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExpStatus::Queued => "queued",
            ExpStatus::Running => "running",
            ExpStatus::Success => "success",
            ExpStatus::Failed => "failed",
        }
    }
}

/// One experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpRecord {
    pub format: u32,
    pub name: String,
    pub status: ExpStatus,
    /// The commit the experiment started from (`git rev-parse HEAD`), when in git.
    pub base: Option<String>,
    /// The `-S` values, by key as typed (`train.lr`, `params.yaml:train.lr`).
    pub overrides: BTreeMap<String, Value>,
    /// Stages named on the command line (all when empty).
    #[serde(default)]
    pub targets: Vec<String>,
    /// Every tracked param after the run, flat (`train.lr`, `params.yaml:train.lr`).
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Metric outs, flattened: file → dotted key → value.
    #[serde(default)]
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
    /// The lock the run ended with (`netsec.lock` JSON).
    #[serde(default)]
    pub lock: Option<Value>,
    /// Unix milliseconds.
    pub created_ms: u64,
    #[serde(default)]
    pub started_ms: Option<u64>,
    #[serde(default)]
    pub finished_ms: Option<u64>,
    /// Why it failed (and the stage outcomes summary).
    #[serde(default)]
    pub message: Option<String>,
    /// The exit code of its `repro`.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Per-stage outcome of the run (`ran`, `restored`, `skipped`, …).
    #[serde(default)]
    pub stages: BTreeMap<String, String>,
    /// `true` when it ran in the user's workspace (`exp run` without `--queue`).
    #[serde(default)]
    pub in_workspace: bool,
    /// While running in the queue: the process group of its `repro`, for `queue kill`.
    #[serde(default)]
    pub pgid: Option<i32>,
    /// Runs started for it so far (a killed runner's unfinished run is started again).
    #[serde(default)]
    pub attempts: u32,
}

impl ExpRecord {
    pub fn new(name: String, base: Option<String>, overrides: BTreeMap<String, Value>) -> Self {
        ExpRecord {
            format: FORMAT,
            name,
            status: ExpStatus::Queued,
            base,
            overrides,
            targets: Vec::new(),
            params: BTreeMap::new(),
            metrics: BTreeMap::new(),
            lock: None,
            created_ms: now_ms(),
            started_ms: None,
            finished_ms: None,
            message: None,
            exit_code: None,
            stages: BTreeMap::new(),
            in_workspace: false,
            pgid: None,
            attempts: 0,
        }
    }

    /// The recorded lock, validated like `netsec.lock` (every path normal, none reserved).
    pub fn lockfile(&self) -> Result<Option<Lockfile>, Error> {
        let Some(v) = &self.lock else { return Ok(None) };
        let text = serde_json::to_string(v).unwrap_or_default();
        Lockfile::parse(&text, PathBuf::from(format!("experiment `{}`", self.name)))
            .map(Some)
            .map_err(Error::from)
    }

    /// The overrides as parsed keys.
    pub fn override_keys(&self) -> Result<Vec<(ParamKey, Value)>, String> {
        self.overrides
            .iter()
            .map(|(k, v)| Ok((ParamKey::parse(k)?, v.clone())))
            .collect()
    }

    /// The recorded overrides as edits of the params sources; a key that no longer parses is a
    /// usage error naming the experiment.
    pub fn overrides(&self) -> Result<Vec<Override>, Error> {
        let keys = self.override_keys().map_err(|m| Error::Usage {
            message: format!("experiment `{}`: {m}", self.name),
            hint: None,
        })?;
        Ok(keys
            .into_iter()
            .map(|(key, value)| Override { key, value })
            .collect())
    }

    /// The record as shared through a remote: without the process group of a local run
    /// (meaningless on another machine, and `queue kill` must never signal a pulled one).
    pub fn shared(&self) -> ExpRecord {
        ExpRecord {
            pgid: None,
            ..self.clone()
        }
    }

    /// The stored form: canonical pretty JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        netsec_common::canonical::to_vec_pretty(self).unwrap_or_default()
    }

    /// Parse and check a record stored as `STEM.json` (locally or on a remote): the same
    /// size cap, format version, name, override keys and lock validation for both.
    pub fn from_bytes(bytes: &[u8], stem: &str) -> Result<ExpRecord, String> {
        if bytes.len() as u64 > MAX_RECORD_BYTES {
            return Err(format!(
                "{} bytes, more than the {} MiB a record may have",
                bytes.len(),
                MAX_RECORD_BYTES >> 20
            ));
        }
        parse(bytes, stem)
    }

    pub fn duration_ms(&self) -> Option<u64> {
        Some(self.finished_ms?.saturating_sub(self.started_ms?))
    }

    fn check(&self, file_stem: &str) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "format {} (this netsec reads {FORMAT})",
                self.format
            ));
        }
        crate::exp::names::check(&self.name).map_err(|e| e.to_string())?;
        if self.name != file_stem {
            return Err(format!("it names `{}`", self.name));
        }
        self.override_keys()?;
        self.lockfile().map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The experiments of one repository: `.netsec/exps/`.
#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    pub fn new(dot_netsec: &Path) -> Store {
        Store {
            dir: dot_netsec.join("exps"),
        }
    }

    pub fn records_dir(&self) -> PathBuf {
        self.dir.join("records-v1")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.records_dir().join(format!("{name}.json"))
    }

    /// `queue logs`: the stderr of the experiment's `repro`.
    pub fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }

    /// The `repro --json` events of the experiment's run.
    pub fn events_path(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.jsonl"))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// Write (replace) a record atomically.
    pub fn save(&self, rec: &ExpRecord) -> Result<(), Error> {
        let dir = self.records_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let path = self.path(&rec.name);
        write_atomic(&path, &rec.to_bytes(), Durability::Fsync)
            .map_err(|e| Error::io("write", &path, e))
    }

    /// One record, checked.
    pub fn load(&self, name: &str) -> Result<ExpRecord, Error> {
        crate::exp::names::check(name)?;
        let path = self.path(name);
        let bytes = match netsec_common::read_regular(&path, Some(MAX_RECORD_BYTES)) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                return Err(Error::Usage {
                    message: format!("no experiment named `{name}`"),
                    hint: Some("`netsec exp show` lists them".into()),
                })
            }
            Err(e) => {
                return Err(Error::io(
                    "read",
                    &path,
                    std::io::Error::other(e.to_string()),
                ))
            }
        };
        parse(&bytes, name).map_err(|m| {
            Error::io(
                "read",
                &path,
                std::io::Error::other(format!("not a valid experiment record: {m}")),
            )
        })
    }

    /// Every readable record (sorted by creation, then name), and a warning per unusable file.
    pub fn list(&self) -> (Vec<ExpRecord>, Vec<String>) {
        let mut recs = Vec::new();
        let mut warnings = Vec::new();
        let Ok(rd) = std::fs::read_dir(self.records_dir()) else {
            return (recs, warnings);
        };
        for entry in rd.flatten() {
            let file = entry.file_name();
            let Some(stem) = file.to_str().and_then(|f| f.strip_suffix(".json")) else {
                continue;
            };
            if stem.starts_with('.') {
                continue; // a temp file of an atomic write
            }
            let bytes = match netsec_common::read_regular(&entry.path(), Some(MAX_RECORD_BYTES)) {
                Ok(b) => b,
                Err(e) => {
                    warnings.push(format!("skipping experiment record `{stem}`: {e}"));
                    continue;
                }
            };
            match parse(&bytes, stem) {
                Ok(r) => recs.push(r),
                Err(m) => warnings.push(format!("skipping experiment record `{stem}`: {m}")),
            }
        }
        recs.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.name.cmp(&b.name)));
        (recs, warnings)
    }

    /// The locks of every readable record: what `gc` keeps besides its scope's locks.
    pub fn locks(&self) -> Vec<Lockfile> {
        self.list()
            .0
            .iter()
            .filter_map(|r| r.lockfile().ok().flatten())
            .collect()
    }

    /// Delete a record and its logs.
    pub fn remove(&self, name: &str) -> Result<(), Error> {
        crate::exp::names::check(name)?;
        let path = self.path(name);
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        let _ = std::fs::remove_file(self.log_path(name));
        let _ = std::fs::remove_file(self.events_path(name));
        Ok(())
    }
}

fn parse(bytes: &[u8], stem: &str) -> Result<ExpRecord, String> {
    let rec: ExpRecord = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    rec.check(stem)?;
    Ok(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_records_are_skipped() {
        let t = tempfile::tempdir().unwrap();
        let store = Store::new(t.path());
        let mut rec = ExpRecord::new("good-one".into(), None, BTreeMap::new());
        store.save(&rec).unwrap();
        rec.name = "evil".into();
        rec.lock = Some(serde_json::json!({"version": 1, "stages": {"s": {
            "fingerprint": {"format": 2, "action": {"kind": "command", "cmd": [], "wdir": ""},
                "deps": {}, "params": {}, "outs": ["../x"]},
            "outs": {"../x": {"digest": "00", "size": 1, "cache": true}}}}}));
        store.save(&rec).unwrap();
        let mut other = ExpRecord::new("renamed".into(), None, BTreeMap::new());
        other.name = "good-one".into();
        std::fs::write(
            store.records_dir().join("renamed.json"),
            serde_json::to_vec(&other).unwrap(),
        )
        .unwrap();
        let (recs, warnings) = store.list();
        assert_eq!(recs.len(), 1, "{warnings:?}");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(store.load("evil").is_err());
        assert!(store.load("../etc").is_err());
    }
}
