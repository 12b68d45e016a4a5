//! Population stability index of one column: Σ (c − b)·ln(c / b) over bins, where b and c are
//! the baseline's and the current sample's shares of each bin. Unlike a KS p-value it does not
//! grow with the sample size, so it reads the same at ten thousand rows as at a million.
//! Rules of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 large shift.

/// A column with at most this many distinct values gets one bin per value; wider columns get
/// [`QUANTILE_BINS`] bins cut at the baseline's quantiles.
const MAX_CATEGORIES: usize = 20;
const QUANTILE_BINS: usize = 10;
/// Shares are floored here so that a bin empty on one side gives a large, finite term.
const FLOOR: f64 = 1e-4;

/// The PSI of `current` against `baseline` (NaN cells left out); 0 when either side is empty.
pub fn psi(baseline: &[f64], current: &[f64]) -> f64 {
    let mut b: Vec<f64> = baseline.iter().copied().filter(|v| !v.is_nan()).collect();
    let c: Vec<f64> = current.iter().copied().filter(|v| !v.is_nan()).collect();
    if b.is_empty() || c.is_empty() {
        return 0.0;
    }
    b.sort_by(f64::total_cmp);
    let mut values: Vec<f64> = b.iter().chain(&c).copied().collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    // Upper edges of the bins: a value goes to the first bin whose edge is ≥ it.
    let edges: Vec<f64> = if values.len() <= MAX_CATEGORIES {
        values
    } else {
        let mut e: Vec<f64> = (1..QUANTILE_BINS)
            .map(|q| b[(q * b.len() / QUANTILE_BINS).min(b.len() - 1)])
            .collect();
        e.push(f64::INFINITY);
        e.dedup();
        e
    };
    let shares = |xs: &[f64]| {
        let mut counts = vec![0usize; edges.len()];
        for v in xs {
            let k = edges.partition_point(|e| e < v).min(edges.len() - 1);
            counts[k] += 1;
        }
        counts
            .into_iter()
            .map(|n| (n as f64 / xs.len() as f64).max(FLOOR))
            .collect::<Vec<f64>>()
    };
    let (sb, sc) = (shares(&b), shares(&c));
    sb.iter()
        .zip(&sc)
        .map(|(b, c)| (c - b) * (c / b).ln())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categorical_psi_by_hand() {
        // Baseline 50/50 over {-1, 1}; current 20/80.
        let b: Vec<f64> = (0..100).map(|i| if i < 50 { -1.0 } else { 1.0 }).collect();
        let c: Vec<f64> = (0..100).map(|i| if i < 20 { -1.0 } else { 1.0 }).collect();
        let want = (0.2 - 0.5) * (0.2f64 / 0.5).ln() + (0.8 - 0.5) * (0.8f64 / 0.5).ln();
        assert!((psi(&b, &c) - want).abs() < 1e-12);
        assert_eq!(psi(&b, &b), 0.0);
        assert_eq!(psi(&b, &[]), 0.0);
        // A value the baseline never has is a floored bin, not an infinity.
        assert!(psi(&b, &[0.0; 10]).is_finite());
    }

    #[test]
    fn same_distribution_scores_near_zero_whatever_the_size() {
        let b: Vec<f64> = (0..100_000).map(|i| (i % 997) as f64).collect();
        let c: Vec<f64> = (0..20_000).map(|i| ((i * 7) % 997) as f64).collect();
        assert!(psi(&b, &c) < 0.01, "{}", psi(&b, &c));
        let shifted: Vec<f64> = c.iter().map(|v| v + 300.0).collect();
        assert!(psi(&b, &shifted) > 0.25);
    }
}
