//! Gradient-boosted trees with logistic loss: second-order (Newton) histogram trees, shrinkage
//! and L2-regularised leaves, in the style of XGBoost/LightGBM. Optionally stochastic (row
//! subsampling per round, feature sampling per split) and bagged: several boosters with their
//! own seeded streams are averaged, which cuts the variance that the randomness adds. With
//! `early_stopping`, a grouped stratified share of the rows (identical feature vectors kept
//! together, as the split and grouped CV keep them) is held out, and each booster keeps the
//! rounds up to its lowest log-loss on it. Every random choice comes from the seed, so the fit
//! is deterministic whatever the thread count.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bins::Binned;
use crate::cart::{normalise, MaxFeatures};
use crate::cv::{stratified_group_folds, train_indices};
use crate::data::{check_xy, sigmoid, Feature};
use crate::dedup::Collapsed;
use crate::error::{ModelError, Result};
use crate::groups::Groups;
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
    /// Stop each booster when a held-out share of the rows stops improving (`None`: every
    /// round is fitted on every row). Left out of the JSON when off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
}

/// Early stopping on an inner validation split of the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    /// Share of the rows held out, in (0, 0.5]: one of round(1 / share) grouped stratified
    /// folds, so identical feature vectors never straddle the inner split.
    pub validation_fraction: f64,
    /// Rounds without an improvement of the held-out log-loss before a booster stops; it then
    /// keeps the trees up to its best round.
    pub patience: usize,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self {
            validation_fraction: 0.1,
            patience: 20,
        }
    }
}

/// Seed stream of the inner validation split (independent of the bags' streams).
const VALIDATION_STREAM: u64 = 0xe5_7095;

