//! The `compare` stage: the whole protocol (split → imputer fitted on train → CV model selection
//! → one test score) on a *second* split of the feature store, by default the template's plain
//! random 80/20 split with seed 42. Its score is reported beside the honest one in
//! `metrics.json`, so users see how much a leaky split flatters a model. It never feeds back into
//! model choice or promotion.

use std::path::Path;

use netsec_models::SelectConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::evaluate::TestMetrics;
use crate::frame::{Frame, LabelMode};
use crate::fsio::write_json;
use crate::impute::KnnImputer;
use crate::schema::Schema;
use crate::split::{split, SplitConfig, SplitMode};
use crate::split_summary::{summarize, SplitSummary};
use crate::train::model_error;
use crate::transform::TransformConfig;

/// `params.compare`: the split to compare against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompareConfig {
    pub split: SplitMode,
    pub test_size: f64,
    pub seed: u64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            split: SplitMode::Random,
            test_size: 0.2,
            seed: 42,
        }
    }
}

impl CompareConfig {
    /// Range checks (`test_size` strictly between 0 and 1); the error names the field.
    pub fn validate(&self) -> Result<()> {
        crate::split::check_test_size(self.test_size)
    }
}

/// The content of the comparison's `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    pub format: u32,
    pub split: SplitConfig,
    /// Sizes, balance and the leak check of the comparison split.
    pub summary: SplitSummary,
    pub model: String,
    pub cv_f1: f64,
    pub train_f1: f64,
    pub test: TestMetrics,
}

/// Runs the stage on `feature_store` (a CSV with labels) and writes `metrics.json` into `out_dir`.
pub fn compare(
    cfg: &CompareConfig,
    select_cfg: &SelectConfig,
    transform: &TransformConfig,
    feature_store: &Path,
    schema: &Schema,
    out_dir: &Path,
) -> Result<CompareReport> {
    let frame = Frame::read_csv(feature_store, schema, LabelMode::Required)?;
    let split_cfg = SplitConfig {
        split: cfg.split,
        test_size: cfg.test_size,
        seed: cfg.seed,
    };
    let (train_rows, test_rows) = split(&frame, &split_cfg)?;
    let groups = crate::split::duplicate_groups(&frame);
    let summary = summarize(&frame, schema, &split_cfg, &train_rows, &test_rows, &groups);
    drop(groups);
    let classes = |f: &Frame| {
        f.classes(schema).ok_or_else(|| StageError::Fit {
            message: format!("`{}` has no `{}` column", f.origin, schema.target.column),
        })
    };
    // The test rows are copied out, then the train rows moved down within the frame's buffers.
    let mut test = frame.select(&test_rows);
    let mut train = frame.into_rows(&train_rows);
    drop((train_rows, test_rows));
    let y_train = classes(&train)?;
    let y_test = classes(&test)?;
    // Only the features are used from here on.
    for f in [&mut train, &mut test] {
        f.labels = None;
        f.lines = Vec::new();
    }

    // Exactly as the main branch: the imputer sees train only.
    let imputer =
        KnnImputer::fit_bounded(&train.features, transform.neighbors, transform.max_fit_rows)?;
    imputer.transform_in_place(&mut train.features)?;
    imputer.transform_in_place(&mut test.features)?;
    let (x_train, x_test) = (train.features, test.features);

    let selection =
        netsec_models::select(x_train.view(), &y_train, select_cfg).map_err(model_error)?;
    let proba = selection
        .model
        .predict_proba(x_test.view())
        .map_err(model_error)?;
    let report = CompareReport {
        format: 1,
        split: split_cfg,
        summary,
        model: selection.model.name().to_string(),
        cv_f1: selection.cv_f1,
        train_f1: selection.train_f1,
        test: TestMetrics::score_at(&y_test, &proba.to_vec(), selection.threshold),
    };
    std::fs::create_dir_all(out_dir).map_err(|e| StageError::write(out_dir, e))?;
    write_json(&out_dir.join("metrics.json"), &report)?;
    Ok(report)
}
