//! netsec-tracking: what a data scientist looks at after `netsec repro` — an MLflow run per
//! training repro (blocking REST client, no async runtime), metric tables and diffs for
//! `netsec metrics`, declared plots drawn as SVG for `netsec plots`, the self-contained HTML
//! report of `netsec report`, and the stage-timings side file. It reads the ML artifacts
//! through `netsec-stages` types and knows nothing of the engine; the binary gathers what the
//! engine knows (lock params, source digests, events).

pub mod client;
pub mod config;
pub mod error;
pub mod metrics;
pub mod plots;
pub mod reliability;
pub mod report;
pub mod run;
pub mod timings;

pub use client::{Metric, MlflowClient, RunHandle};
pub use config::{Auth, TrackingConfig, DEFAULT_EXPERIMENT};
pub use error::{Result, TrackingError};
/// `uri` without its `user:password@` part, for messages (netsec-common's redactor).
pub use netsec_common::redact::redact_uri as redact;
pub use report::{build_report, write_report, DagRow, ReportInputs, REPORT_PATH};
pub use run::{log_run, ArtifactPaths, RunContext, RunRecord};
pub use timings::{human_ms, StageTiming, Timings};
