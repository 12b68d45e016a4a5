//! The `transform` stage: fit the KNN imputer on train, write `train.npy`/`test.npy` (features in
//! schema order, then the class with phishing = 1) and the fitted `preprocessor.json`.

use std::path::Path;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::frame::{Frame, LabelMode};
use crate::fsio::{read_json, write_json};
use crate::impute::KnnImputer;
use crate::npy::{read_npy_values, write_xy_npy};
use crate::schema::Schema;

/// `params.transform`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransformConfig {
    pub neighbors: usize,
    /// Most train rows the KNN imputer keeps and searches ([`KnnImputer::fit_bounded`]);
    /// 0 = every row.
    pub max_fit_rows: usize,
}

impl Default for TransformConfig {
    fn default() -> Self {
        TransformConfig {
            neighbors: 3,
            max_fit_rows: 50_000,
        }
    }
}

impl TransformConfig {
    /// Range checks (`neighbors` from 1 to 1000); the error names the field.
    pub fn validate(&self) -> Result<()> {
        if (1..=1000).contains(&self.neighbors) {
            Ok(())
        } else {
            Err(StageError::Config {
                key: "neighbors".into(),
                message: format!("must lie in [1, 1000], found {}", self.neighbors),
            })
        }
    }
}

/// The fitted preprocessing, saved as `preprocessor.json` and embedded in the model bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    pub format: u32,
    /// Feature names in the column order the model expects.
    pub features: Vec<String>,
    pub imputer: KnnImputer,
}

impl Preprocessor {
    /// Fills missing cells of `x` (rows × features in `self.features` order).
    pub fn transform<T: netsec_models::Feature>(&self, x: &Array2<T>) -> Result<Array2<T>> {
        self.imputer.transform(x)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }

    pub fn load(path: &Path) -> Result<Preprocessor> {
        read_json(path)
    }

    /// Only the feature names of a saved preprocessor: the imputer's rows are parsed and
    /// skipped, not kept.
    pub fn feature_names(path: &Path) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct Names {
            features: Vec<String>,
        }
        read_json::<Names>(path).map(|n| n.features)
    }
}

/// What `transform` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransformReport {
    pub features: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub train_missing_cells: usize,
    pub test_missing_cells: usize,
}

/// Runs the stage: reads `train_csv`/`test_csv` (checked against `schema`, labels required) and
/// writes `train.npy`, `test.npy` and `preprocessor.json` into `out_dir`.
pub fn transform(
    cfg: &TransformConfig,
    train_csv: &Path,
    test_csv: &Path,
    schema: &Schema,
    out_dir: &Path,
) -> Result<TransformReport> {
    let mut train = Frame::read_csv(train_csv, schema, LabelMode::Required)?;
    let ytr = classes(&train, schema)?;
    let train_missing_cells = train.missing_cells();
    let imputer = KnnImputer::fit_bounded(&train.features, cfg.neighbors, cfg.max_fit_rows)?;
    let pre = Preprocessor {
        format: 1,
        features: schema.feature_names(),
        imputer,
    };
    // Each matrix is imputed where it lies and streamed to its file: one copy in memory.
    pre.imputer.transform_in_place(&mut train.features)?;
    std::fs::create_dir_all(out_dir).map_err(|e| StageError::write(out_dir, e))?;
    write_xy_npy(&out_dir.join("train.npy"), train.features.view(), &ytr)?;
    let train_rows = train.n_rows();
    drop(train);
    let mut test = Frame::read_csv(test_csv, schema, LabelMode::Required)?;
    let yte = classes(&test, schema)?;
    let test_missing_cells = test.missing_cells();
    pre.imputer.transform_in_place(&mut test.features)?;
    write_xy_npy(&out_dir.join("test.npy"), test.features.view(), &yte)?;
    pre.save(&out_dir.join("preprocessor.json"))?;
    Ok(TransformReport {
        features: schema.n_features(),
        train_rows,
        test_rows: test.n_rows(),
        train_missing_cells,
        test_missing_cells,
    })
}

