//! Stage timings of the last `repro`, kept in `.netsec/state/timings.json` (a side file: the
//! lock stays free of wall-clock values, so it is identical across identical runs).

use std::path::{Path, PathBuf};

use netsec_common::atomic::{write_json_atomic, Durability};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrackingError};

/// One stage of the last repro.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: String,
    /// `ran`, `restored`, `skipped`, `failed`, … as in `repro --json`.
    pub outcome: String,
    pub duration_ms: u64,
}

/// Contents of `timings.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timings {
    pub version: u32,
    /// RFC 3339 UTC time the repro finished.
    pub finished_at: String,
    /// In the order the stages finished.
    pub stages: Vec<StageTiming>,
}

impl Timings {
    /// `ROOT/.netsec/state/timings.json`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(".netsec").join("state").join("timings.json")
    }

    /// `Ok(None)` when no repro has recorded timings yet.
    pub fn load(root: &Path) -> Result<Option<Timings>> {
        let path = Self::path(root);
        // A state file, but on disk: bounded (10,000 stages take about 1 MiB).
        match netsec_common::read_regular(&path, Some(64 << 20)) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| TrackingError::Artifact {
                    path,
                    message: e.to_string(),
                }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(netsec_common::BoundedReadError::Io(source)) => {
                Err(TrackingError::Read { path, source })
            }
            Err(refused) => Err(TrackingError::Artifact {
                path,
                message: refused.to_string(),
            }),
        }
    }

    /// Writes canonical JSON atomically (temp file in the same directory, then rename).
    pub fn save(&self, root: &Path) -> Result<()> {
        let path = Self::path(root);
        let dir = path.parent().unwrap_or(root).to_path_buf();
        let werr = |source| TrackingError::Write {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(werr)?;
        // Informational: no fsync (a power cut may cost the last repro's timings, nothing else).
        write_json_atomic(&path, self, Durability::NoFsync).map_err(werr)
    }

    /// The duration of `stage` in the last repro.
    pub fn get(&self, stage: &str) -> Option<&StageTiming> {
        self.stages.iter().find(|s| s.stage == stage)
    }
}

/// `1234` ms → `1.23s`; under a second → `120ms`.
pub fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.2}s", ms as f64 / 1000.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Timings::load(dir.path()).unwrap().is_none());
        let t = Timings {
            version: 1,
            finished_at: "2026-01-01T00:00:00Z".into(),
            stages: vec![StageTiming {
                stage: "train".into(),
                outcome: "ran".into(),
                duration_ms: 1500,
            }],
        };
        t.save(dir.path()).unwrap();
        let back = Timings::load(dir.path()).unwrap().unwrap();
        assert_eq!(back, t);
        assert_eq!(human_ms(back.get("train").unwrap().duration_ms), "1.50s");
        assert_eq!(human_ms(12), "12ms");
    }
}
