//! Probability calibration on a scored set: the Brier score and a reliability curve (mean
//! predicted probability against the observed positive rate in equal-width bins), as
//! scikit-learn's `brier_score_loss` and `calibration_curve(strategy="uniform")` compute them.

use serde::{Deserialize, Serialize};

/// One bin of the reliability curve; empty bins are left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// The bin covers `[lower, upper)` (the last one includes 1).
    pub lower: f64,
    pub upper: f64,
    pub count: u64,
    pub mean_predicted: f64,
    /// Share of positives among the bin's rows.
    pub observed_rate: f64,
}

/// Calibration of probabilities `proba` (of class 1) against `truth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Mean of (p − y)²; 0 is perfect, 0.25 is a constant 0.5.
    pub brier: f64,
    pub bins: Vec<ReliabilityBin>,
}

impl Calibration {
    /// The Brier score and a `n_bins`-bin reliability curve (at least one bin).
    pub fn new(truth: &[u8], proba: &[f64], n_bins: usize) -> Self {
        let n_bins = n_bins.max(1);
        let mut count = vec![0u64; n_bins];
        let mut sum_p = vec![0.0; n_bins];
        let mut pos = vec![0u64; n_bins];
        let mut sq = 0.0;
        for (&t, &p) in truth.iter().zip(proba) {
            let y = f64::from(t);
            sq += (p - y) * (p - y);
            let b = ((p * n_bins as f64).floor().max(0.0) as usize).min(n_bins - 1);
            count[b] += 1;
            sum_p[b] += p;
            pos[b] += u64::from(t);
        }
        let bins = (0..n_bins)
            .filter(|&b| count[b] > 0)
            .map(|b| ReliabilityBin {
                lower: b as f64 / n_bins as f64,
                upper: (b + 1) as f64 / n_bins as f64,
                count: count[b],
                mean_predicted: sum_p[b] / count[b] as f64,
                observed_rate: pos[b] as f64 / count[b] as f64,
            })
            .collect();
        let n = truth.len().min(proba.len());
        Calibration {
            brier: if n == 0 { 0.0 } else { sq / n as f64 },
            bins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brier_and_bins_by_hand() {
        let truth = [1, 0, 1, 0];
        let proba = [0.9, 0.1, 0.6, 0.65];
        let c = Calibration::new(&truth, &proba, 10);
        // (0.01 + 0.01 + 0.16 + 0.4225) / 4
        assert!((c.brier - 0.150625).abs() < 1e-12);
        let counts: Vec<u64> = c.bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![1, 2, 1]);
        assert!((c.bins[1].mean_predicted - 0.625).abs() < 1e-12);
        assert_eq!(c.bins[1].observed_rate, 0.5);
        assert_eq!(c.bins[1].lower, 0.6);
        // p = 1 falls in the last bin.
        assert_eq!(Calibration::new(&[1], &[1.0], 10).bins[0].upper, 1.0);
    }
}
