//! The fitted-model enum saved in bundles: plain serde structs, no pickles, no linfa types.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::Serialize;

use crate::boosting::GradientBoosting;
use crate::cart::DecisionTree;
use crate::data::{check_width, sigmoid, Feature};
use crate::error::Result;
use crate::forest::RandomForest;
use crate::logistic::LogisticRegression;
use crate::svm::RbfSvm;
use crate::vote::SoftVote;

/// Rows per rayon task when predicting. Trees are applied one at a time to a whole chunk, so
/// one tree stays in L1 while the chunk (1,024 × 30 × 8 B = 240 KB) stays in L2.
const CHUNK: usize = 1024;

/// Any fitted learner of this crate. Serialised with a `kind` tag; read by `model_read`,
/// which decodes the large fields without buffering the object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    Logistic(LogisticRegression),
    Svm(RbfSvm),
    Tree(DecisionTree),
    Forest(RandomForest),
    Boosting(GradientBoosting),
    Vote(SoftVote),
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
            Model::Vote(_) => "vote",
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
            Model::Vote(m) => m.members.first().map_or(0, Model::n_features),
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
            // The mean of the members that have one.
            Model::Vote(m) => {
                let each: Vec<Vec<f64>> = m
                    .members
                    .iter()
                    .filter_map(Model::feature_importance)
                    .collect();
                let first = each.first()?;
                let k = each.len() as f64;
                Some(
                    (0..first.len())
                        .map(|j| each.iter().map(|v| v[j]).sum::<f64>() / k)
                        .collect(),
                )
            }
        }
    }

    /// Probability of class 1 (phishing) for every row of `x`; rows are scored in parallel.
    /// Identical rows are scored once (the features are few-valued, so real inputs repeat a
    /// lot: the training data itself is 47% copies). Fails only on a wrong column count.
    /// `f32` rows are widened to `f64` (exactly) as the distinct rows are gathered.
    pub fn predict_proba<T: Feature>(&self, x: ArrayView2<T>) -> Result<Array1<f64>> {
        check_width(self.n_features(), x)?;
        let std = x.as_standard_layout();
        let p = x.ncols().max(1);
        let flat = std.as_slice().unwrap_or(&[]);
        let mut index: HashMap<RowKey<'_, T>, u32> = HashMap::with_capacity(x.nrows().min(1 << 16));
        // The first row of each distinct row: an index, not a copy (at 10⁶ rows nearly every
        // row is distinct); each block is gathered, widened to `f64`, when it is scored.
        let mut uniq: Vec<usize> = Vec::new();
        let slot: Vec<u32> = flat
            .chunks_exact(p)
            .enumerate()
            .map(|(i, row)| {
                let next = index.len() as u32;
                *index.entry(RowKey(row)).or_insert_with(|| {
                    uniq.push(i);
                    next
                })
            })
            .collect();
        drop(index);
        let n = uniq.len();
        let chunks: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let block: Vec<f64> = uniq[c * CHUNK..((c + 1) * CHUNK).min(n)]
                    .iter()
                    .flat_map(|&i| flat[i * p..(i + 1) * p].iter().map(|v| v.to_f64()))
                    .collect();
                self.proba_chunk(&block, p)
            })
            .collect();
        let scores: Vec<f64> = chunks.concat();
        Ok(slot.iter().map(|&u| scores[u as usize]).collect())
    }

    /// Hard labels at threshold 0.5 (1 = phishing).
    pub fn predict<T: Feature>(&self, x: ArrayView2<T>) -> Result<Vec<u8>> {
        Ok(self
            .predict_proba(x)?
            .iter()
            .map(|&p| u8::from(p >= 0.5))
            .collect())
    }

    /// Scores a row-major block of `p`-wide rows; trees are applied one at a time to the
    /// whole block.
    fn proba_chunk(&self, flat: &[f64], p: usize) -> Vec<f64> {
        let mut acc = vec![0.0; flat.len() / p];
        match self {
            Model::Logistic(m) => {
                for (a, row) in acc.iter_mut().zip(flat.chunks_exact(p)) {
                    *a = sigmoid(m.decision(ArrayView1::from(row)));
                }
            }
            Model::Svm(m) => {
                for (a, row) in acc.iter_mut().zip(flat.chunks_exact(p)) {
                    *a = m.proba_row(ArrayView1::from(row));
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
            Model::Vote(m) => {
                for member in &m.members {
                    let p_member = member.proba_chunk(flat, p);
                    acc.iter_mut().zip(p_member).for_each(|(a, v)| *a += v);
                }
                let k = m.members.len().max(1) as f64;
                acc.iter_mut().for_each(|a| *a /= k);
            }
        }
        acc
    }
}

/// A feature row compared and hashed by the bits of its values as `f64` (so NaN rows also
/// dedupe).
struct RowKey<'a, T>(&'a [T]);

impl<T: Feature> Hash for RowKey<'_, T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.0
            .iter()
            .for_each(|v| h.write_u64(v.to_f64().to_bits()));
    }
}

impl<T: Feature> PartialEq for RowKey<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.0
            .iter()
            .zip(other.0)
            .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits())
    }
}

impl<T: Feature> Eq for RowKey<'_, T> {}
