//! L2-regularised logistic regression fitted by linfa-logistic (L-BFGS); only the coefficients
//! are kept, so the saved model does not depend on linfa's serde layout.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression as LinfaLogistic;
use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::data::{check_xy, Feature};
use crate::error::{ModelError, Result};

/// Hyper-parameters of logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogisticParams {
    /// L2 penalty (linfa's `alpha`).
    pub alpha: f64,
    pub max_iterations: u64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            max_iterations: 50,
        }
    }
}

/// A fitted logistic regression: `P(y = 1) = σ(intercept + coef · x)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    pub params: LogisticParams,
    pub intercept: f64,
    pub coef: Vec<f64>,
}

impl LogisticRegression {
    /// Fits on `x` and `y` in {0, 1} (an `f32` input is widened to `f64` first: linfa's
    /// solver works in `f64`).
    pub fn fit<T: Feature>(x: ArrayView2<T>, y: &[u8], params: &LogisticParams) -> Result<Self> {
        check_xy(x, y)?;
        let wide = T::widen(x);
        let x = wide.view();
        let targets: Array1<u8> = Array1::from(y.to_vec());
        let dataset = DatasetBase::new(x, targets);
        let fitted = LinfaLogistic::default()
            .alpha(params.alpha)
            .max_iterations(params.max_iterations)
            .fit(&dataset)
            .map_err(|e| ModelError::Fit {
                model: "logistic",
                reason: e.to_string(),
            })?;
        // linfa models the probability of its own "positive" label; orient it to class 1.
        let sign = if fitted.labels().pos.class == 1 {
            1.0
        } else {
            -1.0
        };
        Ok(Self {
            params: params.clone(),
            intercept: sign * fitted.intercept(),
            coef: fitted.params().iter().map(|w| sign * w).collect(),
        })
    }

    /// Decision value `intercept + coef · row`.
    pub(crate) fn decision(&self, row: ndarray::ArrayView1<f64>) -> f64 {
        self.intercept
            + self
                .coef
                .iter()
                .zip(row.iter())
                .map(|(w, v)| w * v)
                .sum::<f64>()
    }
}
