//! Model selection: every candidate of every requested family is scored by k-fold CV F1 on the
//! training set only — grouped folds by default, so identical feature vectors never sit on both
//! sides — with rayon across folds and grid points. Soft votes of the best candidate with each
//! candidate of the second-best family are scored from their out-of-fold probabilities. The
//! best candidate is refitted on all rows and must clear `expected_score` and
//! `max_overfit_gap`; the decision threshold is the one that maximises F1 on its out-of-fold
//! probabilities. Above `cv_max_rows` training rows, the CV
//! runs on a grouped stratified subsample and only the refit sees every row, so the grid's
//! cost stays flat as the data grows. The test set is never seen here.

use ndarray::{ArrayView2, Axis};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cv::{subsample_rows, train_indices, CvKind};
use crate::data::{check_xy, Feature};
use crate::error::{ModelError, Result};
use crate::metrics::BinaryMetrics;
use crate::model::Model;
use crate::params::{default_grid, Params, KNOWN_MODELS};
use crate::threshold::best_f1_threshold;
use crate::vote::VoteParams;

/// Settings of [`select`]; every field has a default, unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectConfig {
    pub folds: usize,
    pub seed: u64,
    /// Minimum mean CV F1 (positive = phishing) of the chosen model.
    pub expected_score: f64,
    /// Maximum train F1 − CV F1 of the chosen model.
    pub max_overfit_gap: f64,
    /// Families to try, from [`KNOWN_MODELS`].
    pub models: Vec<String>,
    /// How folds are drawn: `grouped` (identical feature vectors in one fold, as the split
    /// keeps them on one side; the default) or `stratified`. The other kind is also run on
    /// the chosen candidate and reported beside it.
    pub cv: CvKind,
    /// Also score soft votes of the best candidate with each candidate of the second-best
    /// family.
    pub ensemble: bool,
    /// Use the threshold that maximises F1 on the chosen candidate's out-of-fold
    /// probabilities instead of 0.5.
    pub tune_threshold: bool,
    /// Above this many training rows, candidates are scored on a grouped stratified subsample
    /// of about this many rows ([`subsample_rows`]) and forests draw this many rows per tree
    /// (`max_samples`, in CV and refit alike, so CV scores the trees the refit grows); the
    /// chosen candidate is still refitted on every row. Selection only needs a ranking, so its
    /// cost stops growing with the row count. 0 = always every row.
    pub cv_max_rows: usize,
}

impl Default for SelectConfig {
    fn default() -> Self {
        Self {
            folds: 5,
            seed: 42,
            expected_score: 0.6,
            max_overfit_gap: 0.05,
            models: KNOWN_MODELS.iter().map(|s| s.to_string()).collect(),
            cv: CvKind::Grouped,
            ensemble: true,
            tune_threshold: true,
            cv_max_rows: 10_000,
        }
    }
}

impl SelectConfig {
    /// Range checks of every field, so a bad value fails when the pipeline is loaded rather
    /// than minutes into a run; the error names the field and what it may be.
    pub fn validate(&self) -> Result<()> {
        let bad = |key: &'static str, reason: String| Err(ModelError::BadConfig { key, reason });
        if self.folds < 2 {
            return bad("folds", format!("must be at least 2, found {}", self.folds));
        }
        if !(0.0..=1.0).contains(&self.expected_score) {
            return bad(
                "expected_score",
                format!("must lie in [0, 1], found {}", self.expected_score),
            );
        }
        if !(self.max_overfit_gap >= 0.0 && self.max_overfit_gap <= 1.0) {
            return bad(
                "max_overfit_gap",
                format!("must lie in [0, 1], found {}", self.max_overfit_gap),
            );
        }
        if self.cv_max_rows != 0 && self.cv_max_rows < 10 * self.folds {
            return bad(
                "cv_max_rows",
                format!(
                    "must be 0 (never subsample) or at least 10 × folds = {}, found {}",
                    10 * self.folds,
                    self.cv_max_rows
                ),
            );
        }
        if self.models.is_empty() {
            return bad(
                "models",
                format!("must name at least one of {}", KNOWN_MODELS.join(", ")),
            );
        }
        for m in &self.models {
            if !KNOWN_MODELS.contains(&m.as_str()) {
                return bad(
                    "models",
                    format!("unknown model `{m}`; known: {}", KNOWN_MODELS.join(", ")),
                );
            }
        }
        Ok(())
    }
}

