//! `ModelBundle`: the one portable, versioned file in `final_model/` — schema, preprocessor,
//! model, metrics, provenance — loadable by `netsec predict` and the server without retraining.

use std::path::{Path, PathBuf};

use netsec_models::Model;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::evaluate::TestMetrics;
use crate::fsio::write_compact_json;
use crate::schema::Schema;
use crate::transform::Preprocessor;

/// The bundle format this build writes and reads. Bump on any incompatible change.
pub const BUNDLE_FORMAT: u32 = 1;

/// File name of a bundle inside its directory.
pub const BUNDLE_FILE: &str = "bundle.json";

/// Everything needed to predict, plus where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelBundle {
    pub format_version: u32,
    pub schema: Schema,
    pub preprocessor: Preprocessor,
    pub model: Model,
    /// Test-set metrics of `model` (phishing = positive class).
    pub metrics: TestMetrics,
    /// blake3 (hex) of the `train.npy` the model was fitted on.
    pub training_data_digest: String,
    /// Present when `model` was refitted on train + test after the test score
    /// (`evaluate.refit_all`); `metrics` are then those of the fit on train alone. Optional
    /// within format 1: bundles without it load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refit: Option<crate::refit::Refit>,
    /// The tracked params the model was produced with (e.g. `{"train": {...}}`).
    pub params: serde_json::Value,
    pub netsec_version: String,
    /// RFC 3339 UTC time supplied by the caller (the library never reads the clock). Absent
    /// when the caller gives none: the bundle's bytes then depend on its inputs only. A bundle
    /// without the field loads (it is optional within format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// `dir/bundle.json`, or `path` itself when it already names a file.
pub fn bundle_path(path: &Path) -> PathBuf {
    if path.is_dir() || path.extension().is_none() {
        path.join(BUNDLE_FILE)
    } else {
        path.to_path_buf()
    }
}

impl ModelBundle {
    /// Writes `dir/bundle.json` atomically (temp file + rename).
    pub fn save(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(BUNDLE_FILE);
        write_compact_json(&path, self)?;
        Ok(path)
    }

    /// Loads a bundle from a directory (or a `bundle.json` path), checking the format version
    /// before decoding the rest so an old or future bundle gets a clear message.
    pub fn load(path: &Path) -> Result<ModelBundle> {
        let file = bundle_path(path);
        let text = std::fs::read_to_string(&file).map_err(|e| StageError::read(&file, e))?;
        let artifact = |message: String| StageError::Artifact {
            path: file.clone(),
            message,
        };
        #[derive(Deserialize)]
        struct Header {
            format_version: Option<u32>,
        }
        let header: Header = serde_json::from_str(&text)
            .map_err(|e| artifact(format!("not a model bundle (line {}): {e}", e.line())))?;
        match header.format_version {
            Some(BUNDLE_FORMAT) => {}
            Some(v) => {
                return Err(artifact(format!(
                    "bundle format {v} is not supported by this netsec (reads format {BUNDLE_FORMAT}); retrain with `netsec repro`"
                )))
            }
            None => return Err(artifact("not a model bundle: no `format_version` field".into())),
        }
        let bundle: ModelBundle = serde_json::from_str(&text)
            .map_err(|e| artifact(format!("malformed bundle (line {}): {e}", e.line())))?;
        bundle.check().map_err(artifact)?;
        Ok(bundle)
    }

    /// The bundle's identity: blake3 of its canonical JSON, 16 hex digits. It changes iff the
    /// content does, however the file was written; `netsec serve` (`/model`) and
    /// `netsec predict --json` report it.
    pub fn version(&self) -> serde_json::Result<String> {
        let canonical = netsec_common::canonical::to_vec(self)?;
        Ok(blake3::hash(&canonical).to_hex()[..16].to_string())
    }

    /// The decision threshold on the phishing probability (tuned on out-of-fold predictions by
    /// `train`, recorded with the test metrics; 0.5 for bundles that predate it).
    pub fn threshold(&self) -> f64 {
        self.metrics.threshold
    }

    /// Internal consistency: the model, preprocessor and schema agree on the features.
    fn check(&self) -> std::result::Result<(), String> {
        let names = self.schema.feature_names();
        if self.preprocessor.features != names {
            return Err(
                "the preprocessor's features differ from the bundled schema's columns".into(),
            );
        }
        let t = self.metrics.threshold;
        if !(t > 0.0 && t < 1.0) {
            return Err(format!("the decision threshold {t} is not in (0, 1)"));
        }
        if self.model.n_features() != names.len() {
            return Err(format!(
                "the model expects {} features, the bundled schema has {}",
                self.model.n_features(),
                names.len()
            ));
        }
        Ok(())
    }
}
