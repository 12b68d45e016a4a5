//! The `evaluate` stage: scores the trained model on `test.npy` exactly once, writes
//! `metrics.json`, and decides whether the model replaces the bundle in `final_model/`.

use std::path::{Path, PathBuf};

use netsec_models::{BinaryMetrics, Calibration, Confusion, Model};
use serde::{Deserialize, Serialize};

use crate::bundle::{bundle_path, ModelBundle, BUNDLE_FORMAT};
use crate::error::{Result, StageError};
use crate::fsio::{read_json, write_json};
use crate::plots::{write_plots, PlotInputs};
use crate::refit::{refit_on_all, Refit};
use crate::schema::Schema;
use crate::train::CvReport;
use crate::transform::{load_xy, Preprocessor};
use crate::validate::ValidationReport;

/// `params.evaluate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluateConfig {
    /// Promote when test F1 beats the current bundle's by at least this much.
    pub min_improvement: f64,
    /// After the test score and the decision to promote, fit the chosen candidate again on
    /// train + test and bundle that model (see [`crate::refit`]); its recorded metrics stay
    /// those of the fit on train alone.
    pub refit_all: bool,
}

impl Default for EvaluateConfig {
    fn default() -> Self {
        Self {
            min_improvement: 0.0,
            refit_all: false,
        }
    }
}

impl EvaluateConfig {
    /// Range checks (`min_improvement` in [-1, 1], a difference of F1 scores); the error
    /// names the field.
    pub fn validate(&self) -> Result<()> {
        if (-1.0..=1.0).contains(&self.min_improvement) {
            Ok(())
        } else {
            Err(StageError::Config {
                key: "min_improvement".into(),
                message: format!("must lie in [-1, 1], found {}", self.min_improvement),
            })
        }
    }
}

/// Where `evaluate` reads from, and the provenance recorded in a new bundle.
#[derive(Debug, Clone)]
pub struct EvaluateInputs<'a> {
    /// Holds `train.npy`, `test.npy`, `preprocessor.json`.
    pub transform_dir: PathBuf,
    /// Holds `model.json`, `cv.json`.
    pub train_dir: PathBuf,
    /// `metrics.json` of the comparison (template random split) run, embedded as is.
    pub compare_metrics: Option<PathBuf>,
    /// `report.yaml` of `validate`; its `summary` is embedded.
    pub validate_report: Option<PathBuf>,
    pub schema: &'a Schema,
    /// The bundle currently in `final_model/` (directory or `bundle.json`), if any.
    pub current_bundle: Option<PathBuf>,
    pub netsec_version: String,
    /// The bundle's creation time, RFC 3339 UTC, supplied by the caller (e.g. from
    /// `SOURCE_DATE_EPOCH` or the commit time of the data); `None` leaves it out of the bundle.
    pub created_at: Option<String>,
    /// Tracked params to record in the bundle.
    pub params: serde_json::Value,
}

/// Where `evaluate` writes.
#[derive(Debug, Clone)]
pub struct EvaluateOutputs {
    pub metrics_json: PathBuf,
    pub promotion_json: PathBuf,
    /// Receives `bundle.json` when the model is promoted; untouched otherwise.
    pub bundle_dir: PathBuf,
}

/// Test-set scores, phishing = positive class, plus legitimate-positive F1 for comparison with
/// the template's published figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestMetrics {
    pub rows: usize,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub roc_auc: Option<f64>,
    pub legitimate_f1: f64,
    pub confusion: Confusion,
    /// The decision threshold on the phishing probability these metrics were scored at. In a
    /// bundle it is the model's threshold, which `predict` and `serve` apply; bundles written
    /// before it existed read as 0.5.
    #[serde(default = "half")]
    pub threshold: f64,
}

fn half() -> f64 {
    0.5
}

impl TestMetrics {
    /// Scores `proba` (of class 1) against `truth` at threshold 0.5.
    pub fn score(truth: &[u8], proba: &[f64]) -> Self {
        Self::score_at(truth, proba, 0.5)
    }

