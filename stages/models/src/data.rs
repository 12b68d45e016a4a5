//! Input checks shared by every learner: shapes, labels in {0, 1}, both classes present; and
//! [`Feature`], the element types a feature matrix may have.

use ndarray::{ArrayView2, CowArray, Ix2};

use crate::error::{ModelError, Result};

/// An element type of a feature matrix: `f32` (the pipeline's storage: the dataset's codes are
/// exact in it, at half the memory of `f64`) or `f64`. Every learner widens each value to `f64`
/// exactly, so a model fitted on `f32` input equals the model fitted on `f64` input of the same
/// values.
pub trait Feature: Copy + Send + Sync + std::fmt::Debug + 'static {
    /// The value as an `f64` (exact).
    fn to_f64(self) -> f64;

    /// The nearest value to `v` (exact for `f64`; for `f32`, exact for -1, 0, 1 and every
    /// integer up to ±2²⁴).
    fn from_f64(v: f64) -> Self;

    /// `x` as an `f64` matrix: a view for `f64`, a widened copy for `f32` (for the linfa
    /// learners, which want `f64`; they see the small CV parts or one refit).
    fn widen(x: ArrayView2<'_, Self>) -> CowArray<'_, f64, Ix2>;
}

impl Feature for f64 {
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }

    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }

    fn widen(x: ArrayView2<'_, f64>) -> CowArray<'_, f64, Ix2> {
        CowArray::from(x)
    }
}

impl Feature for f32 {
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }

    fn widen(x: ArrayView2<'_, f32>) -> CowArray<'_, f64, Ix2> {
        CowArray::from(x.mapv(f64::from))
    }
}

/// Checks `x`/`y` agree, labels are 0/1 and both classes occur; returns the positive count.
pub(crate) fn check_xy<T: Feature>(x: ArrayView2<T>, y: &[u8]) -> Result<usize> {
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
        let value = value.to_f64();
        if !value.is_finite() {
            return Err(ModelError::NonFinite { row, column, value });
        }
    }
    Ok(pos)
}

/// Checks a prediction input has the width the model was trained on.
pub(crate) fn check_width<T: Feature>(expected: usize, x: ArrayView2<T>) -> Result<()> {
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
