//! `LoadedModel`: a model bundle (`final_model/bundle.json`) loaded for serving, with its model
//! card, and prediction of a schema-checked frame.

use std::path::Path;

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
    pub loaded_at: String,
    /// Where the bundle was read; kept out of replies (no filesystem path reaches a client).
    #[serde(skip)]
    pub path: String,
}

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

    /// Predicts every row of a frame loaded with `self.schema()`.
    pub fn predict(&self, frame: &Frame) -> Result<Predictions, ApiError> {
        predict_frame(&self.bundle, frame)
            .map_err(|e| ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
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
            loaded_at: now_rfc3339(),
            path: path.display().to_string(),
        })
    }
}
