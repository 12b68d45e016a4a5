//! `netsec predict --json` (needs `--output`: the predictions go to the file, this summary to
//! stdout).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictJson {
    pub rows: usize,
    pub phishing: usize,
    pub legitimate: usize,
    /// Empty cells filled by the bundled imputer.
    pub imputed_cells: usize,
    /// The CSV written (as given on the command line, resolved against the working directory).
    pub output: String,
    /// The bundle file used.
    pub model: String,
    /// The bundle's version (as `netsec serve` reports it in `/model`).
    pub model_version: String,
    /// The decision threshold applied: a row is phishing when its phishing probability is at
    /// least this (chosen by `train` on out-of-fold predictions, stored in the bundle).
    pub threshold: f64,
}