/// CV result of one candidate (means over folds; `f1_std` is the population std).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvRow {
    pub model: String,
    pub params: Params,
    pub f1_mean: f64,
    pub f1_std: f64,
    pub precision_mean: f64,
    pub recall_mean: f64,
    pub accuracy_mean: f64,
    pub roc_auc_mean: f64,
    pub fold_f1: Vec<f64>,
}

/// Mean and population std of the fold F1s of one candidate under one kind of CV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    pub cv: CvKind,
    pub f1_mean: f64,
    pub f1_std: f64,
}

/// Outcome of [`select`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// One row per candidate, in candidate order.
    pub table: Vec<CvRow>,
    /// Index of the chosen row in `table`.
    pub chosen: usize,
    /// The chosen candidate refitted on all training rows.
    pub model: Model,
    pub train_f1: f64,
    pub cv_f1: f64,
    /// `train_f1 − cv_f1`.
    pub gap: f64,
    /// Decision threshold on the phishing probability (0.5 unless tuned).
    pub threshold: f64,
    /// F1 of the chosen candidate's pooled out-of-fold probabilities at 0.5 and at `threshold`.
    pub oof_f1: f64,
    pub oof_f1_at_threshold: f64,
    /// The chosen candidate under the other kind of CV (same fold count and seed).
    pub other_cv: CvSummary,
    /// Rows the CV ran on: all training rows, or the subsample above `cv_max_rows`.
    pub cv_rows: usize,
}

/// The candidates `cfg.models` expands to, in order.
pub fn candidates(cfg: &SelectConfig) -> Result<Vec<Params>> {
    if cfg.models.is_empty() {
        return Err(ModelError::NoCandidates);
    }
    let mut out = Vec::new();
    for name in &cfg.models {
        out.extend(default_grid(name)?);
    }
    Ok(out)
}

/// Called after each CV fit with (fits done, fits in all): progress for the caller to show.
pub type OnFit<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Scores every candidate by CV, refits the best and enforces the quality bars.
pub fn select<T: Feature>(x: ArrayView2<T>, y: &[u8], cfg: &SelectConfig) -> Result<Selection> {
    select_observed(x, y, cfg, &|_, _| {})
}

/// Counts finished fits for [`OnFit`].
struct Progress<'a> {
    done: AtomicUsize,
    total: usize,
    on_fit: OnFit<'a>,
}

impl Progress<'_> {
    fn tick(&self) {
        (self.on_fit)(self.done.fetch_add(1, Ordering::Relaxed) + 1, self.total);
    }
}

/// Out-of-fold probabilities of every candidate: `oof[c][i]` is row `i`'s probability from the
/// candidate `c` fitted without `i`'s fold. Rayon over (candidate, fold).
fn out_of_fold<T: Feature>(
    cands: &[Params],
    x: ArrayView2<T>,
    y: &[u8],
    folds: &[Vec<usize>],
    seed: u64,
    progress: &Progress<'_>,
) -> Result<Vec<Vec<f64>>> {
    let train: Vec<Vec<usize>> = folds.iter().map(|te| train_indices(y.len(), te)).collect();
    let jobs: Vec<(usize, usize)> = (0..cands.len())
        .flat_map(|c| (0..folds.len()).map(move |f| (c, f)))
        .collect();
    let scored: Vec<Result<Vec<f64>>> = jobs
        .par_iter()
        .map(|&(c, f)| {
            let tr = &train[f];
            let ytr: Vec<u8> = tr.iter().map(|&i| y[i]).collect();
            let model = cands[c].fit(x.select(Axis(0), tr).view(), &ytr, seed)?;
            let proba = model.predict_proba(x.select(Axis(0), &folds[f]).view())?;
            progress.tick();
            Ok(proba.to_vec())
        })
        .collect();
    let mut oof = vec![vec![0.0; y.len()]; cands.len()];
    for (&(c, f), proba) in jobs.iter().zip(scored) {
        for (&i, p) in folds[f].iter().zip(proba?) {
            oof[c][i] = p;
        }
    }
    Ok(oof)
}