fn classes(frame: &Frame, schema: &Schema) -> Result<Vec<u8>> {
    frame.classes(schema).ok_or_else(|| StageError::Fit {
        message: format!(
            "`{}` has no `{}` column",
            frame.origin, schema.target.column
        ),
    })
}

/// Loads a `train.npy`/`test.npy` (`<f4`, or `<f8` of an older `transform`): (features as `f32`,
/// classes with phishing = 1). The label column is cut out in place, so memory peaks at one
/// copy of the matrix.
pub fn load_xy(path: &Path) -> Result<(Array2<f32>, Array1<u8>)> {
    let (mut values, rows, c) = read_npy_values(path)?;
    if c < 2 {
        return Err(StageError::Artifact {
            path: path.to_path_buf(),
            message: format!("expected features and a label column, found {c} column(s)"),
        });
    }
    let mut y = Array1::zeros(rows);
    for i in 0..rows {
        // Row `i` moves to `i * (c − 1)`, which never passes the start of row `i + 1`: the
        // label at `i * c + c − 1` is read before anything overwrites it.
        y[i] = match values[i * c + c - 1] {
            0.0 => 0,
            1.0 => 1,
            other => {
                return Err(StageError::Artifact {
                    path: path.to_path_buf(),
                    message: format!("row {i}: label {other} is not 0 or 1"),
                })
            }
        };
        values.copy_within(i * c..i * c + c - 1, i * (c - 1));
    }
    values.truncate(rows * (c - 1));
    let x = Array2::from_shape_vec((rows, c - 1), values).map_err(|e| StageError::Artifact {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok((x, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::write_npy;

    const SCHEMA: &str = "version: 1\ntarget:\n  column: y\n  labels: {phishing: -1, legitimate: 1}\n  positive: phishing\ncolumns:\n  - { name: a, dtype: int64, allowed: [-1, 0, 1], nullable: true }\n  - { name: b, dtype: int64, allowed: [-1, 1] }\n";

    #[test]
    fn writes_npy_with_phishing_as_one_and_imputes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let schema = Schema::from_yaml_str(SCHEMA, Path::new("s.yaml")).expect("schema");
        std::fs::write(
            dir.path().join("train.csv"),
            "a,b,y\n1,1,1\n1,1,1\n-1,-1,-1\n",
        )
        .expect("w");
        std::fs::write(dir.path().join("test.csv"), "a,b,y\n,1,1\n-1,-1,-1\n").expect("w");
        let out = dir.path().join("out");
        let rep = transform(
            &TransformConfig {
                neighbors: 2,
                ..Default::default()
            },
            &dir.path().join("train.csv"),
            &dir.path().join("test.csv"),
            &schema,
            &out,
        )
        .expect("transform");
        assert_eq!(
            (rep.train_rows, rep.test_rows, rep.test_missing_cells),
            (3, 2, 1)
        );
        let (x, y) = load_xy(&out.join("test.npy")).expect("load");
        assert_eq!(y.to_vec(), vec![0, 1]);
        assert_eq!(
            x[[0, 0]],
            1.0,
            "two nearest rows with b = 1 both have a = 1"
        );
        let (xt, yt) = load_xy(&out.join("train.npy")).expect("load");
        assert_eq!((xt.dim(), yt.to_vec()), ((3, 2), vec![0, 0, 1]));
        // The label column is cut out in place: every feature cell lands in its own row.
        assert_eq!(
            xt,
            Array2::from_shape_vec((3, 2), vec![1.0, 1.0, 1.0, 1.0, -1.0, -1.0]).expect("shape")
        );
        let pre = Preprocessor::load(&out.join("preprocessor.json")).expect("pre");
        assert_eq!(pre.features, vec!["a", "b"]);
        assert_eq!(pre.transform(&x).expect("t"), x);
    }

    #[test]
    fn bad_label_in_npy_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("bad.npy");
        write_npy(
            &p,
            &Array2::from_shape_vec((1, 2), vec![1.0, 2.0]).expect("shape"),
        )
        .expect("w");
        assert!(load_xy(&p).is_err());
    }
}
