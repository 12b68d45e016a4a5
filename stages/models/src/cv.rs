//! Seeded stratified k-fold splitting: every fold keeps the class balance of the whole set.

use crate::error::{ModelError, Result};
use crate::rng::SplitMix64;

/// The held-out row indices of each of `k` folds (sorted), stratified on `y` ∈ {0, 1}.
///
/// Each class is shuffled with `seed` and dealt round-robin; the second class continues where
/// the first stopped, so fold sizes differ by at most one.
pub fn stratified_folds(y: &[u8], k: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
    if k < 2 {
        return Err(ModelError::BadConfig {
            key: "folds",
            reason: format!("{k} folds; at least 2 are needed"),
        });
    }
    let mut folds = vec![Vec::new(); k];
    let mut rng = SplitMix64::new(seed);
    let mut next = 0;
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        if idx.len() < k {
            return Err(ModelError::TooFewForFolds {
                folds: k,
                class,
                count: idx.len(),
            });
        }
        rng.shuffle(&mut idx);
        for i in idx {
            folds[next].push(i);
            next = (next + 1) % k;
        }
    }
    folds.iter_mut().for_each(|f| f.sort_unstable());
    Ok(folds)
}

/// The complement of `test` in `0..n` (`test` sorted).
pub fn train_indices(n: usize, test: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(n - test.len());
    let mut t = test.iter().peekable();
    for i in 0..n {
        if t.peek() == Some(&&i) {
            t.next();
        } else {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_rows_and_keep_balance() {
        let y: Vec<u8> = (0..103).map(|i| u8::from(i % 3 == 0)).collect();
        let folds = stratified_folds(&y, 5, 42).unwrap();
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        for f in &folds {
            let pos = f.iter().filter(|&&i| y[i] == 1).count();
            assert!((6..=8).contains(&pos), "{pos}");
            assert!((20..=21).contains(&f.len()));
        }
        assert_eq!(folds, stratified_folds(&y, 5, 42).unwrap());
        assert_ne!(folds, stratified_folds(&y, 5, 43).unwrap());
        assert_eq!(train_indices(5, &[1, 3]), vec![0, 2, 4]);
        assert!(matches!(
            stratified_folds(&[0, 0, 1], 2, 1),
            Err(ModelError::TooFewForFolds { class: 1, .. })
        ));
    }
}