/// Metrics of each fold, from out-of-fold probabilities.
fn fold_metrics(y: &[u8], oof: &[f64], folds: &[Vec<usize>]) -> Vec<BinaryMetrics> {
    folds
        .iter()
        .map(|te| {
            let yte: Vec<u8> = te.iter().map(|&i| y[i]).collect();
            let pte: Vec<f64> = te.iter().map(|&i| oof[i]).collect();
            BinaryMetrics::from_proba(&yte, &pte)
        })
        .collect()
}

/// The best row, and the best row of another family (first wins ties).
fn best_two_families(table: &[CvRow]) -> Option<(usize, usize)> {
    let argmax = |keep: &dyn Fn(&CvRow) -> bool| {
        let mut best: Option<usize> = None;
        for (i, r) in table.iter().enumerate() {
            if keep(r) && best.is_none_or(|b| r.f1_mean > table[b].f1_mean) {
                best = Some(i);
            }
        }
        best
    };
    let first = argmax(&|_| true)?;
    let second = argmax(&|r| r.model != table[first].model)?;
    Some((first, second))
}

/// [`select`], reporting each finished CV fit (and the final refit) to `on_fit`.
pub fn select_observed<T: Feature>(
    x: ArrayView2<T>,
    y: &[u8],
    cfg: &SelectConfig,
    on_fit: OnFit<'_>,
) -> Result<Selection> {
    if !(0.0..=1.0).contains(&cfg.expected_score)
        || cfg.max_overfit_gap.is_nan()
        || cfg.max_overfit_gap < 0.0
    {
        return Err(ModelError::BadConfig {
            key: "expected_score/max_overfit_gap",
            reason: "expected_score must lie in [0, 1] and max_overfit_gap be ≥ 0".into(),
        });
    }
    check_xy(x, y)?;
    let mut cands = candidates(cfg)?;
    // Above `cv_max_rows`, CV runs on a subsample (`xa`/`ya`) and forests bound their draws.
    let sub = subsample_rows(x, y, cfg.cv_max_rows, cfg.seed)?;
    let x_sub = sub.as_ref().map(|rows| x.select(Axis(0), rows));
    let y_sub: Option<Vec<u8>> = sub
        .as_ref()
        .map(|rows| rows.iter().map(|&i| y[i]).collect());
    let (xa, ya) = match (&x_sub, &y_sub) {
        (Some(xs), Some(ys)) => (xs.view(), ys.as_slice()),
        _ => (x.reborrow(), y),
    };
    if sub.is_some() {
        cands
            .iter_mut()
            .for_each(|c| bound_draws(c, cfg.cv_max_rows));
    }
    let folds = cfg.cv.folds(xa, ya, cfg.folds, cfg.seed)?;
    let other_folds = cfg.cv.other().folds(xa, ya, cfg.folds, cfg.seed)?;
    // Every CV fit, the chosen candidate under the other CV, and the final refit.
    let progress = Progress {
        done: AtomicUsize::new(0),
        total: (cands.len() + 1) * folds.len() + 1,
        on_fit,
    };
    let mut oof = out_of_fold(&cands, xa, ya, &folds, cfg.seed, &progress)?;
    let mut table: Vec<CvRow> = cands
        .iter()
        .zip(&oof)
        .map(|(p, o)| row(p.clone(), &fold_metrics(ya, o, &folds)))
        .collect();
    if cfg.ensemble {
        for (a, b) in vote_pairs(&table) {
            let mean: Vec<f64> = oof[a]
                .iter()
                .zip(&oof[b])
                .map(|(p, q)| (p + q) / 2.0)
                .collect();
            let params = Params::Vote(VoteParams {
                members: vec![cands[a].clone(), cands[b].clone()],
            });
            table.push(row(params.clone(), &fold_metrics(ya, &mean, &folds)));
            cands.push(params);
            oof.push(mean);
        }
    }
    // First best wins ties, so the order of `models` decides between equals.
    let mut chosen = 0;
    for (i, r) in table.iter().enumerate() {
        if r.f1_mean > table[chosen].f1_mean {
            chosen = i;
        }
    }
    let best = &table[chosen];
    let (threshold, oof_f1_at_threshold) = if cfg.tune_threshold {
        best_f1_threshold(ya, &oof[chosen])
    } else {
        (0.5, BinaryMetrics::from_proba(ya, &oof[chosen]).f1)
    };
    let oof_f1 = BinaryMetrics::from_proba(ya, &oof[chosen]).f1;
    let other = out_of_fold(
        std::slice::from_ref(&best.params),
        xa,
        ya,
        &other_folds,
        cfg.seed,
        &progress,
    )?;
    let (f1_mean, f1_std) = mean(
        fold_metrics(ya, &other[0], &other_folds)
            .iter()
            .map(|m| m.f1),
    );
    let other_cv = CvSummary {
        cv: cfg.cv.other(),
        f1_mean,
        f1_std,
    };
    let model = best.params.fit(x, y, cfg.seed)?;
    progress.tick();
    let proba = model.predict_proba(x)?;
    let train_f1 = BinaryMetrics::from_proba(y, &proba.to_vec()).f1;
    let cv_f1 = best.f1_mean;
    let gap = train_f1 - cv_f1;
    let name = format!(
        "{} {}",
        best.model,
        serde_json::to_string(&best.params).unwrap_or_default()
    );
    if cv_f1 < cfg.expected_score {
        return Err(ModelError::BelowExpectedScore {
            model: name,
            cv_f1,
            expected: cfg.expected_score,
        });
    }
    if gap > cfg.max_overfit_gap {
        return Err(ModelError::Overfit {
            model: name,
            train_f1,
            cv_f1,
            gap,
            max_gap: cfg.max_overfit_gap,
        });
    }
    Ok(Selection {
        table,
        chosen,
        model,
        train_f1,
        cv_f1,
        gap,
        threshold,
        oof_f1,
        oof_f1_at_threshold,
        other_cv,
        cv_rows: ya.len(),
    })
}

