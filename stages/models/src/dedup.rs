//! Collapsing identical training rows into weighted unique rows. The phishing data is 47%
//! exact copies; trees grown on counts are identical to trees grown on the copies (every
//! statistic, including `min_samples_leaf`, is weighted) at about half the cost.

use ndarray::{ArrayView1, ArrayView2};

use crate::data::Feature;
use crate::groups::Groups;

/// Unique `(row, label)` pairs in order of first occurrence (rows equal as [`Groups`] defines).
/// The rows are not copied: each unique row is an index into the caller's matrix.
#[derive(Debug, Clone)]
pub(crate) struct Collapsed<'a, T> {
    x: ArrayView2<'a, T>,
    /// `rows[u]`: the row of `x` that unique row `u` is.
    rows: Vec<usize>,
    pub y: Vec<u8>,
    /// `of_row[i]`: the unique row that the `i`-th collapsed row maps to.
    pub of_row: Vec<u32>,
}

impl<'a, T: Feature> Collapsed<'a, T> {
    /// Collapses every row of `x` (labels `y`).
    pub fn new(x: ArrayView2<'a, T>, y: &[u8]) -> Self {
        Self::of_rows(x, y, None)
    }

    /// Collapses the rows `rows` of `x` (all when `None`), as if they had been copied out
    /// first; `y` is indexed like `x`.
    pub fn of_rows(x: ArrayView2<'a, T>, y: &[u8], rows: Option<&[usize]>) -> Self {
        let groups = Groups::of_rows(x, Some(y), rows);
        let rows: Vec<usize> = groups
            .first
            .iter()
            .map(|&k| rows.map_or(k, |r| r[k]))
            .collect();
        let y = rows.iter().map(|&i| y[i]).collect();
        Self {
            x,
            rows,
            y,
            of_row: groups.of_row,
        }
    }

    /// The matrix the unique rows index into.
    pub fn matrix(&self) -> ArrayView2<'a, T> {
        self.x
    }

    /// The rows of [`Collapsed::matrix`] that are the unique rows, in order.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// Unique row `u`.
    pub fn row(&self, u: usize) -> ArrayView1<'_, T> {
        self.x.row(self.rows[u])
    }

    /// How many original rows each unique row stands for.
    pub fn counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.y.len()];
        self.of_row.iter().for_each(|&u| c[u as usize] += 1);
        c
    }
}
