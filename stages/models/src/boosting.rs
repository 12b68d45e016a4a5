//! Gradient-boosted trees with logistic loss: second-order (Newton) histogram trees, shrinkage
//! and L2-regularised leaves, in the style of XGBoost/LightGBM but without row sampling, so the
//! fit is fully deterministic.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::bins::Binned;
use crate::cart::normalise;
use crate::data::{check_xy, sigmoid};
use crate::dedup::Collapsed;
use crate::error::{ModelError, Result};
use crate::rng::SplitMix64;
use crate::tree::{grow, Criterion, GrowSpec, Tree};

/// Hyper-parameters of gradient boosting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoostingParams {
    pub n_rounds: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    /// L2 penalty λ on leaf values.
    pub l2: f64,
}

impl Default for BoostingParams {
    fn default() -> Self {
        Self {
            n_rounds: 200,
            learning_rate: 0.1,
            max_depth: 4,
            min_samples_leaf: 5,
            l2: 1.0,
        }
    }
}

/// A fitted booster: `P(y = 1) = σ(base_score + Σ trees)`, shrinkage folded into the leaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoosting {
    pub params: BoostingParams,
    pub n_features: usize,
    pub base_score: f64,
    /// Total split gain per feature, normalised to sum to 1.
    pub importance: Vec<f64>,
    pub trees: Vec<Tree>,
}

impl GradientBoosting {
    /// Fits `n_rounds` trees on the logistic-loss gradients.
    pub fn fit(x: ArrayView2<f64>, y: &[u8], params: &BoostingParams) -> Result<Self> {
        if params.learning_rate.is_nan()
            || params.learning_rate <= 0.0
            || params.learning_rate > 1.0
        {
            return Err(ModelError::BadConfig {
                key: "learning_rate",
                reason: format!("{} not in (0, 1]", params.learning_rate),
            });
        }
        if params.min_samples_leaf == 0 || params.max_depth == 0 || params.l2 < 0.0 {
            return Err(ModelError::BadConfig {
                key: "boosting",
                reason: "max_depth and min_samples_leaf must be ≥ 1 and l2 ≥ 0".into(),
            });
        }
        let pos = check_xy(x, y)?;
        let prior = pos as f64 / y.len() as f64;
        let uniq = Collapsed::new(x, y);
        let binned = Binned::new(uniq.x.view())?;
        let w: Vec<f64> = uniq.counts().into_iter().map(f64::from).collect();
        let (ux, uy) = (&uniq.x, &uniq.y);
        let n = uy.len();
        let base_score = (prior / (1.0 - prior)).ln();
        let spec = GrowSpec {
            max_depth: params.max_depth,
            min_samples_split: 2 * params.min_samples_leaf,
            min_samples_leaf: params.min_samples_leaf,
            max_features: x.ncols(),
            criterion: Criterion::Newton {
                lambda: params.l2,
                min_gain: 1e-12,
            },
        };
        let mut raw = vec![base_score; n];
        let mut stats = vec![[0.0; 3]; n];
        let mut importance = vec![0.0; x.ncols()];
        let mut trees = Vec::with_capacity(params.n_rounds);
        // Feature sampling is off (max_features = p), so the stream is never read.
        let mut rng = SplitMix64::new(0);
        for _ in 0..params.n_rounds {
            for i in 0..n {
                let p = sigmoid(raw[i]);
                stats[i] = [
                    w[i] * (p * (1.0 - p)).max(1e-16),
                    w[i] * (p - f64::from(uy[i])),
                    w[i],
                ];
            }
            let mut rows: Vec<u32> = (0..n as u32).collect();
            let mut tree = grow(&binned, &mut rows, &stats, &spec, &mut rng, &mut importance);
            tree.value
                .iter_mut()
                .for_each(|v| *v *= params.learning_rate);
            if tree.n_nodes() == 1 {
                // No split gains anything any more: further rounds would only shift the bias.
                break;
            }
            for (i, r) in raw.iter_mut().enumerate() {
                *r += tree.predict_row(ux.row(i));
            }
            trees.push(tree);
        }
        normalise(&mut importance);
        Ok(Self {
            params: params.clone(),
            n_features: x.ncols(),
            base_score,
            importance,
            trees,
        })
    }
}
