//! Duplicate grouping: the one definition of "identical rows" that the split, grouped CV, the
//! tree learners' row collapsing and the SVM's deduplication share.
//!
//! Two feature values are equal when their `f64` bits are equal, except that every NaN equals
//! every other NaN (a NaN is a missing cell, whatever its payload) and `-0.0` equals `0.0`
//! (they compare equal and no learner can tell them apart). Hashing these keys, not `f64`s,
//! keeps the relation an equivalence, which `==` on floats is not.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};

use ndarray::ArrayView2;

use crate::data::Feature;

/// End of a digest chain in [`Groups::new`].
const NONE: u32 = u32::MAX;

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
    ///
    /// Memory is linear in the row count with a small constant (a hash and a link per group,
    /// no copy of any row): rows are indexed by a 64-bit digest of their keys, and rows whose
    /// digests collide are told apart by comparing the rows themselves. Values are keyed as
    /// `f64`, so `f32` and `f64` input of the same values group alike.
    pub fn new<T: Feature>(x: ArrayView2<'_, T>, labels: Option<&[u8]>) -> Self {
        Self::of_rows(x, labels, None)
    }

    /// [`Groups::new`] over the rows `rows` of `x` (in that order; all rows when `None`), as if
    /// they had been copied out first: `of_row` and `first` count positions in `rows`, while
    /// `labels` is indexed like `x`.
    pub fn of_rows<T: Feature>(
        x: ArrayView2<'_, T>,
        labels: Option<&[u8]>,
        rows: Option<&[usize]>,
    ) -> Self {
        let n = rows.map_or(x.nrows(), <[usize]>::len);
        let at = |k: usize| rows.map_or(k, |r| r[k]);
        let label = |i: usize| labels.map_or(0, |y| y[i]);
        let same = |a: usize, b: usize| {
            label(a) == label(b)
                && x.row(a)
                    .iter()
                    .zip(x.row(b))
                    .all(|(u, v)| value_key(u.to_f64()) == value_key(v.to_f64()))
        };
        // `head[digest]`: the newest group with that digest; `next[g]`: the previous one.
        let mut head: HashMap<u64, u32> = HashMap::with_capacity(n);
        let mut next: Vec<u32> = Vec::new();
        let mut first: Vec<usize> = Vec::new();
        let of_row = (0..n)
            .map(|k| {
                let i = at(k);
                let mut h = DefaultHasher::new();
                x.row(i)
                    .iter()
                    .for_each(|v| h.write_u64(value_key(v.to_f64())));
                h.write_u8(label(i));
                let digest = h.finish();
                let mut g = head.get(&digest).copied().unwrap_or(NONE);
                while g != NONE {
                    if same(at(first[g as usize]), i) {
                        return g;
                    }
                    g = next[g as usize];
                }
                let new = first.len() as u32;
                next.push(head.insert(digest, new).unwrap_or(NONE));
                first.push(k);
                new
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

    #[test]
    fn a_subset_groups_as_its_copy_and_f32_as_f64() {
        let x = array![[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let y = [0, 1, 0, 0, 1];
        let rows = [4, 2, 1, 0];
        let copy = x.select(ndarray::Axis(0), &rows);
        let ycopy: Vec<u8> = rows.iter().map(|&i| y[i]).collect();
        let sub = Groups::of_rows(x.view(), Some(&y), Some(&rows));
        assert_eq!(sub, Groups::new(copy.view(), Some(&ycopy)));
        assert_eq!(sub.first, vec![0, 1, 2]);
        let narrow = x.mapv(|v| v as f32);
        assert_eq!(
            Groups::new(narrow.view(), Some(&y)),
            Groups::new(x.view(), Some(&y))
        );
    }
}
