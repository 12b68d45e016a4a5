//! `netsec predict`: checks an input CSV against the bundled schema (label column optional),
//! imputes with the bundled preprocessor and appends `prediction` (dataset coding: −1 phishing,
//! 1 legitimate) and `phishing_probability`.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bundle::ModelBundle;
use crate::error::{Result, StageError};
use crate::frame::{Frame, LabelMode};
use crate::fsio::write_atomic;

/// Predictions for a table's rows, in row order.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Model class: 1 = phishing (positive), 0 = legitimate.
    pub classes: Vec<u8>,
    /// The class in the dataset's label coding (e.g. −1 / 1).
    pub labels: Vec<i64>,
    /// Probability of the positive (phishing) class.
    pub proba: Vec<f64>,
}

/// Summary of a prediction run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictReport {
    pub rows: usize,
    pub phishing: usize,
    pub legitimate: usize,
    /// Empty cells filled by the bundled imputer.
    pub imputed_cells: usize,
}

/// Predicts every row of an already checked frame (its features in schema order).
pub fn predict_frame(bundle: &ModelBundle, frame: &Frame) -> Result<Predictions> {
    let x = bundle.preprocessor.transform(&frame.features)?;
    let proba = bundle
        .model
        .predict_proba(x.view())
        .map_err(|e| StageError::Fit {
            message: format!("`{}`: {e}", frame.origin),
        })?;
    let classes: Vec<u8> = proba.iter().map(|&p| u8::from(p >= 0.5)).collect();
    let labels = classes
        .iter()
        .map(|&c| bundle.schema.class_to_label(c))
        .collect();
    Ok(Predictions {
        classes,
        labels,
        proba: proba.to_vec(),
    })
}

/// Reads `input_csv`, predicts, and writes the input columns (schema order, label if present)
/// plus `prediction` and `phishing_probability` to `out`.
pub fn predict(
    bundle: &ModelBundle,
    input_csv: &Path,
    out: &mut dyn Write,
) -> Result<PredictReport> {
    let (text, report) = predict_to_string(bundle, input_csv)?;
    out.write_all(text.as_bytes())
        .map_err(|e| StageError::write("<output>", e))?;
    Ok(report)
}

/// Like [`predict`], writing `output_csv` atomically.
pub fn predict_to_file(
    bundle: &ModelBundle,
    input_csv: &Path,
    output_csv: &Path,
) -> Result<PredictReport> {
    let (text, report) = predict_to_string(bundle, input_csv)?;
    write_atomic(output_csv, text.as_bytes())?;
    Ok(report)
}

/// The CSV of `netsec predict` and of the server's `Accept: text/csv`: the frame's columns
/// (schema order, label if present), then `prediction` and `phishing_probability`.
pub fn predictions_csv(frame: &Frame, p: &Predictions) -> Result<String> {
    let labels: Vec<String> = p.labels.iter().map(|l| l.to_string()).collect();
    // Shortest round-trip form: exact, and stable across platforms.
    let proba: Vec<String> = p.proba.iter().map(|v| format!("{v}")).collect();
    frame.to_csv_string_with(&[("prediction", &labels), ("phishing_probability", &proba)])
}

fn predict_to_string(bundle: &ModelBundle, input_csv: &Path) -> Result<(String, PredictReport)> {
    let frame = Frame::read_csv(input_csv, &bundle.schema, LabelMode::Optional)?;
    let p = predict_frame(bundle, &frame)?;
    let text = predictions_csv(&frame, &p)?;
    let phishing = p.classes.iter().filter(|&&c| c == 1).count();
    let report = PredictReport {
        rows: frame.n_rows(),
        phishing,
        legitimate: frame.n_rows() - phishing,
        imputed_cells: frame.missing_cells(),
    };
    Ok((text, report))
}
