//! `SplitSummary`: sizes, class balance, duplicate groups and the leak check of a split.

use std::collections::BTreeMap;

use netsec_models::Groups;
use serde::{Deserialize, Serialize};

use crate::frame::Frame;
use crate::schema::Schema;
use crate::split::SplitConfig;

/// Rows per class name on one side.
pub type ClassCounts = BTreeMap<String, usize>;

/// Test rows whose feature vector also occurs in train (0 for the grouped split).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeakCheck {
    pub test_rows_in_train: usize,
    pub test_share_in_train: f64,
}

/// The content of `split.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub format: u32,
    pub split: SplitConfig,
    pub rows: usize,
    pub train_rows: usize,
    pub test_rows: usize,
    pub distinct_feature_vectors: usize,
    /// Feature vectors that occur more than once.
    pub duplicate_groups: usize,
    /// Rows that are extra copies of an earlier feature vector.
    pub duplicate_rows: usize,
    pub class_balance: BTreeMap<String, ClassCounts>,
    pub leak_check: LeakCheck,
}

/// Summarizes a split of `frame` into `train`/`test` row indices.
pub fn summarize(
    frame: &Frame,
    schema: &Schema,
    cfg: &SplitConfig,
    train: &[usize],
    test: &[usize],
    groups: &Groups,
) -> SplitSummary {
    // `groups` partitions the rows of `frame` by feature vector: a test row leaks when its
    // group has a train row.
    let mut in_train = vec![false; groups.len()];
    train
        .iter()
        .for_each(|&r| in_train[groups.of_row[r] as usize] = true);
    let leaked = test
        .iter()
        .filter(|&&r| in_train[groups.of_row[r] as usize])
        .count();
    let counts = |rows: &[usize]| -> ClassCounts {
        let mut c: ClassCounts = schema
            .target
            .labels
            .keys()
            .map(|k| (k.clone(), 0))
            .collect();
        if let Some(labels) = &frame.labels {
            for &r in rows {
                if let Some((name, _)) = schema.target.labels.iter().find(|(_, v)| **v == labels[r])
                {
                    *c.entry(name.clone()).or_insert(0) += 1;
                }
            }
        }
        c
    };
    let all: Vec<usize> = (0..frame.n_rows()).collect();
    let mut class_balance = BTreeMap::new();
    class_balance.insert("all".to_string(), counts(&all));
    class_balance.insert("train".to_string(), counts(train));
    class_balance.insert("test".to_string(), counts(test));
    SplitSummary {
        format: 1,
        split: cfg.clone(),
        rows: frame.n_rows(),
        train_rows: train.len(),
        test_rows: test.len(),
        distinct_feature_vectors: groups.len(),
        duplicate_groups: groups.sizes().iter().filter(|&&n| n > 1).count(),
        duplicate_rows: frame.n_rows() - groups.len(),
        class_balance,
        leak_check: LeakCheck {
            test_rows_in_train: leaked,
            test_share_in_train: if test.is_empty() {
                0.0
            } else {
                leaked as f64 / test.len() as f64
            },
        },
    }
}
