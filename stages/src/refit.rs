//! The refit of a promoted model on every labelled row (`evaluate.refit_all`): after `evaluate`
//! has scored the model fitted on train alone and decided to promote it, the chosen candidate —
//! the same family, hyper-parameters, seed and decision threshold that grouped CV chose on
//! train — is fitted again on train + test, so the shipped model has seen all the labelled
//! data (a fifth more rows on the bundled split). Nothing is chosen here: the test rows only
//! add training data after the last decision that looked at them.
//!
//! The bundle's `metrics` stay those of the fit on train alone — the only honest held-out
//! estimate there is — and `refit` records that the shipped model differs from that fit.

use std::path::Path;

use netsec_models::Model;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::train::{model_error, CvReport};
use crate::transform::load_xy;

/// What a bundle records of a refit (absent when the bundled model is the one `train` fitted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refit {
    /// Rows the shipped model was fitted on: train + test.
    pub rows: usize,
    /// blake3 (hex) of the `test.npy` added to `train.npy` (whose digest is the bundle's
    /// `training_data_digest`).
    pub test_data_digest: String,
}

/// Fits the chosen candidate of `train_dir/cv.json` (read as `cv`) on the rows of
/// `transform_dir/train.npy` followed by those of `test.npy`, with the CV's seed. `fitted` is
/// the family name of the `model.json` beside it: the refit must be of its kind, or the two
/// files come from different runs. Only the name is asked for, so the caller can free the
/// train fit before the refit's matrices are loaded (at a million rows the two together were
/// the stage's peak).
pub fn refit_on_all(
    cv: &CvReport,
    fitted: &str,
    train_dir: &Path,
    transform_dir: &Path,
) -> Result<(Model, usize)> {
    let cv_json = train_dir.join("cv.json");
    let row = cv
        .table
        .get(cv.chosen)
        .ok_or_else(|| StageError::Artifact {
            path: cv_json.clone(),
            message: format!(
                "`chosen` is {} but the CV table has {} rows",
                cv.chosen,
                cv.table.len()
            ),
        })?;
    if row.params.name() != fitted {
        return Err(StageError::Artifact {
            path: cv_json,
            message: format!(
                "the chosen candidate is `{}` but model.json holds `{fitted}`: the two files come from different runs; rerun `train`",
                row.params.name(),
            ),
        });
    }
    let (x, y) = load_all(
        &transform_dir.join("train.npy"),
        &transform_dir.join("test.npy"),
    )?;
    let refit = row
        .params
        .fit(x.view(), &y, cv.config.seed)
        .map_err(model_error)?;
    Ok((refit, y.len()))
}

/// The rows of both files in one matrix, train first. The train matrix's buffer is grown in
/// place (a large buffer is remapped, not copied), so memory peaks at all rows plus the test
/// rows, not at twice all rows.
fn load_all(train_npy: &Path, test_npy: &Path) -> Result<(ndarray::Array2<f32>, Vec<u8>)> {
    let (x_train, y_train) = load_xy(train_npy)?;
    let (x_test, y_test) = load_xy(test_npy)?;
    let cols = x_train.ncols();
    if x_test.ncols() != cols {
        return Err(StageError::Artifact {
            path: test_npy.to_path_buf(),
            message: format!(
                "{} feature columns, but `{}` has {cols}",
                x_test.ncols(),
                train_npy.display()
            ),
        });
    }
    let rows = x_train.nrows() + x_test.nrows();
    let (mut values, _) = x_train.into_raw_vec_and_offset();
    values.reserve_exact(x_test.len());
    values.extend(x_test.iter().copied());
    drop(x_test);
    let x = ndarray::Array2::from_shape_vec((rows, cols), values).map_err(|e| {
        StageError::Artifact {
            path: test_npy.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    let mut y = y_train.to_vec();
    y.extend(y_test.iter().copied());
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::write_xy_npy;
    use ndarray::array;

    #[test]
    fn load_all_puts_train_rows_before_test_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tr, te) = (dir.path().join("train.npy"), dir.path().join("test.npy"));
        write_xy_npy(&tr, array![[1.0, 2.0], [3.0, 4.0]].view(), &[0, 1]).expect("train");
        write_xy_npy(&te, array![[5.0, 6.0]].view(), &[1]).expect("test");
        let (x, y) = load_all(&tr, &te).expect("load");
        assert_eq!(x, array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        assert_eq!(y, vec![0, 1, 1]);
        write_xy_npy(&te, array![[5.0, 6.0, 7.0]].view(), &[1]).expect("test");
        let err = load_all(&tr, &te).expect_err("widths differ").to_string();
        assert!(err.contains("3 feature columns"), "{err}");
    }
}
