//! netsec-stages: the phishing pipeline as plain functions (schema, ingest, split, validate +
//! KS drift, KNN imputation, transform, and — from the models side — train, evaluate, bundle,
//! predict). It knows nothing of the engine: adapters call these with paths and configs.

mod argselect;
pub mod drift;
pub mod error;
pub mod frame;
pub mod fsio;
pub mod impute;
pub mod ingest;
pub mod kolmogorov;
pub mod ks;
pub mod limits;
pub mod npy;
pub mod psi;
pub mod schema;
pub mod source;
pub mod split;
pub mod split_summary;
pub mod transform;
pub mod validate;

pub use error::{ErrorKind, Problem, Result, StageError};
pub use frame::{format_cell, Frame, LabelMode};
pub use impute::KnnImputer;
pub use ingest::{ingest, ingest_from, IngestConfig, IngestReport};
pub use ks::{ks_2samp, KsMethod, KsResult};
pub use schema::{Column, Dtype, Schema, Target};
pub use source::{CsvSource, Source, SourceKind};
pub use split::{split, SplitConfig, SplitMode};
pub use split_summary::SplitSummary;
pub use transform::{load_xy, transform, Preprocessor, TransformConfig, TransformReport};
pub use validate::{validate, Decision, FailOn, ValidateConfig, ValidationReport};

// Models side (train, evaluate, bundle, predict) below.
pub mod bundle;
pub mod evaluate;
pub mod plots;
pub mod predict;
pub mod refit;
pub mod train;

pub use bundle::{ModelBundle, BUNDLE_FILE, BUNDLE_FORMAT};
pub use evaluate::{
    evaluate, evaluate_with_plots, EvaluateConfig, EvaluateInputs, EvaluateOutputs, EvaluateReport,
    MetricsReport, Promotion, TestMetrics,
};
pub use predict::{
    format_probability, labelled_predictions_csv, legend, predict, predict_frame, predict_to_file,
    predictions_csv, PredictReport, Predictions,
};
pub use refit::Refit;
pub use train::{train, train_observed, CvReport, TrainReport};

// The comparison split (lead).
pub mod compare;

pub use compare::{compare, CompareConfig, CompareReport};
pub use netsec_models::{ModelError, SelectConfig};
