//! `LoadedModel`: a model bundle (`final_model/bundle.json`) loaded for serving, with its model
//! card, and prediction of a schema-checked frame.

use std::path::Path;

use netsec_stages::{Frame, Schema};
use serde::Serialize;

use crate::clock::now_rfc3339;
use crate::error::ApiError;

/// One prediction per row, in the dataset's label coding.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// `-1` phishing / `1` legitimate (the schema's labels).
    pub prediction: Vec<i64>,
    pub phishing_probability: Vec<f64>,
}

/// What `GET /model` shows and every prediction response carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelCard {
    /// Content digest of `bundle.json` (blake3, 16 hex digits): changes iff the bundle does.
    pub version: String,
    /// Model family (`forest`, `boosting`, …).
    pub model: String,
    pub trained_at: Option<String>,
    pub netsec_version: Option<String>,
    pub format_version: Option<u64>,
    /// The bundle's test metrics.
    pub metrics: Option<serde_json::Value>,
    pub features: Vec<String>,
    pub target: String,
    /// Label name → value in the dataset's coding (`phishing: -1`, `legitimate: 1`).
    pub labels: std::collections::BTreeMap<String, i64>,
    pub loaded_at: String,
    pub path: String,
}

/// The parts of `bundle.json` serving needs.
// INTERIM until `netsec_stages::bundle::ModelBundle` lands: then this becomes that type.
#[derive(Debug, serde::Deserialize)]
struct BundleFile {
    #[serde(default)]
    format: Option<u64>,
    schema: Schema,
    preprocessor: netsec_stages::Preprocessor,
    model: netsec_models::Model,
    #[serde(default)]
    metrics: Option<serde_json::Value>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    netsec_version: Option<String>,
}

/// A bundle ready to predict.
#[derive(Debug)]
pub struct LoadedModel {
    pub card: ModelCard,
    bundle: BundleFile,
}

impl LoadedModel {
    /// Reads and checks the bundle; the message says what is wrong with it.
    pub fn load(path: &Path) -> Result<LoadedModel, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let bundle: BundleFile = serde_json::from_slice(&bytes)
            .map_err(|e| format!("`{}` is not a model bundle: {e}", path.display()))?;
        if bundle.preprocessor.features != bundle.schema.feature_names()
            || bundle.model.n_features() != bundle.schema.n_features()
        {
            return Err(format!(
                "`{}`: the schema, preprocessor and model disagree on the features",
                path.display()
            ));
        }
        let digest = blake3::hash(&bytes).to_hex();
        let schema = &bundle.schema;
        let card = ModelCard {
            version: digest[..16].to_string(),
            model: bundle.model.name().to_string(),
            trained_at: bundle.created_at.clone(),
            netsec_version: bundle.netsec_version.clone(),
            format_version: bundle.format,
            metrics: bundle.metrics.clone(),
            features: schema.feature_names(),
            target: schema.target.column.clone(),
            labels: schema
                .target
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            loaded_at: now_rfc3339(),
            path: path.display().to_string(),
        };
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
        let unprocessable =
            |e: String| ApiError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e);
        // The imputer returns the input as is when no cell is missing.
        let x = if netsec_stages::KnnImputer::needs_imputation(&frame.features) {
            std::borrow::Cow::Owned(
                self.bundle
                    .preprocessor
                    .transform(&frame.features)
                    .map_err(|e| unprocessable(e.to_string()))?,
            )
        } else {
            std::borrow::Cow::Borrowed(&frame.features)
        };
        let proba = self
            .bundle
            .model
            .predict_proba(x.view())
            .map_err(|e| unprocessable(e.to_string()))?;
        let schema = self.schema();
        let prediction = proba
            .iter()
            .map(|&p| schema.class_to_label(u8::from(p >= 0.5)))
            .collect();
        Ok(Predictions {
            prediction,
            phishing_probability: proba.to_vec(),
        })
    }
}
