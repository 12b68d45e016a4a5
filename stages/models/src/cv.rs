//! Seeded stratified k-fold splitting: every fold keeps the class balance of the whole set,
//! optionally keeping groups (identical feature vectors) inside one fold.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::data::Feature;
use crate::error::{ModelError, Result};
use crate::groups::Groups;
use crate::rng::SplitMix64;

/// How CV folds are drawn (`train.cv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CvKind {
    /// Identical feature vectors stay in one fold ([`stratified_group_folds`] over
    /// [`Groups`]), as the train/test split keeps them on one side: CV then measures
    /// generalisation to vectors the model has not seen, which is what test measures.
    #[default]
    Grouped,
    /// Plain stratified folds ([`stratified_folds`]): copies of one vector may sit on both
    /// sides, which rewards memorising them (47% of the phishing rows are copies).
    Stratified,
}

impl CvKind {
    /// The name used in `train.cv`.
    pub fn as_str(self) -> &'static str {
        match self {
            CvKind::Grouped => "grouped",
            CvKind::Stratified => "stratified",
        }
    }

    /// The other kind, reported beside the chosen one for comparison.
    pub fn other(self) -> CvKind {
        match self {
            CvKind::Grouped => CvKind::Stratified,
            CvKind::Stratified => CvKind::Grouped,
        }
    }

    /// The held-out rows of each of `k` folds of `x`/`y` (each sorted), seeded.
    pub fn folds<T: Feature>(
        self,
        x: ArrayView2<T>,
        y: &[u8],
        k: usize,
        seed: u64,
    ) -> Result<Vec<Vec<usize>>> {
        match self {
            CvKind::Grouped => stratified_group_folds(y, &Groups::new(x, None).of_row, k, seed),
            CvKind::Stratified => stratified_folds(y, k, seed),
        }
    }
}

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

/// Like [`stratified_folds`], but all rows sharing a `group` id (e.g. [`crate::Groups`]'s
/// `of_row`) land in the same fold
/// (scikit-learn's `StratifiedGroupKFold` idea): groups are shuffled with `seed`, taken largest
/// first, and each goes to the fold where the fuller of its two class shares stays lowest.
pub fn stratified_group_folds(
    y: &[u8],
    groups: &[u32],
    k: usize,
    seed: u64,
) -> Result<Vec<Vec<usize>>> {
    if k < 2 {
        return Err(ModelError::BadConfig {
            key: "folds",
            reason: format!("{k} folds; at least 2 are needed"),
        });
    }
    let n_groups = groups.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_groups];
    for (i, &g) in groups.iter().enumerate() {
        members[g as usize].push(i);
    }
    let mut order: Vec<usize> = (0..n_groups).filter(|&g| !members[g].is_empty()).collect();
    SplitMix64::new(seed).shuffle(&mut order);
    order.sort_by_key(|&g| std::cmp::Reverse(members[g].len())); // stable: ties keep the shuffle
    let total = [0u8, 1].map(|c| y.iter().filter(|&&v| v == c).count().max(1) as f64);
    let mut have = vec![[0usize; 2]; k];
    let mut folds = vec![Vec::new(); k];
    for g in order {
        let mut c = [0usize; 2];
        members[g]
            .iter()
            .for_each(|&i| c[usize::from(y[i] == 1)] += 1);
        let fill = |f: usize| {
            let a = (have[f][0] + c[0]) as f64 / total[0];
            let b = (have[f][1] + c[1]) as f64 / total[1];
            a.max(b)
        };
        let best = (0..k).fold(0, |b, f| if fill(f) < fill(b) { f } else { b });
        have[best][0] += c[0];
        have[best][1] += c[1];
        folds[best].extend_from_slice(&members[g]);
    }
    for class in [0u8, 1] {
        if let Some(f) = (0..k).find(|&f| have[f][usize::from(class)] == 0) {
            return Err(ModelError::TooFewForFolds {
                folds: k,
                class,
                count: have[f][usize::from(class)],
            });
        }
    }
    folds.iter_mut().for_each(|f| f.sort_unstable());
    Ok(folds)
}

/// The rows model selection scores candidates on: `None` (every row) when there are at most
/// `max_rows` (or `max_rows` is 0), else about `max_rows` of them, sorted: one of
/// ⌈n / `max_rows`⌉ folds of [`stratified_group_folds`] over [`Groups`], so identical feature
/// vectors come whole and the class balance is kept. Seeded by its own stream of `seed`, so the
/// subsample does not line up with the CV folds drawn from it.
pub fn subsample_rows<T: Feature>(
    x: ArrayView2<T>,
    y: &[u8],
    max_rows: usize,
    seed: u64,
) -> Result<Option<Vec<usize>>> {
    if max_rows == 0 || y.len() <= max_rows {
        return Ok(None);
    }
    let parts = y.len().div_ceil(max_rows);
    let seed = SplitMix64::derive(seed, SUBSAMPLE_STREAM).next_u64();
    let groups = Groups::new(x, None).of_row;
    let mut folds = stratified_group_folds(y, &groups, parts, seed)?;
    Ok(Some(folds.swap_remove(0)))
}

/// The [`SplitMix64::derive`] stream of [`subsample_rows`].
const SUBSAMPLE_STREAM: u64 = 0x5ab5;

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

    #[test]
    fn group_folds_keep_groups_whole_and_balance_classes() {
        let y: Vec<u8> = (0..300).map(|i| u8::from(i % 5 < 2)).collect();
        let groups: Vec<u32> = (0..300).map(|i| (i / 3) as u32).collect();
        let folds = stratified_group_folds(&y, &groups, 5, 42).unwrap();
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..300).collect::<Vec<_>>());
        for f in &folds {
            let gs: std::collections::BTreeSet<u32> = f.iter().map(|&i| groups[i]).collect();
            for g in gs {
                let n = f.iter().filter(|&&i| groups[i] == g).count();
                assert_eq!(n, 3, "group {g} split across folds");
            }
            let pos = f.iter().filter(|&&i| y[i] == 1).count() as f64 / f.len() as f64;
            assert!((pos - 0.4).abs() < 0.06, "{pos}");
        }
    }

    #[test]
    fn subsample_keeps_groups_whole_balanced_and_bounded() {
        // 3,000 rows in groups of 3 (60% class 0); a 500-row cap takes one of 6 parts.
        let x = ndarray::Array2::from_shape_fn((3000, 2), |(i, j)| ((i / 3) * (j + 1)) as f64);
        let y: Vec<u8> = (0..3000).map(|i| u8::from((i / 3) % 5 < 2)).collect();
        assert_eq!(subsample_rows(x.view(), &y, 3000, 7).unwrap(), None);
        assert_eq!(subsample_rows(x.view(), &y, 0, 7).unwrap(), None);
        let rows = subsample_rows(x.view(), &y, 500, 7).unwrap().unwrap();
        assert!((480..=520).contains(&rows.len()), "{}", rows.len());
        assert!(rows.windows(2).all(|w| w[0] < w[1]));
        for &i in &rows {
            let g = i / 3 * 3;
            assert!(
                (g..g + 3).all(|j| rows.binary_search(&j).is_ok()),
                "group of {i} split"
            );
        }
        let pos = rows.iter().filter(|&&i| y[i] == 1).count() as f64 / rows.len() as f64;
        assert!((pos - 0.4).abs() < 0.02, "{pos}");
        assert_eq!(
            Some(rows.clone()),
            subsample_rows(x.view(), &y, 500, 7).unwrap()
        );
        assert_ne!(Some(rows), subsample_rows(x.view(), &y, 500, 8).unwrap());
    }
}
