//! netsec-stages: the phishing pipeline as plain functions (schema, ingest, split, validate +
//! KS drift, KNN imputation, transform, and — from the models side — train, evaluate, bundle,
//! predict). It knows nothing of the engine: adapters call these with paths and configs.

pub mod error;
pub mod frame;
pub mod fsio;
pub mod schema;
pub mod source;

pub use error::{ErrorKind, Problem, Result, StageError};
pub use frame::{Frame, LabelMode};
pub use schema::{Column, Dtype, Schema, Target};
pub use source::{CsvSource, Source, SourceKind};
pub mod ingest;
pub mod split;
pub mod split_summary;

pub use ingest::{ingest, ingest_from, IngestConfig, IngestReport};
pub use split::{split, SplitConfig, SplitMode};
pub use split_summary::SplitSummary;
pub mod kolmogorov;
pub mod ks;

pub use ks::{ks_2samp, KsMethod, KsResult};
pub mod impute;

pub use impute::KnnImputer;
pub mod npy;
pub mod transform;

pub use transform::{load_xy, transform, Preprocessor, TransformConfig, TransformReport};
mod argselect;
pub mod drift;
pub mod validate;

pub use validate::{validate, Decision, FailOn, ValidateConfig, ValidationReport};
