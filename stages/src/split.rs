//! Train/test splits: `grouped` (seeded, stratified, duplicate-aware) and `random` (seeded).
//!
//! `grouped` puts every copy of a feature vector on the same side, so test rows never appear
//! verbatim in train (the raw data is 47% duplicates). Groups are shuffled with the seed and
//! taken into test one by one whenever that moves the per-class test counts closer to their
//! targets (`round(test_size · n_class)`), which matches both the test size and the class ratio
//! to within a group. `random` is a seeded Fisher–Yates shuffle with `ceil(test_size · n)` test
//! rows: the template's protocol, though not its exact rows (those came from numpy's RNG).

use std::collections::BTreeMap;

use netsec_models::{Groups, SplitMix64};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::frame::Frame;

/// How rows are divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitMode {
    #[default]
    Grouped,
    Random,
}

/// The split parameters (`params.ingest` and `params.compare` use these names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitConfig {
    pub split: SplitMode,
    pub test_size: f64,
    pub seed: u64,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            split: SplitMode::Grouped,
            test_size: 0.2,
            seed: 42,
        }
    }
}

impl SplitConfig {
    /// Range checks (`test_size` strictly between 0 and 1); the error names the field.
    pub fn validate(&self) -> Result<()> {
        check_test_size(self.test_size)
    }
}

/// `test_size` must lie strictly between 0 and 1.
pub fn check_test_size(test_size: f64) -> Result<()> {
    if test_size > 0.0 && test_size < 1.0 {
        Ok(())
    } else {
        Err(StageError::Config {
            key: "test_size".into(),
            message: format!("must lie strictly between 0 and 1, found {test_size}"),
        })
    }
}

