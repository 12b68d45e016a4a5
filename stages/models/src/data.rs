//! Input checks shared by every learner: shapes, labels in {0, 1}, both classes present.

use ndarray::ArrayView2;

use crate::error::{ModelError, Result};

/// Checks `x`/`y` agree, labels are 0/1 and both classes occur; returns the positive count.
pub(crate) fn check_xy(x: ArrayView2<f64>, y: &[u8]) -> Result<usize> {
    if x.nrows() != y.len() {
        return Err(ModelError::LengthMismatch {
            rows: x.nrows(),
            labels: y.len(),
        });
    }
    if y.is_empty() {
        return Err(ModelError::Empty);
    }
    if let Some((row, &value)) = y.iter().enumerate().find(|(_, &v)| v > 1) {
        return Err(ModelError::BadLabel { row, value });
    }
    let pos = y.iter().filter(|&&v| v == 1).count();
    if pos == 0 || pos == y.len() {
        return Err(ModelError::SingleClass { class: y[0] });
    }
    for ((row, column), &value) in x.indexed_iter() {
        if !value.is_finite() {
            return Err(ModelError::NonFinite { row, column, value });
        }
    }
    Ok(pos)
}

/// Checks a prediction input has the width the model was trained on.
pub(crate) fn check_width(expected: usize, x: ArrayView2<f64>) -> Result<()> {
    if x.ncols() != expected {
        return Err(ModelError::FeatureCount {
            expected,
            found: x.ncols(),
        });
    }
    Ok(())
}

/// Numerically safe logistic function.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
