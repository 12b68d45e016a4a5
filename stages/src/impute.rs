//! `KnnImputer`: scikit-learn's `KNNImputer(weights="uniform")` with nan-euclidean distances.
//!
//! Distance between a receiver row and a fitted row uses only the columns both observe:
//! `sqrt(n_features / n_common · Σ (x - y)²)`, undefined (NaN) when they share none. For each
//! missing cell, the donors are the fitted rows observing that column; the k nearest are taken
//! with NaN distances last, and ties among equally distant donors broken exactly as numpy's
//! `argpartition` breaks them on AVX-512 (see `argselect.rs`); donors at NaN distance get
//! weight 0. A receiver with no donor at a defined distance gets the
//! column mean of the fitted data. The fitted rows are stored, so the imputer can be saved in the
//! model bundle and applied to new data later.

use ndarray::{Array1, Array2, ArrayView1, Axis};
use netsec_models::Feature;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};

/// A fitted KNN imputer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnnImputer {
    pub n_neighbors: usize,
    pub n_features: usize,
    pub n_rows: usize,
    /// The fitted rows, row-major; missing cells are stored as `null` (NaN in memory).
    #[serde(with = "nan_as_null")]
    pub fit: Vec<f64>,
    /// Column means of the observed fitted values (the fallback).
    pub means: Vec<f64>,
}

impl KnnImputer {
    /// Fits on `x` (rows × features). Every column needs at least one observed value.
    /// The fitted rows and means are kept as `f64` whatever `x`'s element type.
    pub fn fit<T: Feature>(x: &Array2<T>, n_neighbors: usize) -> Result<KnnImputer> {
        if n_neighbors == 0 {
            return Err(StageError::Config {
                key: "transform.neighbors".into(),
                message: "must be at least 1".into(),
            });
        }
        let (n_rows, n_features) = x.dim();
        let mut means = Vec::with_capacity(n_features);
        for (j, col) in x.axis_iter(Axis(1)).enumerate() {
            let (sum, count) = col
                .iter()
                .map(|v| v.to_f64())
                .filter(|v| !v.is_nan())
                .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
            if count == 0 {
                return Err(StageError::Fit {
                    message: format!("cannot fit the imputer: feature column {j} has no observed value in the training data"),
                });
            }
            means.push(sum / count as f64);
        }
        Ok(KnnImputer {
            n_neighbors,
            n_features,
            n_rows,
            fit: x.iter().map(|v| v.to_f64()).collect(),
            means,
        })
    }

    /// [`KnnImputer::fit`] on at most `max_rows` rows of `x` (every ⌈n / `max_rows`⌉-th row,
    /// from the first; all rows when `max_rows` is 0 or not below n). The imputer stores its
    /// fitted rows and searches them all for every row it fills, so the cap bounds its size
    /// (and the bundle's) and the cost of each imputed row whatever the training size.
    pub fn fit_bounded<T: Feature>(
        x: &Array2<T>,
        n_neighbors: usize,
        max_rows: usize,
    ) -> Result<KnnImputer> {
        if max_rows == 0 || x.nrows() <= max_rows {
            return Self::fit(x, n_neighbors);
        }
        let step = x.nrows().div_ceil(max_rows);
        let rows: Vec<usize> = (0..x.nrows()).step_by(step).collect();
        Self::fit(&x.select(Axis(0), &rows), n_neighbors)
    }

    /// Whether `x` has any missing cell.
    pub fn needs_imputation<T: Feature>(x: &Array2<T>) -> bool {
        x.iter().any(|v| v.to_f64().is_nan())
    }

    /// Fills the missing cells of `x`. Without missing cells `x` is returned as is (no distance
    /// work); otherwise the receiver rows are processed in parallel.
    pub fn transform<T: Feature>(&self, x: &Array2<T>) -> Result<Array2<T>> {
        let mut out = x.clone();
        self.transform_in_place(&mut out)?;
        Ok(out)
    }

    /// [`KnnImputer::transform`] without a copy: the missing cells of `x` are filled where they
    /// are (each from the fitted rows only, so the order of filling does not matter). A fill
    /// is computed in `f64` and stored as the nearest `T`.
    pub fn transform_in_place<T: Feature>(&self, x: &mut Array2<T>) -> Result<()> {
        if x.ncols() != self.n_features {
            return Err(StageError::Fit {
                message: format!(
                    "the imputer was fitted on {} features, the data has {}",
                    self.n_features,
                    x.ncols()
                ),
            });
        }
        if !Self::needs_imputation(x) {
            return Ok(());
        }
        let view = x.view();
        let filled: Vec<(usize, Vec<(usize, f64)>)> = (0..view.nrows())
            .into_par_iter()
            .filter(|&r| view.row(r).iter().any(|v| v.to_f64().is_nan()))
            .map(|r| {
                let row: Array1<f64> = view.row(r).mapv(Feature::to_f64);
                (r, self.impute_row(row.view()))
            })
            .collect();
        for (r, cells) in filled {
            for (c, v) in cells {
                x[[r, c]] = T::from_f64(v);
            }
        }
        Ok(())
    }

    fn fit_row(&self, i: usize) -> &[f64] {
        &self.fit[i * self.n_features..(i + 1) * self.n_features]
    }

    /// nan-euclidean distance of `row` to every fitted row.
    fn distances(&self, row: ArrayView1<'_, f64>) -> Vec<f64> {
        let nf = self.n_features as f64;
        (0..self.n_rows)
            .map(|i| {
                let (mut sum, mut common) = (0.0f64, 0usize);
                for (a, b) in row.iter().zip(self.fit_row(i)) {
                    if !a.is_nan() && !b.is_nan() {
                        sum += (a - b) * (a - b);
                        common += 1;
                    }
                }
                if common == 0 {
                    f64::NAN
                } else {
                    (sum / common as f64 * nf).sqrt()
                }
            })
            .collect()
    }

    /// (column, value) for every missing cell of one row.
    fn impute_row(&self, row: ArrayView1<'_, f64>) -> Vec<(usize, f64)> {
        let dist = self.distances(row);
        let mut cells = Vec::new();
        let mut donors: Vec<usize> = Vec::with_capacity(self.n_rows);
        let mut donor_dist: Vec<f64> = Vec::with_capacity(self.n_rows);
        for (c, v) in row.iter().enumerate() {
            if !v.is_nan() {
                continue;
            }
            donors.clear();
            donor_dist.clear();
            for (i, d) in dist.iter().enumerate() {
                if !self.fit[i * self.n_features + c].is_nan() {
                    donors.push(i);
                    donor_dist.push(*d);
                }
            }
            if donor_dist.iter().all(|d| d.is_nan()) {
                cells.push((c, self.means[c]));
                continue;
            }
            let k = self.n_neighbors.min(donors.len());
            let chosen = &crate::argselect::argpartition(&donor_dist, k - 1)[..k];
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for &p in chosen {
                let w = if donor_dist[p].is_nan() { 0.0 } else { 1.0 };
                num += self.fit[donors[p] * self.n_features + c] * w;
                den += w;
            }
            cells.push((c, num / den));
        }
        cells
    }
}

/// JSON has no NaN: missing cells are written as `null` and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            values
                .iter()
                .map(|v| if v.is_nan() { None } else { Some(*v) }),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw: Vec<Option<f64>> = Vec::deserialize(d)?;
        Ok(raw.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

#[cfg(test)]
#[path = "impute_tests.rs"]
mod tests;
