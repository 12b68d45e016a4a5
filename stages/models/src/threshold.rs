//! The decision threshold that maximises F1 on out-of-fold probabilities. Chosen on CV
//! predictions of the training set only, never on test; `predict` and `serve` then apply it.

/// The threshold `t` maximising the F1 of `p ≥ t` against `truth` (1 = positive), and that F1.
///
/// Every cut between two consecutive distinct probabilities is tried; the threshold returned is
/// the midpoint of its cut, so it does not sit on a value seen in CV. Among equal F1s the
/// threshold nearest 0.5 wins. Without positives, or without rows, it is `(0.5, 0.0)`.
pub fn best_f1_threshold(truth: &[u8], proba: &[f64]) -> (f64, f64) {
    let positives = truth.iter().filter(|&&t| t == 1).count() as f64;
    if positives == 0.0 || proba.is_empty() {
        return (0.5, 0.0);
    }
    let mut order: Vec<usize> = (0..proba.len()).collect();
    order.sort_by(|&a, &b| proba[b].total_cmp(&proba[a]));
    let (mut best_t, mut best_f1): (f64, f64) = (0.5, -1.0);
    let (mut tp, mut fp): (f64, f64) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let v = proba[order[i]];
        // Take every row tied at `v`: all of them are predicted positive at the same cut.
        while i < order.len() && proba[order[i]] == v {
            if truth[order[i]] == 1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        let f1 = 2.0 * tp / (2.0 * tp + fp + (positives - tp));
        let t = match order.get(i) {
            Some(&next) => (v + proba[next]) / 2.0,
            None => v,
        };
        let closer = (t - 0.5).abs() < (best_t - 0.5).abs();
        if f1 > best_f1 || (f1 == best_f1 && closer) {
            best_f1 = f1;
            best_t = t;
        }
    }
    (best_t, best_f1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::BinaryMetrics;

    #[test]
    fn picks_the_cut_that_separates_the_classes() {
        // Positives score 0.3–0.4, negatives 0.1–0.2: 0.5 misses every positive, 0.25 is perfect.
        let truth = [1, 1, 0, 0, 1];
        let proba = [0.4, 0.3, 0.2, 0.1, 0.35];
        let (t, f1) = best_f1_threshold(&truth, &proba);
        assert_eq!(t, 0.25);
        assert_eq!(f1, 1.0);
        assert_eq!(BinaryMetrics::from_proba_at(&truth, &proba, t).f1, 1.0);
        assert_eq!(BinaryMetrics::from_proba(&truth, &proba).f1, 0.0);
    }

    #[test]
    fn the_returned_f1_is_the_f1_at_the_returned_threshold() {
        let truth: Vec<u8> = (0..200).map(|i| u8::from(i % 3 == 0)).collect();
        let proba: Vec<f64> = (0..200)
            .map(|i| ((i * 37 % 101) as f64 / 101.0 + f64::from(truth[i]) * 0.3).min(1.0))
            .collect();
        let (t, f1) = best_f1_threshold(&truth, &proba);
        assert!((BinaryMetrics::from_proba_at(&truth, &proba, t).f1 - f1).abs() < 1e-12);
        // No other cut does better.
        for &c in &proba {
            assert!(BinaryMetrics::from_proba_at(&truth, &proba, c).f1 <= f1 + 1e-12);
        }
    }

    #[test]
    fn ties_go_to_the_threshold_nearest_one_half_and_no_positives_keep_it() {
        // Perfectly separated at any cut in (0.2, 0.8): the midpoint 0.5 is chosen.
        assert_eq!(best_f1_threshold(&[1, 0], &[0.8, 0.2]), (0.5, 1.0));
        assert_eq!(best_f1_threshold(&[0, 0], &[0.8, 0.2]), (0.5, 0.0));
        assert_eq!(best_f1_threshold(&[], &[]), (0.5, 0.0));
    }
}
