//! Per-feature histogram bins, computed once per fit: every tree split is searched over bin
//! boundaries instead of re-sorting the rows at each node.
//!
//! A feature with at most [`MAX_BINS`] distinct values (here: 2 or 3) gets one bin per value, so
//! the search is exact, like a sorted-value CART. Wider features fall back to quantile bins.

use ndarray::ArrayView2;

use crate::data::Feature;
use crate::error::{ModelError, Result};

/// Most bins per feature; codes fit in a `u8`.
pub const MAX_BINS: usize = 256;

/// The bins of one feature: the smallest and largest training value that fell in each bin.
#[derive(Debug, Clone)]
pub struct FeatureBins {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    /// Upper edges used to code a value: bin `b` holds values `<= edges[b]` (last bin: the rest).
    edges: Vec<f64>,
}

impl FeatureBins {
    /// Number of bins.
    pub fn len(&self) -> usize {
        self.lo.len()
    }

    fn code(&self, v: f64) -> u8 {
        let b = self.edges.partition_point(|&e| e < v);
        b.min(self.lo.len() - 1) as u8
    }
}

/// Bin codes of a training matrix, stored row by row: a node's histogram pass then reads one
/// short contiguous run per row (30 bytes here) instead of one scattered byte per feature.
#[derive(Debug, Clone)]
pub struct Binned {
    pub n_features: usize,
    codes: Vec<u8>,
    pub bins: Vec<FeatureBins>,
    /// `offsets[j]`: index of feature `j`'s first bin in a flat all-feature histogram;
    /// `offsets[n_features]` is the total number of bins.
    pub offsets: Vec<usize>,
}

impl Binned {
    /// Bins every column of `x`; rejects NaN and infinities with the row and column.
    #[cfg(test)]
    pub fn new<T: Feature>(x: ArrayView2<T>) -> Result<Self> {
        let all: Vec<usize> = (0..x.nrows()).collect();
        Self::of_rows(x, &all)
    }

    /// Bins the rows `rows` of `x` (in that order; row `k` of the result is `x[rows[k]]`), as
    /// if they had been copied out first; rejects NaN and infinities with the position in
    /// `rows` and the column.
    pub fn of_rows<T: Feature>(x: ArrayView2<T>, rows: &[usize]) -> Result<Self> {
        let (n_rows, n_features) = (rows.len(), x.ncols());
        if n_rows == 0 {
            return Err(ModelError::Empty);
        }
        let mut codes = vec![0u8; n_rows * n_features];
        let mut bins = Vec::with_capacity(n_features);
        let mut values: Vec<f64> = Vec::with_capacity(n_rows);
        for j in 0..n_features {
            let col = x.column(j);
            values.clear();
            for (k, &i) in rows.iter().enumerate() {
                let v = col[i].to_f64();
                if !v.is_finite() {
                    return Err(ModelError::NonFinite {
                        row: k,
                        column: j,
                        value: v,
                    });
                }
                values.push(v);
            }
            values.sort_by(f64::total_cmp);
            let fb = make_bins(&values);
            for (k, &i) in rows.iter().enumerate() {
                codes[k * n_features + j] = fb.code(col[i].to_f64());
            }
            bins.push(fb);
        }
        // Record the observed range of every bin (quantile bins may not reach their edges).
        for (j, fb) in bins.iter_mut().enumerate() {
            fb.lo.iter_mut().for_each(|v| *v = f64::INFINITY);
            fb.hi.iter_mut().for_each(|v| *v = f64::NEG_INFINITY);
            let col = x.column(j);
            for (k, &i) in rows.iter().enumerate() {
                let v = col[i].to_f64();
                let b = codes[k * n_features + j] as usize;
                fb.lo[b] = fb.lo[b].min(v);
                fb.hi[b] = fb.hi[b].max(v);
            }
        }
        let mut offsets = vec![0];
        for fb in &bins {
            offsets.push(offsets[offsets.len() - 1] + fb.len());
        }
        Ok(Self {
            n_features,
            codes,
            bins,
            offsets,
        })
    }

    /// The bin codes of row `i`, one per feature.
    #[inline]
    pub fn row(&self, i: usize) -> &[u8] {
        &self.codes[i * self.n_features..(i + 1) * self.n_features]
    }

    /// The bin codes of feature `j`, one per row.
    #[cfg(test)]
    pub fn column(&self, j: usize) -> Vec<u8> {
        self.codes
            .iter()
            .skip(j)
            .step_by(self.n_features)
            .copied()
            .collect()
    }
}

fn make_bins(sorted: &[f64]) -> FeatureBins {
    // The distinct values, collected one by one: a copy of `sorted` deduplicated in place
    // would keep the capacity of every row in each feature's bins.
    let mut distinct: Vec<f64> = Vec::new();
    for &v in sorted {
        if distinct.last() != Some(&v) {
            distinct.push(v);
        }
    }
    let edges: Vec<f64> = if distinct.len() <= MAX_BINS {
        distinct
    } else {
        // Quantile edges over the sorted sample, deduplicated so every bin is non-empty.
        let mut e: Vec<f64> = (1..=MAX_BINS)
            .map(|k| sorted[(k * sorted.len() / MAX_BINS).min(sorted.len()) - 1])
            .collect();
        e.dedup();
        e
    };
    let n = edges.len();
    FeatureBins {
        lo: vec![0.0; n],
        hi: vec![0.0; n],
        edges,
    }
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ternary_feature_gets_one_bin_per_value() {
        let x = array![[-1.0, 5.0], [0.0, 5.0], [1.0, 5.0], [0.0, 5.0]];
        let b = Binned::new(x.view()).unwrap();
        assert_eq!(b.column(0), vec![0, 1, 2, 1]);
        assert_eq!(b.column(1), vec![0, 0, 0, 0]);
        assert_eq!(b.offsets, vec![0, 3, 4]);
        assert_eq!(b.bins[0].lo, vec![-1.0, 0.0, 1.0]);
    }

    #[test]
    fn wide_feature_is_quantile_binned_and_nan_rejected() {
        let x = ndarray::Array2::from_shape_fn((1000, 1), |(i, _)| i as f64);
        let b = Binned::new(x.view()).unwrap();
        assert!(b.bins[0].len() <= MAX_BINS);
        let c = b.column(0);
        assert!(c.windows(2).all(|w| w[0] <= w[1]));
        let bad = array![[1.0], [f64::NAN]];
        assert!(matches!(
            Binned::new(bad.view()),
            Err(ModelError::NonFinite { row: 1, .. })
        ));
    }
}
