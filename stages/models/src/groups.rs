//! Duplicate grouping: the one definition of "identical rows" that the split, grouped CV, the
//! tree learners' row collapsing and the SVM's deduplication share.
//!
//! Two feature values are equal when their `f64` bits are equal, except that every NaN equals
//! every other NaN (a NaN is a missing cell, whatever its payload) and `-0.0` equals `0.0`
//! (they compare equal and no learner can tell them apart). Hashing these keys, not `f64`s,
//! keeps the relation an equivalence, which `==` on floats is not.

use std::collections::HashMap;

use ndarray::{ArrayView1, ArrayView2};

/// The grouping key of one value: its bits, with all NaNs and both zeros made one.
pub fn value_key(v: f64) -> u64 {
    if v.is_nan() {
        u64::MAX
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

/// The grouping key of one row ([`value_key`] of every cell).
pub fn row_key(row: ArrayView1<'_, f64>) -> Vec<u64> {
    row.iter().map(|v| value_key(*v)).collect()
}

/// Rows of a table grouped by identical content, groups numbered in order of first appearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups {
    /// `of_row[i]`: the group of row `i`.
    pub of_row: Vec<u32>,
    /// `first[g]`: the first row of group `g` (ascending in `g`).
    pub first: Vec<usize>,
}

impl Groups {
    /// Groups the rows of `x` by feature vector; with `labels`, rows are identical only when
    /// their labels are equal too (a feature vector seen with both classes makes two groups).
    pub fn new(x: ArrayView2<'_, f64>, labels: Option<&[u8]>) -> Self {
        let mut index: HashMap<(Vec<u64>, u8), u32> = HashMap::with_capacity(x.nrows());
        let mut first = Vec::new();
        let of_row = x
            .outer_iter()
            .enumerate()
            .map(|(i, row)| {
                let label = labels.map_or(0, |y| y[i]);
                let next = first.len() as u32;
                *index.entry((row_key(row), label)).or_insert_with(|| {
                    first.push(i);
                    next
                })
            })
            .collect();
        Groups { of_row, first }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// True for a table without rows.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// The rows of each group, ascending.
    pub fn members(&self) -> Vec<Vec<usize>> {
        let mut members = vec![Vec::new(); self.len()];
        for (i, &g) in self.of_row.iter().enumerate() {
            members[g as usize].push(i);
        }
        members
    }

    /// How many rows each group holds.
    pub fn sizes(&self) -> Vec<u32> {
        let mut sizes = vec![0u32; self.len()];
        self.of_row.iter().for_each(|&g| sizes[g as usize] += 1);
        sizes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn nans_are_one_value_and_zeros_too() {
        let other_nan = f64::from_bits(f64::NAN.to_bits() ^ 1);
        let x = array![
            [1.0, f64::NAN],
            [1.0, other_nan],
            [0.0, 2.0],
            [-0.0, 2.0],
            [1.0, 2.0]
        ];
        let g = Groups::new(x.view(), None);
        assert_eq!(g.of_row, vec![0, 0, 1, 1, 2]);
        assert_eq!(g.first, vec![0, 2, 4]);
        assert_eq!(g.members(), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(g.sizes(), vec![2, 2, 1]);
    }

    #[test]
    fn labels_split_a_feature_vector() {
        let x = array![[1.0], [1.0], [1.0]];
        let g = Groups::new(x.view(), Some(&[0, 1, 0]));
        assert_eq!(g.of_row, vec![0, 1, 0]);
        assert_eq!(g.first, vec![0, 1]);
    }
}
