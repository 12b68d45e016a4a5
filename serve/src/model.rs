//! `LoadedModel`: a model bundle (`final_model/bundle.json`) loaded for serving, with its model
//! card, and prediction of a schema-checked frame.

use std::path::Path;

use axum::http::StatusCode;
use ndarray::{Axis, Slice};

use netsec_stages::{predict_frame, Frame, ModelBundle, Predictions, Schema};
use serde::Serialize;

use crate::clock::now_rfc3339;
use crate::error::ApiError;

/// What `GET /model` shows and every prediction response carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCard {
    /// blake3 of the bundle's canonical JSON, 16 hex digits: changes iff the bundle does.
    pub version: String,
    /// Model family (`forest`, `boosting`, …).
    pub model: String,
    pub trained_at: Option<String>,
    pub netsec_version: Option<String>,
    pub format_version: Option<u64>,
    /// The bundle's test metrics (f1, roc_auc, accuracy, precision, recall, confusion…).
    pub metrics: Option<serde_json::Value>,
    /// blake3 of the training matrix the model was fitted on.
    pub training_data_digest: String,
    pub features: Vec<String>,
    pub target: String,
    /// Label name → value in the dataset's coding (`phishing: -1`, `legitimate: 1`).
    pub labels: std::collections::BTreeMap<String, i64>,
    /// The decision threshold predictions apply: phishing when the probability is at least this.
    pub threshold: f64,
    pub loaded_at: String,
    /// Where the bundle was read; kept out of replies (no filesystem path reaches a client).
    #[serde(skip)]
    pub path: String,
}

/// Rows predicted per call of the model.
pub const PREDICT_ROWS: usize = 8192;

/// A bundle ready to predict.
#[derive(Debug)]
pub struct LoadedModel {
    pub card: ModelCard,
    bundle: ModelBundle,
}

impl LoadedModel {
    /// Reads and checks the bundle (format version, feature agreement); the message says what
    /// is wrong with it.
    pub fn load(path: &Path) -> Result<LoadedModel, String> {
        let bundle = ModelBundle::load(path).map_err(|e| e.to_string())?;
        let card = ModelCard::of(&bundle, path)?;
        Ok(LoadedModel { card, bundle })
    }

    /// The schema inputs are checked against.
    pub fn schema(&self) -> &Schema {
        &self.bundle.schema
    }

    /// The label value of the phishing (positive) class.
    pub fn phishing_label(&self) -> i64 {
        self.schema().positive_value()
    }

    /// Predicts every row of a frame loaded with `self.schema()`, [`PREDICT_ROWS`] rows at a
    /// time: the model's working copies of the features then stay small whatever the frame's
    /// size.
    pub fn predict(&self, frame: &Frame) -> Result<Predictions, ApiError> {
        let failed = |e: netsec_stages::StageError| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
        };
        let n = frame.n_rows();
        if n <= PREDICT_ROWS {
            return predict_frame(&self.bundle, frame).map_err(failed);
        }
        let mut all: Option<Predictions> = None;
        for start in (0..n).step_by(PREDICT_ROWS) {
            let end = (start + PREDICT_ROWS).min(n);
            let part = Frame {
                origin: frame.origin.clone(),
                header: frame.header.clone(),
                feature_names: frame.feature_names.clone(),
                dtypes: frame.dtypes.clone(),
                features: frame
                    .features
                    .slice_axis(Axis(0), Slice::from(start..end))
                    .to_owned(),
                label_name: frame.label_name.clone(),
                labels: None,
                lines: frame
                    .lines
                    .get(start..end)
                    .map(<[usize]>::to_vec)
                    .unwrap_or_default(),
            };
            let p = predict_frame(&self.bundle, &part).map_err(failed)?;
            match &mut all {
                None => {
                    let mut first = p;
                    first.classes.reserve(n - end);
                    first.labels.reserve(n - end);
                    first.proba.reserve(n - end);
                    all = Some(first);
                }
                Some(acc) => {
                    acc.classes.extend_from_slice(&p.classes);
                    acc.labels.extend_from_slice(&p.labels);
                    acc.proba.extend_from_slice(&p.proba);
                }
            }
        }
        all.ok_or_else(|| ApiError::internal("no rows to predict"))
    }
}

impl ModelCard {
    /// The card of a loaded bundle. The version is the blake3 of the bundle's canonical JSON,
    /// so it is the same for the same content however the file was written.
    pub fn of(bundle: &ModelBundle, path: &Path) -> Result<ModelCard, String> {
        let version = bundle
            .version()
            .map_err(|e| format!("cannot encode the bundle of `{}`: {e}", path.display()))?;
        let schema = &bundle.schema;
        Ok(ModelCard {
            version,
            model: bundle.model.name().to_string(),
            trained_at: bundle.created_at.clone(),
            netsec_version: Some(bundle.netsec_version.clone()),
            format_version: Some(u64::from(bundle.format_version)),
            metrics: serde_json::to_value(&bundle.metrics).ok(),
            training_data_digest: bundle.training_data_digest.clone(),
            features: schema.feature_names(),
            target: schema.target.column.clone(),
            labels: schema.target.labels.clone(),
            threshold: bundle.threshold(),
            loaded_at: now_rfc3339(),
            path: path.display().to_string(),
        })
    }
}
