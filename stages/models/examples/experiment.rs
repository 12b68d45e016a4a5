//! The experiment loop for learner work: loads the pipeline's own split
//! (`artifacts/ingest/{train,test}.csv`, written by `netsec repro`) and prints, per candidate,
//! the stratified k-fold CV F1 on train (the selection criterion, optionally repeated over
//! several fold seeds), the F1 at the threshold that maximises each repeat's pooled out-of-fold
//! F1 (what selection's threshold tuning reaches, optimistic by the one fitted cut) and, for
//! information only, the test F1 and ROC-AUC.
//!
//! ```text
//! cargo run --release -p netsec-models --example experiment -- \
//!     '{"kind":"forest","n_trees":300}' '{"kind":"boosting","n_rounds":300,"max_depth":6}'
//! ```
//!
//! Env: `DIR` (default `artifacts/ingest`), `REPEATS` (fold seeds 42, 43, …; default 1),
//! `FOLDS` (default 5), `GROUP_CV=1` (identical feature vectors kept in one fold),
//! `NO_TEST=1` (do not score test at all). Choose by the CV column, never by the test one.

use std::time::Instant;

use ndarray::{Array2, Axis};
use netsec_models::cv::train_indices;
use netsec_models::{
    best_f1_threshold, roc_auc, stratified_folds, stratified_group_folds, BinaryMetrics, Groups,
    Params,
};
use rayon::prelude::*;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Reads a CSV whose last column is `Result` (−1 = phishing → class 1).
fn load(path: &str) -> Result<(Array2<f64>, Vec<u8>), Error> {
    let mut rdr = csv::Reader::from_path(path)?;
    let width = rdr.headers()?.len();
    let mut cells = Vec::new();
    let mut y = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        for v in rec.iter().take(width - 1) {
            cells.push(v.trim().parse::<f64>()?);
        }
        y.push(u8::from(rec[width - 1].trim() == "-1"));
    }
    Ok((Array2::from_shape_vec((y.len(), width - 1), cells)?, y))
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Mean CV F1 and AUC of `params` over `repeats` fold seeds, and the mean over repeats of the
/// pooled out-of-fold F1 at its best threshold.
fn cv(params: &Params, x: &Array2<f64>, y: &[u8], folds: usize, repeats: usize) -> (f64, f64, f64) {
    let grouped = std::env::var("GROUP_CV").is_ok();
    let groups = Groups::new(x.view(), None).of_row;
    let splits: Vec<(usize, Vec<usize>)> = (0..repeats)
        .flat_map(|r| {
            let seed = 42 + r as u64;
            let f = if grouped {
                stratified_group_folds(y, &groups, folds, seed)
            } else {
                stratified_folds(y, folds, seed)
            };
            f.unwrap_or_default().into_iter().map(move |te| (r, te))
        })
        .collect();
    let scores: Vec<(f64, f64, Vec<f64>)> = splits
        .par_iter()
        .map(|(_, te)| {
            let tr = train_indices(y.len(), te);
            let ytr: Vec<u8> = tr.iter().map(|&i| y[i]).collect();
            let yte: Vec<u8> = te.iter().map(|&i| y[i]).collect();
            let model = params
                .fit(x.select(Axis(0), &tr).view(), &ytr, 42)
                .unwrap_or_else(|e| panic!("fit failed: {e}"));
            let proba = model
                .predict_proba(x.select(Axis(0), te).view())
                .unwrap_or_else(|e| panic!("predict failed: {e}"))
                .to_vec();
            (
                BinaryMetrics::from_proba(&yte, &proba).f1,
                roc_auc(&yte, &proba).unwrap_or(f64::NAN),
                proba,
            )
        })
        .collect();
    let mut oof = vec![vec![0.0; y.len()]; repeats];
    for ((r, te), (_, _, proba)) in splits.iter().zip(&scores) {
        for (&i, &p) in te.iter().zip(proba) {
            oof[*r][i] = p;
        }
    }
    let tuned = oof.iter().map(|o| best_f1_threshold(y, o).1).sum::<f64>() / repeats as f64;
    let k = scores.len() as f64;
    (
        scores.iter().map(|s| s.0).sum::<f64>() / k,
        scores.iter().map(|s| s.1).sum::<f64>() / k,
        tuned,
    )
}

fn main() -> Result<(), Error> {
    let dir = std::env::var("DIR").unwrap_or_else(|_| "artifacts/ingest".into());
    let (xtr, ytr) = load(&format!("{dir}/train.csv"))?;
    let (xte, yte) = load(&format!("{dir}/test.csv"))?;
    let folds = env_usize("FOLDS", 5);
    let repeats = env_usize("REPEATS", 1);
    let show_test = std::env::var("NO_TEST").is_err();
    for arg in std::env::args().skip(1) {
        let params: Params = serde_json::from_str(&arg)?;
        let t = Instant::now();
        let (cv_f1, cv_auc, tuned) = cv(&params, &xtr, &ytr, folds, repeats);
        let cv_took = t.elapsed();
        let mut line = format!("CV F1 {cv_f1:.4} tuned {tuned:.4} AUC {cv_auc:.4} ({cv_took:.1?})");
        if show_test {
            let t = Instant::now();
            let model = params.fit(xtr.view(), &ytr, 42)?;
            let fit_took = t.elapsed();
            let proba = model.predict_proba(xte.view())?.to_vec();
            let m = BinaryMetrics::from_proba(&yte, &proba);
            line += &format!(
                " | test F1 {:.4} AUC {:.4} (fit {fit_took:.1?})",
                m.f1,
                roc_auc(&yte, &proba).unwrap_or(f64::NAN)
            );
        }
        println!("{line}  {}", serde_json::to_string(&params)?);
    }
    Ok(())
}
