//! The `train` stage: model selection by k-fold CV (grouped by default) on `train.npy` only;
//! writes the chosen model (`model.json`) and the CV table with the decision threshold
//! (`cv.json`). The test set is never read here.

use std::path::Path;

use netsec_models::{CvRow, CvSummary, ModelError, SelectConfig, Selection};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::fsio::{write_compact_json, write_json};
use crate::transform::load_xy;

/// Contents of `cv.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    pub format: u32,
    pub config: SelectConfig,
    pub train_rows: usize,
    /// Rows the CV ran on: `train_rows`, or a grouped stratified subsample of about
    /// `config.cv_max_rows` when train is larger (the refit still uses every row).
    pub cv_rows: usize,
    /// One row per candidate, in candidate order.
    pub table: Vec<CvRow>,
    /// Index of the chosen candidate in `table`.
    pub chosen: usize,
    pub model: String,
    pub train_f1: f64,
    pub cv_f1: f64,
    /// `train_f1 − cv_f1`, checked against `config.max_overfit_gap`.
    pub gap: f64,
    /// Decision threshold on the phishing probability, chosen on out-of-fold predictions
    /// (0.5 when `tune_threshold` is off); `evaluate` scores test with it and stores it in the
    /// bundle, where `predict` and `serve` apply it.
    pub threshold: f64,
    /// F1 of the chosen candidate's pooled out-of-fold probabilities, at 0.5 and at `threshold`.
    pub oof_f1: f64,
    pub oof_f1_at_threshold: f64,
    /// The chosen candidate under the other kind of CV (`config.cv` names the one used).
    pub other_cv: CvSummary,
}

/// What `train` did (also the body of `cv.json`).
pub type TrainReport = CvReport;

/// Maps a learner error to a stage error: bad settings are config errors, the rest fit errors.
pub(crate) fn model_error(e: ModelError) -> StageError {
    match e {
        ModelError::UnknownModel { .. } => StageError::Config {
            key: "train.models".into(),
            message: e.to_string(),
        },
        ModelError::BadConfig { key, .. } => StageError::Config {
            key: format!("train.{key}"),
            message: e.to_string(),
        },
        other => StageError::Fit {
            message: other.to_string(),
        },
    }
}

/// Runs selection on `transform_dir/train.npy` and writes `out_dir/model.json` and
/// `out_dir/cv.json`. Fails (nothing written) when the chosen model misses `expected_score`
/// or over-fits beyond `max_overfit_gap`.
pub fn train(cfg: &SelectConfig, transform_dir: &Path, out_dir: &Path) -> Result<TrainReport> {
    train_observed(cfg, transform_dir, out_dir, &|_, _| {})
}

/// [`train`], reporting each finished fit of the grid as (done, total) to `on_fit`.
pub fn train_observed(
    cfg: &SelectConfig,
    transform_dir: &Path,
    out_dir: &Path,
    on_fit: netsec_models::OnFit<'_>,
) -> Result<TrainReport> {
    let (x, y) = load_xy(&transform_dir.join("train.npy"))?;
    let y = y.to_vec();
    let sel: Selection =
        netsec_models::select_observed(x.view(), &y, cfg, on_fit).map_err(model_error)?;
    // The matrix (96 MB at 800,000 rows) is not needed to write the model: freed before the
    // model's text is built, which was this stage's peak.
    drop(x);
    let report = CvReport {
        format: 3,
        config: cfg.clone(),
        train_rows: y.len(),
        cv_rows: sel.cv_rows,
        model: sel.table[sel.chosen].model.clone(),
        table: sel.table,
        chosen: sel.chosen,
        train_f1: sel.train_f1,
        cv_f1: sel.cv_f1,
        gap: sel.gap,
        threshold: sel.threshold,
        oof_f1: sel.oof_f1,
        oof_f1_at_threshold: sel.oof_f1_at_threshold,
        other_cv: sel.other_cv,
    };
    std::fs::create_dir_all(out_dir).map_err(|e| StageError::write(out_dir, e))?;
    write_compact_json(&out_dir.join("model.json"), &sel.model)?;
    write_json(&out_dir.join("cv.json"), &report)?;
    Ok(report)
}
