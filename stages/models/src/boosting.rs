//! Gradient-boosted trees with logistic loss: second-order (Newton) histogram trees, shrinkage
//! and L2-regularised leaves, in the style of XGBoost/LightGBM. Optionally stochastic (row
//! subsampling per round, feature sampling per split) and bagged: several boosters with their
//! own seeded streams are averaged, which cuts the variance that the randomness adds. Every
//! random choice comes from the seed, so the fit is deterministic whatever the thread count.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bins::Binned;
use crate::cart::{normalise, MaxFeatures};
use crate::data::{check_xy, sigmoid};
use crate::dedup::Collapsed;
use crate::error::{ModelError, Result};
use crate::rng::SplitMix64;
use crate::tree::{grow, Criterion, GrowSpec, Tree};

/// Hyper-parameters of gradient boosting. The defaults of `subsample`, `max_features` and
/// `n_bags` give plain deterministic boosting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoostingParams {
    pub n_rounds: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub min_samples_leaf: usize,
    /// L2 penalty λ on leaf values.
    pub l2: f64,
    /// Share of the training rows each round's tree sees, drawn without replacement
    /// (Friedman's stochastic gradient boosting); 1 = every row.
    pub subsample: f64,
    /// Features examined per split, drawn per node as in a random forest.
    pub max_features: MaxFeatures,
    /// Independently seeded boosters whose raw scores are averaged; only useful with
    /// `subsample < 1` or sampled features (otherwise every bag is the same booster).
    pub n_bags: usize,
}

impl Default for BoostingParams {
    fn default() -> Self {
        Self {
            n_rounds: 200,
            learning_rate: 0.1,
            max_depth: 4,
            min_samples_leaf: 5,
            l2: 1.0,
            subsample: 1.0,
            max_features: MaxFeatures::All,
            n_bags: 1,
        }
    }
}

impl BoostingParams {
    fn validate(&self) -> Result<()> {
        let bad = |key: &'static str, reason: String| Err(ModelError::BadConfig { key, reason });
        if self.learning_rate.is_nan() || self.learning_rate <= 0.0 || self.learning_rate > 1.0 {
            return bad(
                "learning_rate",
                format!("{} not in (0, 1]", self.learning_rate),
            );
        }
        if self.min_samples_leaf == 0 || self.max_depth == 0 || self.l2.is_nan() || self.l2 < 0.0 {
            return bad(
                "boosting",
                "max_depth and min_samples_leaf must be ≥ 1 and l2 ≥ 0".into(),
            );
        }
        if self.subsample.is_nan() || self.subsample <= 0.0 || self.subsample > 1.0 {
            return bad("subsample", format!("{} not in (0, 1]", self.subsample));
        }
        if self.n_bags == 0 {
            return bad("n_bags", "must be at least 1".into());
        }
        if let MaxFeatures::Fraction(f) = self.max_features {
            if f.is_nan() || f <= 0.0 || f > 1.0 {
                return bad("max_features", format!("fraction {f} not in (0, 1]"));
            }
        }
        Ok(())
    }
}

/// A fitted booster: `P(y = 1) = σ(base_score + Σ trees)`. Shrinkage and the 1/`n_bags`
/// averaging are folded into the leaves, so a bagged model predicts like a single one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoosting {
    pub params: BoostingParams,
    pub n_features: usize,
    pub base_score: f64,
    /// Total split gain per feature, normalised to sum to 1.
    pub importance: Vec<f64>,
    pub trees: Vec<Tree>,
}

/// The training data every bag shares.
struct Shared<'a> {
    uniq: &'a Collapsed,
    binned: &'a Binned,
    /// Copies of each unique row.
    copies: &'a [u32],
    spec: GrowSpec,
    base_score: f64,
}

impl GradientBoosting {
    /// Fits `n_bags` boosters of up to `n_rounds` trees on the logistic-loss gradients; bag
    /// `b` draws from the stream `derive(seed, b)`.
    pub fn fit(x: ArrayView2<f64>, y: &[u8], params: &BoostingParams, seed: u64) -> Result<Self> {
        params.validate()?;
        let pos = check_xy(x, y)?;
        let prior = pos as f64 / y.len() as f64;
        let uniq = Collapsed::new(x, y);
        let binned = Binned::new(uniq.x.view())?;
        let copies = uniq.counts();
        let p = x.ncols();
        let shared = Shared {
            uniq: &uniq,
            binned: &binned,
            copies: &copies,
            spec: GrowSpec {
                max_depth: params.max_depth,
                min_samples_split: 2 * params.min_samples_leaf,
                min_samples_leaf: params.min_samples_leaf,
                max_features: params.max_features.resolve(p),
                count_constant_draws: false,
                criterion: Criterion::Newton {
                    lambda: params.l2,
                    min_gain: 1e-12,
                },
            },
            base_score: (prior / (1.0 - prior)).ln(),
        };
        let bags: Vec<(Vec<Tree>, Vec<f64>)> = (0..params.n_bags)
            .into_par_iter()
            .map(|b| boost(&shared, params, SplitMix64::derive(seed, b as u64)))
            .collect();
        let scale = 1.0 / params.n_bags as f64;
        let mut importance = vec![0.0; p];
        let mut trees = Vec::new();
        for (bag, imp) in bags {
            importance.iter_mut().zip(&imp).for_each(|(a, b)| *a += b);
            for mut t in bag {
                if params.n_bags > 1 {
                    t.value.iter_mut().for_each(|v| *v *= scale);
                }
                trees.push(t);
            }
        }
        normalise(&mut importance);
        Ok(Self {
            params: params.clone(),
            n_features: p,
            base_score: shared.base_score,
            importance,
            trees,
        })
    }
}

/// One booster: its trees (shrinkage applied) and its raw split gains per feature.
fn boost(d: &Shared<'_>, params: &BoostingParams, mut rng: SplitMix64) -> (Vec<Tree>, Vec<f64>) {
    let (ux, uy) = (&d.uniq.x, &d.uniq.y);
    let n = uy.len();
    let mut raw = vec![d.base_score; n];
    let mut stats = vec![[0.0; 3]; n];
    let mut weight: Vec<u32> = d.copies.to_vec();
    let mut importance = vec![0.0; ux.ncols()];
    let mut trees = Vec::with_capacity(params.n_rounds);
    for _ in 0..params.n_rounds {
        if params.subsample < 1.0 {
            // Each original row is kept with probability `subsample`; a unique row's weight is
            // the number of its copies kept.
            weight.iter_mut().for_each(|w| *w = 0);
            for &u in &d.uniq.of_row {
                if rng.unit() < params.subsample {
                    weight[u as usize] += 1;
                }
            }
        }
        for i in 0..n {
            let p = sigmoid(raw[i]);
            let w = f64::from(weight[i]);
            stats[i] = [
                w * (p * (1.0 - p)).max(1e-16),
                w * (p - f64::from(uy[i])),
                w,
            ];
        }
        let mut rows: Vec<u32> = (0..n as u32).filter(|&i| weight[i as usize] > 0).collect();
        let mut tree = grow(
            d.binned,
            &mut rows,
            &stats,
            &d.spec,
            &mut rng,
            &mut importance,
        );
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
    (trees, importance)
}
