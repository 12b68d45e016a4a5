//! Binary classification metrics with class 1 (phishing) as the positive class, matching
//! scikit-learn's definitions (zero division → 0; ROC-AUC with tied scores = trapezoid over
//! distinct thresholds, like `roc_auc_score`).

use serde::{Deserialize, Serialize};

/// Confusion-matrix counts for the positive class 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Confusion {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl Confusion {
    /// Counts of `pred` against `truth` (both 0/1, positive = 1).
    pub fn new(truth: &[u8], pred: &[u8]) -> Self {
        let mut c = Confusion::default();
        for (&t, &p) in truth.iter().zip(pred) {
            match (t == 1, p == 1) {
                (true, true) => c.tp += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
                (true, false) => c.fn_ += 1,
            }
        }
        c
    }
    pub fn total(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
    pub fn accuracy(&self) -> f64 {
        ratio(self.tp + self.tn, self.total())
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }
    /// The same matrix seen with class 0 as positive (e.g. "legitimate" F1 for comparison).
    pub fn swapped(&self) -> Self {
        Confusion {
            tp: self.tn,
            fp: self.fn_,
            tn: self.tp,
            fn_: self.fp,
        }
    }
}

/// Headline metrics of one scored set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// `None` when `truth` holds a single class (undefined, scikit-learn raises).
    pub roc_auc: Option<f64>,
    pub confusion: Confusion,
}

impl BinaryMetrics {
    /// Metrics of probabilities `proba` (of class 1) thresholded at 0.5.
    pub fn from_proba(truth: &[u8], proba: &[f64]) -> Self {
        Self::from_proba_at(truth, proba, 0.5)
    }

    /// Metrics of probabilities `proba` (of class 1), positive when `p ≥ threshold`.
    pub fn from_proba_at(truth: &[u8], proba: &[f64], threshold: f64) -> Self {
        let pred: Vec<u8> = proba.iter().map(|&p| u8::from(p >= threshold)).collect();
        let c = Confusion::new(truth, &pred);
        BinaryMetrics {
            accuracy: c.accuracy(),
            precision: c.precision(),
            recall: c.recall(),
            f1: c.f1(),
            roc_auc: roc_auc(truth, proba),
            confusion: c,
        }
    }
}

/// One ROC point; `threshold` is `None` for the (0, 0) origin (scikit-learn's `inf`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    pub fpr: f64,
    pub tpr: f64,
    pub threshold: Option<f64>,
}

/// One precision–recall point at a score threshold (predict 1 when score ≥ threshold).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    pub precision: f64,
    pub recall: f64,
    pub threshold: f64,
}

/// Cumulative (fp, tp, threshold) at each distinct score, highest first.
fn sweep(truth: &[u8], score: &[f64]) -> (Vec<(u64, u64, f64)>, u64, u64) {
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
    let pos = truth.iter().filter(|&&t| t == 1).count() as u64;
    let neg = truth.len() as u64 - pos;
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for (k, &i) in idx.iter().enumerate() {
        if truth[i] == 1 {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_tie = idx.get(k + 1).is_none_or(|&j| score[j] != score[i]);
        if last_of_tie {
            out.push((fp, tp, score[i]));
        }
    }
    (out, pos, neg)
}

/// ROC curve over every distinct score, starting at (0, 0); empty if a class is missing.
pub fn roc_curve(truth: &[u8], score: &[f64]) -> Vec<RocPoint> {
    let (pts, pos, neg) = sweep(truth, score);
    if pos == 0 || neg == 0 {
        return Vec::new();
    }
    let mut out = vec![RocPoint {
        fpr: 0.0,
        tpr: 0.0,
        threshold: None,
    }];
    out.extend(pts.into_iter().map(|(fp, tp, t)| RocPoint {
        fpr: fp as f64 / neg as f64,
        tpr: tp as f64 / pos as f64,
        threshold: Some(t),
    }));
    out
}

/// Area under the ROC curve (ties count one half); `None` if a class is missing.
pub fn roc_auc(truth: &[u8], score: &[f64]) -> Option<f64> {
    let roc = roc_curve(truth, score);
    if roc.is_empty() {
        return None;
    }
    Some(
        roc.windows(2)
            .map(|w| (w[1].fpr - w[0].fpr) * (w[1].tpr + w[0].tpr) / 2.0)
            .sum(),
    )
}

/// Precision–recall points at every distinct score, highest threshold first.
pub fn pr_curve(truth: &[u8], score: &[f64]) -> Vec<PrPoint> {
    let (pts, pos, _) = sweep(truth, score);
    pts.into_iter()
        .map(|(fp, tp, t)| PrPoint {
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, pos),
            threshold: t,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_ratios() {
        let c = Confusion::new(&[1, 1, 0, 0, 1], &[1, 0, 1, 0, 1]);
        assert_eq!(
            c,
            Confusion {
                tp: 2,
                fp: 1,
                tn: 1,
                fn_: 1
            }
        );
        assert!((c.f1() - 4.0 / 6.0).abs() < 1e-15);
        assert!((c.precision() - 2.0 / 3.0).abs() < 1e-15);
        assert!((c.accuracy() - 0.6).abs() < 1e-15);
        assert_eq!(c.swapped().tp, 1);
        assert_eq!(Confusion::new(&[0, 0], &[0, 0]).f1(), 0.0);
    }

    #[test]
    fn auc_matches_sklearn_with_ties() {
        // sklearn.metrics.roc_auc_score([0,0,1,1],[0.1,0.4,0.35,0.8]) == 0.75
        assert_eq!(roc_auc(&[0, 0, 1, 1], &[0.1, 0.4, 0.35, 0.8]), Some(0.75));
        // roc_auc_score([0,0,1,1],[0.2,0.5,0.5,0.9]) == 0.875 (a tied pair counts one half)
        assert_eq!(roc_auc(&[0, 0, 1, 1], &[0.2, 0.5, 0.5, 0.9]), Some(0.875));
        assert_eq!(roc_auc(&[0, 1, 0, 1], &[0.5, 0.5, 0.5, 0.9]), Some(0.75));
        assert_eq!(roc_auc(&[1, 1], &[0.2, 0.3]), None);
        let pr = pr_curve(&[0, 1, 0, 1], &[0.5, 0.5, 0.5, 0.9]);
        assert_eq!(
            pr[0],
            PrPoint {
                precision: 1.0,
                recall: 0.5,
                threshold: 0.9
            }
        );
        assert_eq!(pr[1].precision, 0.5);
    }
}
