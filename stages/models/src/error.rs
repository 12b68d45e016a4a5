//! Errors of the learners: bad shapes, bad labels, bad configuration, unmet quality bars.

use thiserror::Error;

/// Everything that can go wrong while fitting, selecting or predicting.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    #[error("`x` has {rows} rows but `y` has {labels} labels")]
    LengthMismatch { rows: usize, labels: usize },
    #[error("no training rows")]
    Empty,
    #[error("label {value} at row {row} is not 0 or 1 (1 = phishing = positive class)")]
    BadLabel { row: usize, value: u8 },
    #[error("training labels hold a single class ({class}); two are needed")]
    SingleClass { class: u8 },
    #[error("feature value at row {row}, column {column} is not finite ({value})")]
    NonFinite {
        row: usize,
        column: usize,
        value: f64,
    },
    #[error("model expects {expected} features but the input has {found} columns")]
    FeatureCount { expected: usize, found: usize },
    #[error("unknown model `{name}`; known models: {known}")]
    UnknownModel { name: String, known: String },
    #[error("no candidate models to select from (`models` is empty)")]
    NoCandidates,
    #[error("invalid setting `{key}`: {reason}")]
    BadConfig { key: &'static str, reason: String },
    #[error("cannot run {folds}-fold CV: class {class} has only {count} rows")]
    TooFewForFolds {
        folds: usize,
        class: u8,
        count: usize,
    },
    #[error("{model} failed to fit: {reason}")]
    Fit { model: &'static str, reason: String },
    #[error(
        "best model `{model}` reaches mean CV F1 {cv_f1:.4}, below `expected_score` {expected:.4}"
    )]
    BelowExpectedScore {
        model: String,
        cv_f1: f64,
        expected: f64,
    },
    #[error(
        "best model `{model}` over-fits: train F1 {train_f1:.4} − CV F1 {cv_f1:.4} = {gap:.4} exceeds `max_overfit_gap` {max_gap:.4}"
    )]
    Overfit {
        model: String,
        train_f1: f64,
        cv_f1: f64,
        gap: f64,
        max_gap: f64,
    },
}

/// Result alias of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
