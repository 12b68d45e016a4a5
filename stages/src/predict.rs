//! `netsec predict`: checks an input CSV against the bundled schema (label column optional),
//! imputes with the bundled preprocessor, applies the bundle's decision threshold and appends
//! `prediction` (dataset coding: −1 phishing, 1 legitimate), `prediction_label` (`phishing` /
//! `legitimate`, the schema's class names) and `phishing_probability`.

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
    /// The decision threshold applied: phishing when `proba ≥ threshold`.
    pub threshold: f64,
    /// The schema's name of each model class (`class_names[1]` = "phishing").
    pub class_names: [String; 2],
    /// The dataset coding of each model class (`class_codes[1]` = −1).
    pub class_codes: [i64; 2],
}

impl Predictions {
    /// The class name of row `i` ("phishing" / "legitimate").
    pub fn name(&self, i: usize) -> &str {
        &self.class_names[usize::from(self.classes[i] == 1)]
    }

    /// What the prediction columns mean (see [`legend`]).
    pub fn legend(&self) -> String {
        legend_text(self.class_codes, &self.class_names, self.threshold)
    }
}

/// A probability as the CSV writes it: 4 decimals, or more within 0.0001 of 0 or 1 so that
/// two significant digits of the distance to the end show (0.000012, 0.999980) instead of a
/// rounded 0 or 1; at most 12. The decision was taken on the unrounded value.
pub fn format_probability(p: f64) -> String {
    let tail = p.min(1.0 - p);
    let decimals = if tail > 0.0 && tail < 1e-4 {
        ((-tail.log10()).ceil() as usize + 1).min(12)
    } else {
        4
    };
    format!("{p:.decimals$}")
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
    let threshold = bundle.threshold();
    let classes: Vec<u8> = proba.iter().map(|&p| u8::from(p >= threshold)).collect();
    let labels = classes
        .iter()
        .map(|&c| bundle.schema.class_to_label(c))
        .collect();
    Ok(Predictions {
        classes,
        labels,
        proba: proba.to_vec(),
        threshold,
        class_names: [0, 1].map(|c| bundle.schema.class_name(c).to_string()),
        class_codes: [0, 1].map(|c| bundle.schema.class_to_label(c)),
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

/// The CSV of the server's `Accept: text/csv`: the frame's columns (schema order, label if
/// present), then `prediction` (dataset coding) and `phishing_probability`.
pub fn predictions_csv(frame: &Frame, p: &Predictions) -> Result<String> {
    csv_with(frame, p, false)
}

/// The CSV of `netsec predict`: as [`predictions_csv`], with `prediction_label` (the class
/// name) between `prediction` and `phishing_probability`.
pub fn labelled_predictions_csv(frame: &Frame, p: &Predictions) -> Result<String> {
    csv_with(frame, p, true)
}

fn csv_with(frame: &Frame, p: &Predictions, with_names: bool) -> Result<String> {
    let labels: Vec<String> = p.labels.iter().map(|l| l.to_string()).collect();
    let proba: Vec<String> = p.proba.iter().map(|&v| format_probability(v)).collect();
    if with_names {
        let names: Vec<String> = (0..labels.len()).map(|i| p.name(i).to_string()).collect();
        frame.to_csv_string_with(&[
            ("prediction", &labels),
            ("prediction_label", &names),
            ("phishing_probability", &proba),
        ])
    } else {
        frame.to_csv_string_with(&[("prediction", &labels), ("phishing_probability", &proba)])
    }
}

/// The legend of a bundle's prediction columns, e.g. "prediction -1 = phishing, 1 =
/// legitimate; phishing when phishing_probability ≥ 0.4312".
pub fn legend(bundle: &ModelBundle) -> String {
    let s = &bundle.schema;
    legend_text(
        [0, 1].map(|c| s.class_to_label(c)),
        &[0, 1].map(|c| s.class_name(c).to_string()),
        bundle.threshold(),
    )
}

fn legend_text(codes: [i64; 2], names: &[String; 2], threshold: f64) -> String {
    format!(
        "prediction {} = {}, {} = {}; {} when phishing_probability ≥ {threshold:.4}",
        codes[1], names[1], codes[0], names[0], names[1]
    )
}

fn predict_to_string(bundle: &ModelBundle, input_csv: &Path) -> Result<(String, PredictReport)> {
    let frame = Frame::read_csv(input_csv, &bundle.schema, LabelMode::Optional)?;
    let p = predict_frame(bundle, &frame)?;
    let text = labelled_predictions_csv(&frame, &p)?;
    let phishing = p.classes.iter().filter(|&&c| c == 1).count();
    let report = PredictReport {
        rows: frame.n_rows(),
        phishing,
        legitimate: frame.n_rows() - phishing,
        imputed_cells: frame.missing_cells(),
    };
    Ok((text, report))
}

#[cfg(test)]
mod tests {
    use super::format_probability;

    #[test]
    fn probabilities_keep_two_digits_near_the_ends() {
        assert_eq!(format_probability(0.43216), "0.4322");
        assert_eq!(format_probability(0.000012345), "0.000012");
        assert_eq!(format_probability(0.99998), "0.999980");
        assert_eq!(format_probability(1.0), "1.0000");
        assert_eq!(format_probability(0.0), "0.0000");
        assert_eq!(format_probability(1e-30), "0.000000000000");
    }
}
