//! RBF-kernel SVM trained by linfa-svm (SMO), with Platt-scaled probabilities.
//!
//! Memory: linfa builds a dense n × n kernel matrix. Training rows are therefore first
//! deduplicated (identical feature vector and label: the phishing data is 47% copies), then, if
//! still more than `max_rows`, a seeded stratified subsample of `max_rows` is taken
//! (600 rows → a 3 MB kernel; a fit takes ~0.1 s here). The support vectors and their weights are stored by value.

use linfa::composing::platt_scaling::{platt_newton_method, Platt};
use linfa::prelude::*;
use linfa_svm::Svm;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::data::{check_xy, Feature};
use crate::error::{ModelError, Result};
use crate::groups::Groups;
use crate::rng::SplitMix64;

/// Hyper-parameters of the RBF SVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SvmParams {
    /// Penalty C.
    pub c: f64,
    /// RBF γ in `exp(−γ‖x − x'‖²)`; `None` = scikit-learn's "scale": 1 / (p · var(X)).
    pub gamma: Option<f64>,
    /// Most training rows the solver sees after deduplication.
    pub max_rows: usize,
}

impl Default for SvmParams {
    fn default() -> Self {
        Self {
            c: 1.0,
            gamma: None,
            max_rows: 600,
        }
    }
}

/// A fitted RBF SVM: `f(x) = Σ coef_i · exp(−γ‖sv_i − x‖²) − rho`,
/// `P(y = 1) = 1 / (1 + exp(platt_a · f + platt_b))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RbfSvm {
    pub params: SvmParams,
    pub gamma: f64,
    pub rho: f64,
    pub coef: Vec<f64>,
    pub support_vectors: Array2<f64>,
    pub platt_a: f64,
    pub platt_b: f64,
    /// Rows the solver saw (after dedup and cap).
    pub n_train_rows: usize,
}

impl RbfSvm {
    /// Fits on `x` and `y` in {0, 1}; `seed` drives the subsample when one is needed.
    /// An `f32` input is widened to `f64` first (linfa's solver and the variance behind the
    /// default `gamma` work in `f64`).
    pub fn fit<T: Feature>(
        x: ArrayView2<T>,
        y: &[u8],
        params: &SvmParams,
        seed: u64,
    ) -> Result<Self> {
        check_xy(x, y)?;
        let wide = T::widen(x);
        let x = wide.view();
        if params.c.is_nan() || params.c <= 0.0 || params.max_rows < 2 {
            return Err(ModelError::BadConfig {
                key: "svm",
                reason: "c must be > 0 and max_rows ≥ 2".into(),
            });
        }
        let gamma = match params.gamma {
            Some(g) if g > 0.0 => g,
            Some(g) => {
                return Err(ModelError::BadConfig {
                    key: "gamma",
                    reason: format!("{g} must be > 0"),
                })
            }
            None => {
                let var = x.var(0.0);
                if var > 0.0 {
                    1.0 / (x.ncols() as f64 * var)
                } else {
                    1.0
                }
            }
        };
        let rows = pick_rows(x, y, params.max_rows, seed);
        let xs = x.select(Axis(0), &rows);
        let ys: Array1<bool> = rows.iter().map(|&i| y[i] == 1).collect();
        if ys.iter().all(|&b| b) || ys.iter().all(|&b| !b) {
            return Err(ModelError::Fit {
                model: "svm",
                reason: "subsample holds a single class".into(),
            });
        }
        let dataset = DatasetBase::new(xs.view(), ys.view());
        let fitted: Svm<f64, bool> = Svm::<f64, bool>::params()
            .pos_neg_weights(params.c, params.c)
            .gaussian_kernel(1.0 / gamma)
            // libsvm's stopping tolerance; linfa's 1e-7 default costs many SMO iterations.
            .eps(1e-3)
            .fit(&dataset)
            .map_err(|e| ModelError::Fit {
                model: "svm",
                reason: e.to_string(),
            })?;
        // Same support-vector filter as linfa's own prediction.
        let keep: Vec<usize> = (0..fitted.alpha.len())
            .filter(|&i| fitted.alpha[i].abs() > 100.0 * f64::EPSILON)
            .collect();
        let mut model = Self {
            params: params.clone(),
            gamma,
            rho: fitted.rho,
            coef: keep.iter().map(|&i| fitted.alpha[i]).collect(),
            support_vectors: xs.select(Axis(0), &keep),
            platt_a: -1.0,
            platt_b: 0.0,
            n_train_rows: rows.len(),
        };
        let decisions: Array1<f64> = xs.outer_iter().map(|r| model.decision(r)).collect();
        let platt = Platt::<f64, ()>::params()
            .check()
            .map_err(|e| ModelError::Fit {
                model: "svm",
                reason: e.to_string(),
            })?;
        let (a, b) = platt_newton_method(decisions.view(), ys.view(), &platt).map_err(|e| {
            ModelError::Fit {
                model: "svm",
                reason: format!("Platt scaling: {e}"),
            }
        })?;
        model.platt_a = a;
        model.platt_b = b;
        Ok(model)
    }

    /// Decision value of one row.
    pub(crate) fn decision(&self, row: ArrayView1<f64>) -> f64 {
        let mut s = 0.0;
        for (sv, &c) in self.support_vectors.outer_iter().zip(&self.coef) {
            let d: f64 = sv
                .iter()
                .zip(row.iter())
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            s += c * (-self.gamma * d).exp();
        }
        s - self.rho
    }

    /// Platt probability of class 1 for one row.
    pub(crate) fn proba_row(&self, row: ArrayView1<f64>) -> f64 {
        crate::data::sigmoid(-(self.platt_a * self.decision(row) + self.platt_b))
    }
}

/// Indices of distinct (row, label) pairs, capped at `max_rows` by a seeded stratified sample.
fn pick_rows(x: ArrayView2<f64>, y: &[u8], max_rows: usize, seed: u64) -> Vec<usize> {
    let distinct = Groups::new(x, Some(y)).first;
    if distinct.len() <= max_rows {
        return distinct;
    }
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(max_rows);
    let total = distinct.len();
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = distinct
            .iter()
            .copied()
            .filter(|&i| y[i] == class)
            .collect();
        rng.shuffle(&mut idx);
        let take = (idx.len() * max_rows).div_ceil(total).min(idx.len());
        out.extend_from_slice(&idx[..take]);
    }
    out.sort_unstable();
    out.truncate(max_rows.max(2));
    out
}
