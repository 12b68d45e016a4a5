//! Collapsing identical training rows into weighted unique rows. The phishing data is 47%
//! exact copies; trees grown on counts are identical to trees grown on the copies (every
//! statistic, including `min_samples_leaf`, is weighted) at about half the cost.

use ndarray::{Array2, ArrayView2};

use crate::groups::Groups;

/// Unique `(row, label)` pairs in order of first occurrence (rows equal as [`Groups`] defines).
#[derive(Debug, Clone)]
pub(crate) struct Collapsed {
    pub x: Array2<f64>,
    pub y: Vec<u8>,
    /// `of_row[i]`: the unique row that original row `i` maps to.
    pub of_row: Vec<u32>,
}

impl Collapsed {
    pub fn new(x: ArrayView2<f64>, y: &[u8]) -> Self {
        let groups = Groups::new(x, Some(y));
        let x = x.select(ndarray::Axis(0), &groups.first);
        let y = groups.first.iter().map(|&i| y[i]).collect();
        Self {
            x,
            y,
            of_row: groups.of_row,
        }
    }

    /// How many original rows each unique row stands for.
    pub fn counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.y.len()];
        self.of_row.iter().for_each(|&u| c[u as usize] += 1);
        c
    }
}
