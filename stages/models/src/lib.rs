//! netsec-models: learners without I/O for the phishing pipeline — histogram CART, random
//! forest, gradient boosting, logistic regression (linfa-logistic), RBF SVM (linfa-svm),
//! grouped or stratified k-fold CV with model selection, soft voting, the F1 threshold,
//! calibration, and binary metrics (class 1 = positive); also the
//! one seeded RNG and the one duplicate-row grouping the stages share.

mod bins;
pub mod boosting;
pub mod calibration;
pub mod cart;
pub mod cv;
mod data;
mod dedup;
pub mod error;
pub mod forest;
pub mod groups;
pub mod logistic;
pub mod metrics;
pub mod model;
mod model_read;
pub mod params;
pub mod rng;
pub mod select;
pub mod svm;
pub mod threshold;
pub mod tree;
pub mod vote;

pub use boosting::{validation_split, BoostingParams, EarlyStopping, GradientBoosting};
pub use calibration::{Calibration, ReliabilityBin};
pub use cart::{DecisionTree, MaxFeatures, TreeParams};
pub use cv::{stratified_folds, stratified_group_folds, CvKind};
pub use data::Feature;
pub use error::{ModelError, Result};
pub use forest::{ForestParams, RandomForest};
pub use groups::Groups;
pub use logistic::{LogisticParams, LogisticRegression};
pub use metrics::{pr_curve, roc_auc, roc_curve, BinaryMetrics, Confusion, PrPoint, RocPoint};
pub use model::Model;
pub use params::{default_grid, Params, KNOWN_MODELS};
pub use rng::SplitMix64;
pub use select::{
    candidates, select, select_observed, CvRow, CvSummary, OnFit, SelectConfig, Selection,
};
pub use svm::{RbfSvm, SvmParams};
pub use threshold::best_f1_threshold;
pub use tree::Tree;
pub use vote::{SoftVote, VoteParams};
