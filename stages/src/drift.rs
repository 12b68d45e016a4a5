//! Drift between two datasets, per column (features and the label): the two-sample KS test's
//! statistic D (the effect size: the largest gap between the two empirical CDFs) and its
//! p-value, and the population stability index. A column drifts when the difference is both
//! significant (p < `drift_alpha`) and large enough to matter (D ≥ `min_effect`): with a
//! million rows the p-value alone flags gaps of a fraction of a percent.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::frame::Frame;
use crate::ks::{ks_2samp, KsMethod};
use crate::psi::psi;

/// When a column drifts: `p_value < alpha` and `statistic ≥ min_effect`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftRule {
    pub alpha: f64,
    pub min_effect: f64,
}

/// The drift measures of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnDrift {
    /// The KS statistic D, the effect size.
    pub statistic: f64,
    pub p_value: f64,
    /// Population stability index (reported; not part of the verdict).
    pub psi: f64,
    /// `p_value < drift_alpha` and `statistic ≥ min_effect`.
    pub drift: bool,
    pub method: KsMethod,
}

/// Counts of one comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftSummary {
    pub columns_tested: usize,
    pub drifted: usize,
    pub drifted_share: f64,
    pub drifted_columns: Vec<String>,
}

/// One comparison, e.g. train vs test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftComparison {
    pub baseline: String,
    pub current: String,
    pub baseline_rows: usize,
    pub current_rows: usize,
    pub drift_alpha: f64,
    pub min_effect: f64,
    /// Keyed by column name, sorted.
    pub columns: BTreeMap<String, ColumnDrift>,
    pub summary: DriftSummary,
}

/// One column of several frames, concatenated (NaN cells included; the KS test drops them).
fn column(frames: &[&Frame], j: Option<usize>) -> Vec<f64> {
    let mut out = Vec::new();
    for f in frames {
        match j {
            Some(j) => out.extend(f.features.column(j).iter().map(|&v| f64::from(v))),
            None => {
                if let Some(l) = &f.labels {
                    out.extend(l.iter().map(|v| *v as f64));
                }
            }
        }
    }
    out
}

/// Tests every feature column, and the label when all frames have one, of `baseline` against
/// `current` (each a list of frames taken together). Columns run in parallel.
pub fn compare(
    baseline_name: &str,
    baseline: &[&Frame],
    current_name: &str,
    current: &[&Frame],
    rule: DriftRule,
) -> DriftComparison {
    let Some(first) = baseline.first().or(current.first()) else {
        return DriftComparison {
            baseline: baseline_name.into(),
            current: current_name.into(),
            baseline_rows: 0,
            current_rows: 0,
            drift_alpha: rule.alpha,
            min_effect: rule.min_effect,
            columns: BTreeMap::new(),
            summary: DriftSummary {
                columns_tested: 0,
                drifted: 0,
                drifted_share: 0.0,
                drifted_columns: vec![],
            },
        };
    };
    let mut targets: Vec<(String, Option<usize>)> = first
        .feature_names
        .iter()
        .enumerate()
        .map(|(j, n)| (n.clone(), Some(j)))
        .collect();
    if baseline.iter().chain(current).all(|f| f.labels.is_some()) {
        targets.push((first.label_name.clone(), None));
    }
    let columns: BTreeMap<String, ColumnDrift> = targets
        .par_iter()
        .filter_map(|(name, j)| {
            let (b, c) = (column(baseline, *j), column(current, *j));
            let r = ks_2samp(&b, &c)?;
            Some((
                name.clone(),
                ColumnDrift {
                    statistic: r.statistic,
                    p_value: r.p_value,
                    psi: psi(&b, &c),
                    drift: r.p_value < rule.alpha && r.statistic >= rule.min_effect,
                    method: r.method,
                },
            ))
        })
        .collect();
    let drifted_columns: Vec<String> = columns
        .iter()
        .filter(|(_, c)| c.drift)
        .map(|(n, _)| n.clone())
        .collect();
    let tested = columns.len();
    DriftComparison {
        baseline: baseline_name.into(),
        current: current_name.into(),
        baseline_rows: baseline.iter().map(|f| f.n_rows()).sum(),
        current_rows: current.iter().map(|f| f.n_rows()).sum(),
        drift_alpha: rule.alpha,
        min_effect: rule.min_effect,
        summary: DriftSummary {
            columns_tested: tested,
            drifted: drifted_columns.len(),
            drifted_share: if tested == 0 {
                0.0
            } else {
                drifted_columns.len() as f64 / tested as f64
            },
            drifted_columns,
        },
        columns,
    }
}
