//! Runs model selection on the real phishing data with two splits — the template's random
//! 80/20 one (leaks duplicates) and a duplicate-aware stratified one — and prints test scores.
//!
//! `cargo run --release -p netsec-models --example phishing [path/to/phisingData.csv]`

use std::time::Instant;

use ndarray::{Array2, Axis};
use netsec_models::{roc_auc, select, BinaryMetrics, Groups, SelectConfig, SplitMix64};

fn load(path: &str) -> Result<(Array2<f64>, Vec<u8>), Box<dyn std::error::Error>> {
    let mut rdr = csv::Reader::from_path(path)?;
    let width = rdr.headers()?.len();
    let mut cells = Vec::new();
    let mut y = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        for v in rec.iter().take(width - 1) {
            cells.push(v.trim().parse::<f64>()?);
        }
        // Result −1 = phishing → positive class 1.
        y.push(u8::from(rec[width - 1].trim() == "-1"));
    }
    Ok((Array2::from_shape_vec((y.len(), width - 1), cells)?, y))
}

fn shuffle<T>(v: &mut [T], seed: u64) {
    SplitMix64::new(seed).shuffle(v);
}

fn random_split(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    shuffle(&mut idx, seed);
    let test = n / 5;
    let (te, tr) = idx.split_at(test);
    (tr.to_vec(), te.to_vec())
}

/// Whole groups of identical feature vectors go to one side; groups are taken in seeded order
/// into test while each class stays under 20% of its total.
fn grouped_split(x: &Array2<f64>, y: &[u8], seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut groups = Groups::new(x.view(), None).members();
    shuffle(&mut groups, seed);
    let pos_total = y.iter().filter(|&&v| v == 1).count() as f64;
    let target = [(y.len() as f64 - pos_total) * 0.2, pos_total * 0.2];
    let (mut tr, mut te, mut have) = (Vec::new(), Vec::new(), [0.0f64; 2]);
    for g in groups {
        let mut c = [0.0; 2];
        g.iter().for_each(|&i| c[y[i] as usize] += 1.0);
        if have[0] + c[0] <= target[0] + 0.5 && have[1] + c[1] <= target[1] + 0.5 {
            have[0] += c[0];
            have[1] += c[1];
            te.extend(g);
        } else {
            tr.extend(g);
        }
    }
    tr.sort_unstable();
    te.sort_unstable();
    (tr, te)
}

fn run(
    name: &str,
    x: &Array2<f64>,
    y: &[u8],
    tr: &[usize],
    te: &[usize],
) -> Result<(), Box<dyn std::error::Error>> {
    let xtr = x.select(Axis(0), tr);
    let ytr: Vec<u8> = tr.iter().map(|&i| y[i]).collect();
    let xte = x.select(Axis(0), te);
    let yte: Vec<u8> = te.iter().map(|&i| y[i]).collect();
    let t = Instant::now();
    let mut cfg = SelectConfig::default();
    // MODELS=forest,boosting narrows the candidates (handy for timing one family).
    if let Ok(m) = std::env::var("MODELS") {
        cfg.models = m.split(',').map(str::to_string).collect();
    }
    // STRATIFIED_CV=1 lets copies of a feature vector straddle CV folds (grouped by default).
    if std::env::var("STRATIFIED_CV").is_ok() {
        cfg.cv = netsec_models::CvKind::Stratified;
    }
    let sel = select(xtr.view(), &ytr, &cfg)?;
    let took = t.elapsed();
    println!(
        "== {name} split: {} train / {} test, select took {:.2?}",
        tr.len(),
        te.len(),
        took
    );
    for r in &sel.table {
        println!(
            "  {:9} cv F1 {:.4} ± {:.4}  AUC {:.4}  {}",
            r.model,
            r.f1_mean,
            r.f1_std,
            r.roc_auc_mean,
            serde_json::to_string(&r.params)?
        );
    }
    let t = Instant::now();
    let proba = sel.model.predict_proba(xte.view())?.to_vec();
    let m = BinaryMetrics::from_proba(&yte, &proba);
    println!(
        "  chosen {} (train F1 {:.4}, gap {:.4}); TEST F1 {:.4}  AUC {:.4}  acc {:.4}  legit-F1 {:.4}  (predict {:.2?})",
        sel.table[sel.chosen].model,
        sel.train_f1,
        sel.gap,
        m.f1,
        roc_auc(&yte, &proba).unwrap_or(f64::NAN),
        m.accuracy,
        m.confusion.swapped().f1(),
        t.elapsed()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/work/main/data/phisingData.csv".into());
    let (x, y) = load(&path)?;
    let (tr, te) = random_split(y.len(), 42);
    run("random 80/20", &x, &y, &tr, &te)?;
    let (tr, te) = grouped_split(&x, &y, 42);
    run("grouped", &x, &y, &tr, &te)?;
    Ok(())
}