/// Splits the rows of `frame`; returns (train, test) row indices, each ascending.
pub fn split(frame: &Frame, cfg: &SplitConfig) -> Result<(Vec<usize>, Vec<usize>)> {
    let n = frame.n_rows();
    if !(cfg.test_size > 0.0 && cfg.test_size < 1.0) {
        return Err(StageError::Config {
            key: "test_size".into(),
            message: format!("must be strictly between 0 and 1, found {}", cfg.test_size),
        });
    }
    // Too few rows is the data's fault (exit 4), not the config's: the same params split a
    // real dataset fine.
    if n < 2 {
        return Err(StageError::TooFewRows {
            origin: frame.origin.clone(),
            rows: n,
            reason: "at least 2 rows are needed to split into train and test".into(),
        });
    }
    let (mut train, mut test) = match cfg.split {
        SplitMode::Random => random_split(n, cfg),
        SplitMode::Grouped => grouped_split(frame, cfg)?,
    };
    if train.is_empty() || test.is_empty() {
        return Err(StageError::TooFewRows {
            origin: frame.origin.clone(),
            rows: n,
            reason: format!(
                "a {} split with `test_size` {} leaves an empty side ({} train, {} test rows)",
                match cfg.split {
                    SplitMode::Grouped => "grouped",
                    SplitMode::Random => "random",
                },
                cfg.test_size,
                train.len(),
                test.len()
            ),
        });
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}

fn random_split(n: usize, cfg: &SplitConfig) -> (Vec<usize>, Vec<usize>) {
    let mut perm: Vec<usize> = (0..n).collect();
    SplitMix64::new(cfg.seed).shuffle(&mut perm);
    let n_test = ((cfg.test_size * n as f64).ceil() as usize).min(n);
    let train = perm.split_off(n_test);
    (train, perm)
}

/// Row groups of identical feature vectors (equality as [`Groups`] defines it: NaNs equal,
/// `-0.0 == 0.0`), in order of first appearance.
pub fn duplicate_groups(frame: &Frame) -> Groups {
    Groups::new(frame.features.view(), None)
}

fn grouped_split(frame: &Frame, cfg: &SplitConfig) -> Result<(Vec<usize>, Vec<usize>)> {
    let labels = frame.labels.as_ref().ok_or_else(|| StageError::Config {
        key: "split".into(),
        message: "the grouped split stratifies by label, but the data has no label column".into(),
    })?;
    let classes: BTreeMap<i64, usize> = {
        let mut c: BTreeMap<i64, usize> = BTreeMap::new();
        for l in labels {
            c.entry(*l).or_insert(0);
        }
        c.keys().enumerate().map(|(i, k)| (*k, i)).collect()
    };
    let k = classes.len();
    let mut totals = vec![0usize; k];
    for l in labels {
        totals[classes[l]] += 1;
    }
    let targets: Vec<i64> = totals
        .iter()
        .map(|t| (cfg.test_size * *t as f64).round() as i64)
        .collect();
    // Per-group class counts in one flat table (`counts[g * k + c]`), not a vector per group:
    // at 10⁶ rows nearly every row is its own group.
    let groups = duplicate_groups(frame);
    let mut counts = vec![0i64; groups.len() * k];
    for (r, &g) in groups.of_row.iter().enumerate() {
        counts[g as usize * k + classes[&labels[r]]] += 1;
    }
    let mut order: Vec<usize> = (0..groups.len()).collect();
    SplitMix64::new(cfg.seed).shuffle(&mut order);
    let mut in_test = vec![false; groups.len()];
    let mut current = vec![0i64; k];
    for g in order {
        let count = &counts[g * k..(g + 1) * k];
        let before: i64 = (0..k).map(|c| (targets[c] - current[c]).abs()).sum();
        let after: i64 = (0..k)
            .map(|c| (targets[c] - current[c] - count[c]).abs())
            .sum();
        if after < before {
            in_test[g] = true;
            for c in 0..k {
                current[c] += count[c];
            }
        }
    }
    // Rows in ascending order, each to its group's side.
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (r, &g) in groups.of_row.iter().enumerate() {
        if in_test[g as usize] {
            test.push(r);
        } else {
            train.push(r);
        }
    }
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn frame(rows: &[[f64; 2]], labels: &[i64]) -> Frame {
        let flat: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
        Frame {
            origin: "t".into(),
            header: vec!["a".into(), "b".into(), "y".into()],
            feature_names: vec!["a".into(), "b".into()],
            dtypes: vec![crate::schema::Dtype::Int64; 2],
            features: Array2::from_shape_vec((rows.len(), 2), flat).expect("shape"),
            label_name: "y".into(),
            labels: Some(labels.to_vec()),
            lines: (2..rows.len() + 2).collect(),
        }
    }

    fn synthetic(n: usize) -> Frame {
        let mut rng = SplitMix64::new(7);
        let rows: Vec<[f64; 2]> = (0..n)
            .map(|_| [rng.below(6) as f64, rng.below(5) as f64])
            .collect();
        let labels: Vec<i64> = rows
            .iter()
            .map(|r| if r[0] < 2.0 { -1 } else { 1 })
            .collect();
        frame(&rows, &labels)
    }

    #[test]
    fn random_split_sizes_and_determinism() {
        let f = synthetic(101);
        let cfg = SplitConfig {
            split: SplitMode::Random,
            test_size: 0.2,
            seed: 42,
        };
        let (tr, te) = split(&f, &cfg).expect("split");
        assert_eq!(te.len(), 21);
        assert_eq!(tr.len() + te.len(), 101);
        assert_eq!(split(&f, &cfg).expect("again"), (tr.clone(), te.clone()));
        let other = split(&f, &SplitConfig { seed: 1, ..cfg }).expect("seed 1");
        assert_ne!(other.1, te);
    }

    #[test]
    fn grouped_split_never_straddles_and_is_stratified() {
        let f = synthetic(600); // 30 distinct vectors, many duplicates
        let cfg = SplitConfig::default();
        let (tr, te) = split(&f, &cfg).expect("split");
        let key = |r: usize| {
            f.features
                .row(r)
                .to_vec()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        let train_keys: std::collections::HashSet<_> = tr.iter().map(|&r| key(r)).collect();
        assert!(te.iter().all(|&r| !train_keys.contains(&key(r))));
        let labels = f.labels.as_ref().expect("labels");
        let pos_all = labels.iter().filter(|l| **l == -1).count() as f64 / 600.0;
        let pos_test = te.iter().filter(|&&r| labels[r] == -1).count() as f64 / te.len() as f64;
        assert!((pos_all - pos_test).abs() < 0.08, "{pos_all} vs {pos_test}");
        assert!(
            (te.len() as f64 / 600.0 - 0.2).abs() < 0.06,
            "test share {}",
            te.len()
        );
    }

    #[test]
    fn too_few_rows_are_rejected_data() {
        for n in [1, 2] {
            let e = split(&synthetic(n), &SplitConfig::default()).expect_err("too few");
            assert_eq!(e.kind(), crate::error::ErrorKind::Rejected, "{n}: {e}");
            assert!(e.to_string().contains(&format!("has {n} row")), "{e}");
        }
    }

    #[test]
    fn bad_test_size_is_a_config_error() {
        let f = synthetic(10);
        let e = split(
            &f,
            &SplitConfig {
                test_size: 1.5,
                ..Default::default()
            },
        )
        .expect_err("bad");
        assert_eq!(e.kind(), crate::error::ErrorKind::Invalid);
    }
}
