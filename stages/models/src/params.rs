//! Hyper-parameters of every family behind one serialisable enum, and the default grids.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::boosting::{BoostingParams, GradientBoosting};
use crate::cart::{DecisionTree, MaxFeatures, TreeParams};
use crate::error::{ModelError, Result};
use crate::forest::{ForestParams, RandomForest};
use crate::logistic::{LogisticParams, LogisticRegression};
use crate::model::Model;
use crate::svm::{RbfSvm, SvmParams};

/// Family names accepted in `SelectConfig::models`, in candidate order.
pub const KNOWN_MODELS: [&str; 5] = ["logistic", "svm", "tree", "forest", "boosting"];

/// One candidate: a family and its hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Params {
    Logistic(LogisticParams),
    Svm(SvmParams),
    Tree(TreeParams),
    Forest(ForestParams),
    Boosting(BoostingParams),
}

impl Params {
    /// Family name.
    pub fn name(&self) -> &'static str {
        match self {
            Params::Logistic(_) => "logistic",
            Params::Svm(_) => "svm",
            Params::Tree(_) => "tree",
            Params::Forest(_) => "forest",
            Params::Boosting(_) => "boosting",
        }
    }

    /// Fits this candidate; `seed` drives every random choice.
    pub fn fit(&self, x: ArrayView2<f64>, y: &[u8], seed: u64) -> Result<Model> {
        Ok(match self {
            Params::Logistic(p) => Model::Logistic(LogisticRegression::fit(x, y, p)?),
            Params::Svm(p) => Model::Svm(RbfSvm::fit(x, y, p, seed)?),
            Params::Tree(p) => Model::Tree(DecisionTree::fit(x, y, p, seed)?),
            Params::Forest(p) => Model::Forest(RandomForest::fit(x, y, p, seed)?),
            Params::Boosting(p) => Model::Boosting(GradientBoosting::fit(x, y, p, seed)?),
        })
    }
}

/// The small default grid of a family; unknown names are rejected with the known list.
pub fn default_grid(name: &str) -> Result<Vec<Params>> {
    Ok(match name {
        "logistic" => [0.1, 1.0]
            .into_iter()
            .map(|alpha| {
                Params::Logistic(LogisticParams {
                    alpha,
                    ..Default::default()
                })
            })
            .collect(),
        "svm" => [1.0, 10.0]
            .into_iter()
            .map(|c| {
                Params::Svm(SvmParams {
                    c,
                    ..Default::default()
                })
            })
            .collect(),
        "tree" => [None, Some(10)]
            .into_iter()
            .map(|max_depth| {
                Params::Tree(TreeParams {
                    max_depth,
                    ..Default::default()
                })
            })
            .collect(),
        // max_features sqrt (5 of 30) and log2 (4): on this data the more random of the usual
        // choices score best by CV; constant draws count as in scikit-learn (the default).
        "forest" => [MaxFeatures::Sqrt, MaxFeatures::Log2]
            .into_iter()
            .map(|max_features| {
                Params::Forest(ForestParams {
                    max_features,
                    ..Default::default()
                })
            })
            .collect(),
        // Depth × learning rate at 300 rounds, like the usual histogram-boosting grids.
        "boosting" => [(6, 0.1), (6, 0.2), (8, 0.1), (8, 0.2)]
            .into_iter()
            .map(|(max_depth, learning_rate)| {
                Params::Boosting(BoostingParams {
                    n_rounds: 300,
                    max_depth,
                    learning_rate,
                    ..Default::default()
                })
            })
            .collect(),
        other => {
            return Err(ModelError::UnknownModel {
                name: other.to_string(),
                known: KNOWN_MODELS.join(", "),
            })
        }
    })
}