/// The inner split of early stopping: `(fit rows, validation rows)`, each ascending. The
/// validation rows are one of round(1 / `fraction`) folds of `stratified_group_folds` over the
/// rows' feature-vector groups, so both classes are in it and no feature vector is on both
/// sides.
pub fn validation_split<T: Feature>(
    x: ArrayView2<T>,
    y: &[u8],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let k = ((1.0 / fraction).round() as usize).max(2);
    let groups = Groups::new(x, None);
    let seed = SplitMix64::derive(seed, VALIDATION_STREAM).next_u64();
    let mut folds = stratified_group_folds(y, &groups.of_row, k, seed)?;
    let validation = folds.swap_remove(0);
    Ok((train_indices(y.len(), &validation), validation))
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
            early_stopping: None,
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
        if let Some(es) = &self.early_stopping {
            let f = es.validation_fraction;
            if f.is_nan() || f <= 0.0 || f > 0.5 {
                return bad(
                    "early_stopping.validation_fraction",
                    format!("{f} not in (0, 0.5]"),
                );
            }
            if es.patience == 0 {
                return bad("early_stopping.patience", "must be at least 1".into());
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
struct Shared<'a, 'x, T> {
    uniq: &'a Collapsed<'x, T>,
    binned: &'a Binned,
    /// Copies of each unique row.
    copies: &'a [u32],
    spec: GrowSpec,
    base_score: f64,
    /// The held-out rows of early stopping, collapsed, with their copy counts.
    validation: Option<(&'a Collapsed<'x, T>, &'a [u32])>,
    patience: usize,
}

impl GradientBoosting {
    /// Fits `n_bags` boosters of up to `n_rounds` trees on the logistic-loss gradients; bag
    /// `b` draws from the stream `derive(seed, b)`. With early stopping the boosters are fitted
    /// on the rows outside [`validation_split`] and stop on it.
    pub fn fit<T: Feature>(
        x: ArrayView2<T>,
        y: &[u8],
        params: &BoostingParams,
        seed: u64,
    ) -> Result<Self> {
        params.validate()?;
        check_xy(x, y)?;
        // With early stopping: the fit rows and the held-out rows (collapsed); both index `x`,
        // nothing is copied.
        let inner = match &params.early_stopping {
            None => None,
            Some(es) => {
                let (fit, val) = validation_split(x, y, es.validation_fraction, seed)?;
                let held = Collapsed::of_rows(x, y, Some(&val));
                Some((fit, held))
            }
        };
        let fit_rows = inner.as_ref().map(|(fit, _)| fit.as_slice());
        let held_out = inner.as_ref().map(|(_, held)| held);
        let pos = fit_rows.map_or_else(
            || y.iter().filter(|&&v| v == 1).count(),
            |rows| rows.iter().filter(|&&i| y[i] == 1).count(),
        );
        let prior = pos as f64 / fit_rows.map_or(y.len(), <[usize]>::len) as f64;
        let uniq = Collapsed::of_rows(x, y, fit_rows);
        let binned = Binned::of_rows(x, uniq.rows())?;
        let copies = uniq.counts();
        let held_copies = held_out.map(Collapsed::counts);
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
            validation: held_out.zip(held_copies.as_deref()),
            patience: params.early_stopping.map_or(0, |es| es.patience),
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

/// Log-loss of raw score `r` for label `y`: softplus(−r) or softplus(r), computed stably.
fn log_loss(r: f64, y: u8) -> f64 {
    let z = if y == 1 { -r } else { r };
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The held-out rows' raw scores and the best round so far (early stopping).
struct Watch<'a, 'x, T> {
    rows: &'a Collapsed<'x, T>,
    copies: &'a [u32],
    raw: Vec<f64>,
    best_loss: f64,
    /// Trees kept at the best round, and the split gains up to it.
    best_len: usize,
    best_importance: Vec<f64>,
    since_best: usize,
}

impl<T: Feature> Watch<'_, '_, T> {
    /// Adds `tree` to the held-out scores; `true` when the booster should stop.
    fn after(&mut self, tree: &Tree, n_trees: usize, importance: &[f64], patience: usize) -> bool {
        let mut loss = 0.0;
        for (i, r) in self.raw.iter_mut().enumerate() {
            *r += tree.predict_row(self.rows.row(i));
            loss += f64::from(self.copies[i]) * log_loss(*r, self.rows.y[i]);
        }
        if loss < self.best_loss {
            self.best_loss = loss;
            self.best_len = n_trees;
            self.best_importance.copy_from_slice(importance);
            self.since_best = 0;
        } else {
            self.since_best += 1;
        }
        self.since_best >= patience
    }
}

/// One booster: its trees (shrinkage applied) and its raw split gains per feature.
fn boost<T: Feature>(
    d: &Shared<'_, '_, T>,
    params: &BoostingParams,
    mut rng: SplitMix64,
) -> (Vec<Tree>, Vec<f64>) {
    let (uniq, uy) = (d.uniq, &d.uniq.y);
    let p = uniq.matrix().ncols();
    let n = uy.len();
    let mut raw = vec![d.base_score; n];
    let mut stats = vec![[0.0; 3]; n];
    let mut weight: Vec<u32> = d.copies.to_vec();
    let mut importance = vec![0.0; p];
    let mut trees = Vec::with_capacity(params.n_rounds);
    let mut watch = d.validation.map(|(rows, copies)| {
        let raw = vec![d.base_score; rows.y.len()];
        let best_loss = raw
            .iter()
            .enumerate()
            .map(|(i, &r)| f64::from(copies[i]) * log_loss(r, rows.y[i]))
            .sum();
        Watch {
            rows,
            copies,
            raw,
            best_loss,
            best_len: 0,
            best_importance: vec![0.0; p],
            since_best: 0,
        }
    });
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
            *r += tree.predict_row(uniq.row(i));
        }
        trees.push(tree);
        if let Some(w) = &mut watch {
            let last = trees
                .last()
                .map(|t| w.after(t, trees.len(), &importance, d.patience));
            if last == Some(true) {
                break;
            }
        }
    }
    match watch {
        Some(w) => {
            trees.truncate(w.best_len);
            (trees, w.best_importance)
        }
        None => (trees, importance),
    }
}