/// The soft votes selection scores: the best candidate paired with each candidate of the
/// second-best family, in candidate order. The best partner of a vote is not always the best
/// candidate of its family: a less correlated one can average out more of the leader's errors
/// (in grouped CV on the phishing data, boosting with a forest of 1 feature per split beats
/// boosting with the best forest alone, of 2). The votes' scores come from the out-of-fold
/// probabilities already computed, so they cost no fit.
fn vote_pairs(table: &[CvRow]) -> Vec<(usize, usize)> {
    let Some((a, b)) = best_two_families(table) else {
        return Vec::new();
    };
    (0..table.len())
        .filter(|&c| table[c].model == table[b].model)
        .map(|c| (a, c))
        .collect()
}

/// Bounds a forest's (or a vote member's) bootstrap draws per tree to `max_rows` unless set.
fn bound_draws(params: &mut Params, max_rows: usize) {
    match params {
        Params::Forest(p) if p.bootstrap && p.max_samples.is_none() => {
            p.max_samples = Some(max_rows);
        }
        Params::Vote(v) => v.members.iter_mut().for_each(|m| bound_draws(m, max_rows)),
        _ => {}
    }
}

fn mean(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = v.collect();
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64;
    (m, var.sqrt())
}

fn row(params: Params, fold: &[BinaryMetrics]) -> CvRow {
    let (f1_mean, f1_std) = mean(fold.iter().map(|m| m.f1));
    CvRow {
        model: params.name().to_string(),
        params,
        f1_mean,
        f1_std,
        precision_mean: mean(fold.iter().map(|m| m.precision)).0,
        recall_mean: mean(fold.iter().map(|m| m.recall)).0,
        accuracy_mean: mean(fold.iter().map(|m| m.accuracy)).0,
        // Stratified folds always hold both classes, so the AUC is defined.
        roc_auc_mean: mean(fold.iter().map(|m| m.roc_auc.unwrap_or(f64::NAN))).0,
        fold_f1: fold.iter().map(|m| m.f1).collect(),
    }
}