    /// Scores `proba` (of class 1) against `truth`, phishing when `p ≥ threshold`.
    pub fn score_at(truth: &[u8], proba: &[f64], threshold: f64) -> Self {
        let m = BinaryMetrics::from_proba_at(truth, proba, threshold);
        TestMetrics {
            rows: truth.len(),
            accuracy: m.accuracy,
            precision: m.precision,
            recall: m.recall,
            f1: m.f1,
            roc_auc: m.roc_auc,
            legitimate_f1: m.confusion.swapped().f1(),
            confusion: m.confusion,
            threshold,
        }
    }
}

/// Contents of `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    pub format: u32,
    pub positive_class: String,
    pub model: String,
    pub test: TestMetrics,
    /// Test F1 at 0.5, beside `test.f1` at the tuned threshold.
    pub test_f1_at_half: f64,
    /// Brier score and reliability curve of the test probabilities.
    pub calibration: Calibration,
    pub cv: CvReport,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<serde_json::Value>,
}

/// Contents of `promotion.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub promoted: bool,
    pub reason: String,
    pub old_f1: Option<f64>,
    pub new_f1: f64,
    /// Set when the promoted model was refitted on train + test (`evaluate.refit_all`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refit: Option<Refit>,
}

/// What `evaluate` did.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateReport {
    pub metrics: MetricsReport,
    pub promotion: Promotion,
    /// `bundle.json` written when promoted.
    pub bundle: Option<PathBuf>,
}

/// Runs the stage without plots.
pub fn evaluate(
    cfg: &EvaluateConfig,
    inputs: EvaluateInputs<'_>,
    out: EvaluateOutputs,
) -> Result<EvaluateReport> {
    evaluate_with_plots(cfg, inputs, out, None)
}

/// Runs the stage and, when `plots_dir` is given, draws the evaluation plots into it
/// (see [`crate::plots`]).
pub fn evaluate_with_plots(
    cfg: &EvaluateConfig,
    inputs: EvaluateInputs<'_>,
    out: EvaluateOutputs,
    plots_dir: Option<&Path>,
) -> Result<EvaluateReport> {
    let model: Model = read_json(&inputs.train_dir.join("model.json"))?;
    let cv: CvReport = read_json(&inputs.train_dir.join("cv.json"))?;
    // The preprocessor is read twice: its feature names now, the whole of it (the imputer's
    // fitted rows, tens of MB at a million rows) only for the bundle, after the refit.
    let preprocessor_json = inputs.transform_dir.join("preprocessor.json");
    let features = Preprocessor::feature_names(&preprocessor_json)?;
    let train_npy = inputs.transform_dir.join("train.npy");
    let test_npy = inputs.transform_dir.join("test.npy");
    let (x, y) = load_xy(&test_npy)?;
    let proba = model
        .predict_proba(x.view())
        .map_err(|e| StageError::Artifact {
            path: test_npy.clone(),
            message: e.to_string(),
        })?;
    drop(x);
    let truth = y.to_vec();
    let test = TestMetrics::score_at(&truth, &proba.to_vec(), cv.threshold);
    let metrics = MetricsReport {
        format: 2,
        positive_class: inputs.schema.class_name(1).to_string(),
        model: model.name().to_string(),
        test: test.clone(),
        test_f1_at_half: TestMetrics::score(&truth, &proba.to_vec()).f1,
        calibration: Calibration::new(&truth, &proba.to_vec(), 10),
        cv,
        comparison: inputs
            .compare_metrics
            .as_deref()
            .map(read_json::<serde_json::Value>)
            .transpose()?,
        validation: inputs
            .validate_report
            .as_deref()
            .map(validation_summary)
            .transpose()?,
    };
    write_json(&out.metrics_json, &metrics)?;
    if let Some(dir) = plots_dir {
        let validation = inputs
            .validate_report
            .as_deref()
            .map(read_validation_report)
            .transpose()?;
        let proba = proba.to_vec();
        let importance = model.feature_importance().map(|imp| {
            features
                .iter()
                .cloned()
                .zip(imp)
                .collect::<Vec<(String, f64)>>()
        });
        let plot_inputs = PlotInputs {
            truth: &truth,
            proba: &proba,
            confusion: test.confusion,
            class_names: [
                inputs.schema.class_name(0).to_string(),
                inputs.schema.class_name(1).to_string(),
            ],
            model: model.name().to_string(),
            importance,
            cv: &metrics.cv,
            validation: validation.as_ref(),
        };
        write_plots(&plot_inputs, dir)?;
    }

    let mut promotion = decide(
        cfg,
        inputs.current_bundle.as_deref(),
        inputs.schema,
        test.f1,
    );
    let mut bundle_file = None;
    if promotion.promoted {
        let digest = file_digest(&train_npy)?;
        let model = if cfg.refit_all {
            // The train fit is not needed past its name: freed before the refit's rows load.
            let fitted = model.name();
            drop(model);
            let (refit, rows) = refit_on_all(
                &metrics.cv,
                fitted,
                &inputs.train_dir,
                &inputs.transform_dir,
            )?;
            promotion.refit = Some(Refit {
                rows,
                test_data_digest: file_digest(&test_npy)?,
            });
            refit
        } else {
            model
        };
        let bundle = ModelBundle {
            format_version: BUNDLE_FORMAT,
            schema: inputs.schema.clone(),
            preprocessor: Preprocessor::load(&preprocessor_json)?,
            model,
            metrics: test,
            training_data_digest: digest,
            refit: promotion.refit.clone(),
            params: inputs.params,
            netsec_version: inputs.netsec_version,
            created_at: inputs.created_at,
        };
        bundle_file = Some(bundle.save(&out.bundle_dir)?);
    }
    write_json(&out.promotion_json, &promotion)?;
    Ok(EvaluateReport {
        metrics,
        promotion,
        bundle: bundle_file,
    })
}

