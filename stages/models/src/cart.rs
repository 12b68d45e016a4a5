//! Histogram CART classifier (gini), exact on discrete features: one bin per distinct value,
//! thresholds halfway between the values present in the node, zero-gain splits allowed.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::bins::Binned;
use crate::data::{check_xy, Feature};
use crate::dedup::Collapsed;
use crate::error::{ModelError, Result};
use crate::rng::SplitMix64;
use crate::tree::{grow, Criterion, GrowSpec, Tree};

/// How many features a split examines.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxFeatures {
    All,
    Sqrt,
    Log2,
    Count(usize),
    Fraction(f64),
}

impl MaxFeatures {
    /// The count for `p` features (at least 1, at most `p`).
    pub fn resolve(self, p: usize) -> usize {
        let k = match self {
            MaxFeatures::All => p,
            MaxFeatures::Sqrt => (p as f64).sqrt().floor() as usize,
            MaxFeatures::Log2 => (p as f64).log2().floor() as usize,
            MaxFeatures::Count(k) => k,
            MaxFeatures::Fraction(f) => (f * p as f64).floor() as usize,
        };
        k.clamp(1, p.max(1))
    }
}

/// Hyper-parameters of one CART tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TreeParams {
    /// `None`: grow until pure or too small.
    pub max_depth: Option<usize>,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub max_features: MaxFeatures,
    /// Whether features found constant in a node count towards `max_features` (see
    /// `GrowSpec::count_constant_draws`); irrelevant when every feature is examined.
    pub count_constant_draws: bool,
}

impl Default for TreeParams {
    fn default() -> Self {
        Self {
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: MaxFeatures::All,
            count_constant_draws: false,
        }
    }
}

impl TreeParams {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.min_samples_leaf == 0 {
            return Err(ModelError::BadConfig {
                key: "min_samples_leaf",
                reason: "must be at least 1".into(),
            });
        }
        if self.min_samples_split < 2 {
            return Err(ModelError::BadConfig {
                key: "min_samples_split",
                reason: "must be at least 2".into(),
            });
        }
        if let MaxFeatures::Fraction(f) = self.max_features {
            if f.is_nan() || f <= 0.0 || f > 1.0 {
                return Err(ModelError::BadConfig {
                    key: "max_features",
                    reason: format!("fraction {f} not in (0, 1]"),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn spec(&self, p: usize) -> GrowSpec {
        GrowSpec {
            max_depth: self.max_depth.unwrap_or(usize::MAX),
            min_samples_split: self.min_samples_split,
            min_samples_leaf: self.min_samples_leaf,
            max_features: self.max_features.resolve(p),
            count_constant_draws: self.count_constant_draws,
            criterion: Criterion::Gini,
        }
    }
}

/// A fitted CART classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTree {
    pub params: TreeParams,
    pub n_features: usize,
    /// Gini importance, normalised to sum to 1 (all zero for a lone leaf).
    pub importance: Vec<f64>,
    pub tree: Tree,
}

/// Grows a gini tree on binned (unique) rows with integer weights (copies × bootstrap draws).
pub(crate) fn fit_weighted(
    binned: &Binned,
    y: &[u8],
    weights: &[u32],
    params: &TreeParams,
    rng: &mut SplitMix64,
    importance: &mut [f64],
) -> Tree {
    let stats: Vec<[f64; 3]> = y
        .iter()
        .zip(weights)
        .map(|(&l, &w)| [f64::from(w), f64::from(w) * f64::from(l), f64::from(w)])
        .collect();
    let mut rows: Vec<u32> = (0..y.len() as u32)
        .filter(|&i| weights[i as usize] > 0)
        .collect();
    grow(
        binned,
        &mut rows,
        &stats,
        &params.spec(binned.n_features),
        rng,
        importance,
    )
}

pub(crate) fn normalise(v: &mut [f64]) {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
}

impl DecisionTree {
    /// Fits a tree on `x` (n × p) and labels `y` in {0, 1}; `seed` drives feature sampling
    /// when `max_features` is below `p`.
    pub fn fit<T: Feature>(
        x: ArrayView2<T>,
        y: &[u8],
        params: &TreeParams,
        seed: u64,
    ) -> Result<Self> {
        params.validate()?;
        check_xy(x, y)?;
        let uniq = Collapsed::new(x, y);
        let binned = Binned::of_rows(x, uniq.rows())?;
        let mut importance = vec![0.0; x.ncols()];
        let weights = uniq.counts();
        let tree = fit_weighted(
            &binned,
            &uniq.y,
            &weights,
            params,
            &mut SplitMix64::new(seed),
            &mut importance,
        );
        normalise(&mut importance);
        Ok(Self {
            params: params.clone(),
            n_features: x.ncols(),
            importance,
            tree,
        })
    }
}
