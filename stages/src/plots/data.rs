//! The data behind the evaluation curves as CSV files beside their images (`roc.csv`,
//! `precision_recall.csv`, `cv_scores.csv`). pipeline.toml declares them as `[plots.NAME]`, so
//! `netsec plots show/diff` draws and overlays them across revisions. Numbers are written in
//! their shortest round-trip form: the bytes are a pure function of the inputs.

use std::fmt::Write as _;

use netsec_models::{pr_curve, roc_curve};

use super::PlotInputs;

/// `(file name, CSV text)` of each data file, in file-name order.
pub fn tables(inputs: &PlotInputs<'_>) -> Vec<(&'static str, String)> {
    let mut cv = String::from(
        "candidate,model,f1_mean,f1_std,precision_mean,recall_mean,accuracy_mean,roc_auc_mean,chosen\n",
    );
    for (i, r) in inputs.cv.table.iter().enumerate() {
        let _ = writeln!(
            cv,
            "#{i} {m},{m},{},{},{},{},{},{},{}",
            r.f1_mean,
            r.f1_std,
            r.precision_mean,
            r.recall_mean,
            r.accuracy_mean,
            r.roc_auc_mean,
            u8::from(i == inputs.cv.chosen),
            m = r.model,
        );
    }
    let mut pr = String::from("recall,precision,threshold\n");
    for p in pr_curve(inputs.truth, inputs.proba) {
        let _ = writeln!(pr, "{},{},{}", p.recall, p.precision, p.threshold);
    }
    let mut roc = String::from("fpr,tpr,threshold\n");
    for p in roc_curve(inputs.truth, inputs.proba) {
        let t = p.threshold.map(|t| t.to_string()).unwrap_or_default();
        let _ = writeln!(roc, "{},{},{t}", p.fpr, p.tpr);
    }
    vec![
        ("cv_scores.csv", cv),
        ("precision_recall.csv", pr),
        ("roc.csv", roc),
    ]
}