/// blake3 (hex) of a file's bytes, read in 1 MiB chunks (`train.npy` is hundreds of MB at a
/// million rows).
fn file_digest(path: &Path) -> Result<String> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path).map_err(|e| StageError::read(path, e))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StageError::read(path, e)),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Promotion rule: replace a missing, unreadable or incompatible bundle; otherwise promote
/// only when test F1 improves by at least `min_improvement`.
fn decide(cfg: &EvaluateConfig, current: Option<&Path>, schema: &Schema, new_f1: f64) -> Promotion {
    let promote = |reason: String, old_f1| Promotion {
        promoted: true,
        reason,
        old_f1,
        new_f1,
        refit: None,
    };
    let Some(dir) = current.filter(|d| bundle_path(d).exists()) else {
        return promote("no current model".into(), None);
    };
    let old = match ModelBundle::load(dir) {
        Ok(b) => b,
        Err(e) => {
            return promote(
                format!("current model is unusable, replacing it: {e}"),
                None,
            )
        }
    };
    if old.schema != *schema {
        return promote(
            "current model was trained for a different schema".into(),
            Some(old.metrics.f1),
        );
    }
    let old_f1 = old.metrics.f1;
    let gain = new_f1 - old_f1;
    if gain >= cfg.min_improvement {
        promote(
            format!(
                "test F1 {new_f1:.4} vs {old_f1:.4} ({gain:+.4}, needed ≥ {:+.4})",
                cfg.min_improvement
            ),
            Some(old_f1),
        )
    } else {
        Promotion {
            promoted: false,
            reason: format!(
                "test F1 {new_f1:.4} vs {old_f1:.4} ({gain:+.4}) is below `min_improvement` {:+.4}; keeping the current model",
                cfg.min_improvement
            ),
            old_f1: Some(old_f1),
            new_f1,
            refit: None,
        }
    }
}

/// The typed validation report, for the drift plot.
fn read_validation_report(path: &Path) -> Result<ValidationReport> {
    let text = std::fs::read_to_string(path).map_err(|e| StageError::read(path, e))?;
    serde_norway::from_str(&text).map_err(|e| StageError::Artifact {
        path: path.to_path_buf(),
        message: format!("not a validation report: {e}"),
    })
}

/// The `summary` of a validation report (the whole report if it has none).
fn validation_summary(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| StageError::read(path, e))?;
    let value: serde_json::Value =
        serde_norway::from_str(&text).map_err(|e| StageError::Artifact {
            path: path.to_path_buf(),
            message: format!("not a validation report: {e}"),
        })?;
    Ok(value.get("summary").cloned().unwrap_or(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_digest_is_blake3_of_the_whole_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("big.bin");
        let bytes: Vec<u8> = (0..(3 << 20) + 17).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &bytes).expect("write");
        assert_eq!(
            file_digest(&p).expect("digest"),
            blake3::hash(&bytes).to_hex().to_string()
        );
        assert!(file_digest(&dir.path().join("missing")).is_err());
    }
}
