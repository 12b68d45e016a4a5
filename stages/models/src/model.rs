//! The fitted-model enum saved in bundles: plain serde structs, no pickles, no linfa types.

use ndarray::{Array1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::boosting::GradientBoosting;
use crate::cart::DecisionTree;
use crate::data::{check_width, sigmoid};
use crate::error::Result;
use crate::forest::RandomForest;
use crate::logistic::LogisticRegression;
use crate::svm::RbfSvm;

/// Rows per rayon task when predicting. Trees are applied one at a time to a whole chunk, so
/// one tree stays in L1 while the chunk (1,024 × 30 × 8 B = 240 KB) stays in L2.
const CHUNK: usize = 1024;

/// Any fitted learner of this crate. Serialised with a `kind` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    Logistic(LogisticRegression),
    Svm(RbfSvm),
    Tree(DecisionTree),
    Forest(RandomForest),
    Boosting(GradientBoosting),
}

impl Model {
    /// The family name as used in `SelectConfig::models`.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Logistic(_) => "logistic",
            Model::Svm(_) => "svm",
            Model::Tree(_) => "tree",
            Model::Forest(_) => "forest",
            Model::Boosting(_) => "boosting",
        }
    }

    /// Number of input features the model was trained on.
    pub fn n_features(&self) -> usize {
        match self {
            Model::Logistic(m) => m.coef.len(),
            Model::Svm(m) => m.support_vectors.ncols(),
            Model::Tree(m) => m.n_features,
            Model::Forest(m) => m.n_features,
            Model::Boosting(m) => m.n_features,
        }
    }

    /// Normalised importance per feature (trees) or |coefficient| shares (logistic); `None`
    /// for the RBF SVM, whose kernel has no per-feature weight.
    pub fn feature_importance(&self) -> Option<Vec<f64>> {
        match self {
            Model::Logistic(m) => {
                let s: f64 = m.coef.iter().map(|c| c.abs()).sum();
                Some(
                    m.coef
                        .iter()
                        .map(|c| if s > 0.0 { c.abs() / s } else { 0.0 })
                        .collect(),
                )
            }
            Model::Svm(_) => None,
            Model::Tree(m) => Some(m.importance.clone()),
            Model::Forest(m) => Some(m.importance.clone()),
            Model::Boosting(m) => Some(m.importance.clone()),
        }
    }

    /// Probability of class 1 (phishing) for every row of `x`; rows are scored in parallel.
    /// Fails only if `x` has the wrong number of columns.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>> {
        check_width(self.n_features(), x)?;
        let n = x.nrows();
        let chunks: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                self.proba_chunk(x.slice(ndarray::s![c * CHUNK..((c + 1) * CHUNK).min(n), ..]))
            })
            .collect();
        let out: Array1<f64> = chunks.into_iter().flatten().collect();
        Ok(out)
    }

    /// Hard labels at threshold 0.5 (1 = phishing).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<u8>> {
        Ok(self
            .predict_proba(x)?
            .iter()
            .map(|&p| u8::from(p >= 0.5))
            .collect())
    }

    fn proba_chunk(&self, xs: ArrayView2<f64>) -> Vec<f64> {
        let p = xs.ncols();
        let std = xs.as_standard_layout();
        let flat = std.as_slice().unwrap_or(&[]);
        let mut acc = vec![0.0; xs.nrows()];
        match self {
            Model::Logistic(m) => {
                for (a, row) in acc.iter_mut().zip(xs.outer_iter()) {
                    *a = sigmoid(m.decision(row));
                }
            }
            Model::Svm(m) => {
                for (a, row) in acc.iter_mut().zip(xs.outer_iter()) {
                    *a = m.proba_row(row);
                }
            }
            Model::Tree(m) => m.tree.accumulate(flat, p, &mut acc),
            Model::Forest(m) => {
                m.trees.iter().for_each(|t| t.accumulate(flat, p, &mut acc));
                let k = m.trees.len() as f64;
                acc.iter_mut().for_each(|a| *a /= k);
            }
            Model::Boosting(m) => {
                acc.iter_mut().for_each(|a| *a = m.base_score);
                m.trees.iter().for_each(|t| t.accumulate(flat, p, &mut acc));
                acc.iter_mut().for_each(|a| *a = sigmoid(*a));
            }
        }
        acc
    }
}
