//! The `validate` stage: schema checks of train/test (and a reference dataset), drift per column
//! (KS statistic and p-value, PSI; see [`crate::drift`]), and a decision. `report.yaml` is written in every case, also when the data is rejected.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::drift::{compare, DriftComparison, DriftRule};
use crate::error::{Problem, Result, StageError};
use crate::frame::{Frame, LabelMode};
use crate::fsio::write_atomic;
use crate::schema::Schema;

/// When drift stops the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Report drift, never reject for it.
    Never,
    /// Reject when any column drifts (the default: a column drifts only when its shift is
    /// both significant and at least `min_effect`, so one drifting column is a real shift).
    #[default]
    Any,
    /// Reject when more than `max_drift_share` of the columns of a comparison drift.
    Share,
}

/// `params.validate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidateConfig {
    /// A column drifts only when its KS p-value is below this…
    pub drift_alpha: f64,
    /// …and its KS statistic D (the largest gap between the two CDFs) is at least this.
    pub min_effect: f64,
    pub fail_on: FailOn,
    pub max_drift_share: f64,
}

impl Default for ValidateConfig {
    fn default() -> Self {
        ValidateConfig {
            drift_alpha: 0.05,
            min_effect: 0.1,
            fail_on: FailOn::Any,
            max_drift_share: 0.2,
        }
    }
}

impl ValidateConfig {
    /// Range checks (`drift_alpha` strictly between 0 and 1, `max_drift_share` in [0, 1]);
    /// the error names the field.
    pub fn validate(&self) -> Result<()> {
        if !(self.drift_alpha > 0.0 && self.drift_alpha < 1.0) {
            return Err(StageError::Config {
                key: "drift_alpha".into(),
                message: format!(
                    "must lie strictly between 0 and 1, found {}",
                    self.drift_alpha
                ),
            });
        }
        if !(0.0..=1.0).contains(&self.max_drift_share) {
            return Err(StageError::Config {
                key: "max_drift_share".into(),
                message: format!("must lie in [0, 1], found {}", self.max_drift_share),
            });
        }
        if !(0.0..=1.0).contains(&self.min_effect) {
            return Err(StageError::Config {
                key: "min_effect".into(),
                message: format!(
                    "must lie in [0, 1] (a KS statistic), found {}",
                    self.min_effect
                ),
            });
        }
        Ok(())
    }

    /// The per-column drift rule.
    pub fn rule(&self) -> DriftRule {
        DriftRule {
            alpha: self.drift_alpha,
            min_effect: self.min_effect,
        }
    }
}

/// Accepted or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Accepted,
    Rejected,
}

/// One schema problem, as a sentence and as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemEntry {
    pub message: String,
    pub detail: Problem,
}

/// The schema check of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaCheck {
    pub file: String,
    /// Rows loaded (absent when the file was rejected).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rows: Option<usize>,
    pub problems: Vec<ProblemEntry>,
}

/// The overall outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationSummary {
    pub decision: Decision,
    pub reason: String,
    pub schema_problems: usize,
    pub comparisons: usize,
    pub columns_tested: usize,
    pub drifted: usize,
    /// The largest drifted share of any comparison.
    pub max_drifted_share: f64,
    pub fail_on: FailOn,
    pub max_drift_share: f64,
    pub drift_alpha: f64,
    pub min_effect: f64,
}

/// The content of `report.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub format: u32,
    pub summary: ValidationSummary,
    /// Keyed by role: `train`, `test`, `reference`.
    pub schema: BTreeMap<String, SchemaCheck>,
    /// Keyed by comparison: `train_vs_test`, `reference_vs_data`.
    pub drift: BTreeMap<String, DriftComparison>,
}

fn load(
    role: &str,
    path: &Path,
    schema: &Schema,
    labels: LabelMode,
    checks: &mut BTreeMap<String, SchemaCheck>,
) -> Result<Option<Frame>> {
    // Only the file name: the report is a hashed artifact and must not depend on where the
    // engine staged its inputs.
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match Frame::read_csv(path, schema, labels) {
        Ok(f) => {
            checks.insert(
                role.into(),
                SchemaCheck {
                    file,
                    rows: Some(f.n_rows()),
                    problems: vec![],
                },
            );
            Ok(Some(f))
        }
        Err(StageError::Data { problems, .. }) => {
            let problems = problems
                .into_iter()
                .map(|p| ProblemEntry {
                    message: p.to_string(),
                    detail: p,
                })
                .collect();
            checks.insert(
                role.into(),
                SchemaCheck {
                    file,
                    rows: None,
                    problems,
                },
            );
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Runs the stage and writes `out_dir/report.yaml`. A rejection (schema problems, or drift per
/// `cfg.fail_on`) returns `StageError::DataRejected` after the report is written.
pub fn validate(
    cfg: &ValidateConfig,
    train: &Path,
    test: &Path,
    reference: Option<&Path>,
    schema: &Schema,
    out_dir: &Path,
) -> Result<ValidationReport> {
    cfg.validate().map_err(|e| match e {
        StageError::Config { key, message } => StageError::Config {
            key: format!("validate.{key}"),
            message,
        },
        other => other,
    })?;
    let mut checks = BTreeMap::new();
    let tr = load("train", train, schema, LabelMode::Required, &mut checks)?;
    let te = load("test", test, schema, LabelMode::Required, &mut checks)?;
    let rf = match reference {
        Some(p) => load("reference", p, schema, LabelMode::Optional, &mut checks)?,
        None => None,
    };
    let mut drift = BTreeMap::new();
    if let (Some(tr), Some(te)) = (&tr, &te) {
        drift.insert(
            "train_vs_test".to_string(),
            compare("train", &[tr], "test", &[te], cfg.rule()),
        );
        if let Some(rf) = &rf {
            drift.insert(
                "reference_vs_data".to_string(),
                compare("reference", &[rf], "train+test", &[tr, te], cfg.rule()),
            );
        }
    }
    let summary = decide(cfg, &checks, &drift);
    let report = ValidationReport {
        format: 2,
        summary,
        schema: checks,
        drift,
    };
    let path = out_dir.join("report.yaml");
    let text = serde_norway::to_string(&report).map_err(|e| StageError::Artifact {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, text.as_bytes())?;
    if report.summary.decision == Decision::Rejected {
        return Err(StageError::DataRejected {
            report: path,
            summary: report.summary.reason.clone(),
        });
    }
    Ok(report)
}

fn decide(
    cfg: &ValidateConfig,
    checks: &BTreeMap<String, SchemaCheck>,
    drift: &BTreeMap<String, DriftComparison>,
) -> ValidationSummary {
    let schema_problems: usize = checks.values().map(|c| c.problems.len()).sum();
    let columns_tested = drift.values().map(|d| d.summary.columns_tested).sum();
    let drifted = drift.values().map(|d| d.summary.drifted).sum();
    let max_drifted_share = drift
        .values()
        .map(|d| d.summary.drifted_share)
        .fold(0.0, f64::max);
    let mut rejected_by: Vec<String> = Vec::new();
    for (name, d) in drift {
        let s = &d.summary;
        let trips = match cfg.fail_on {
            FailOn::Never => false,
            FailOn::Any => s.drifted > 0,
            FailOn::Share => s.drifted_share > cfg.max_drift_share,
        };
        if trips {
            rejected_by.push(format!(
                "{} of {} columns drift in {name} ({:.1}%: {})",
                s.drifted,
                s.columns_tested,
                100.0 * s.drifted_share,
                s.drifted_columns.join(", ")
            ));
        }
    }
    let (decision, reason) = if schema_problems > 0 {
        let files: Vec<String> = checks
            .iter()
            .filter(|(_, c)| !c.problems.is_empty())
            .map(|(_, c)| {
                let first = c
                    .problems
                    .first()
                    .map(|p| p.message.clone())
                    .unwrap_or_default();
                format!(
                    "`{}`: {} problem(s), first: {first}",
                    c.file,
                    c.problems.len()
                )
            })
            .collect();
        (
            Decision::Rejected,
            format!("schema check failed: {}", files.join("; ")),
        )
    } else if !rejected_by.is_empty() {
        let rule = match cfg.fail_on {
            FailOn::Any => "fail_on = any".to_string(),
            _ => format!("fail_on = share, max_drift_share = {}", cfg.max_drift_share),
        };
        (
            Decision::Rejected,
            format!(
                "drift (p < {}, D ≥ {}): {} [{rule}]",
                cfg.drift_alpha,
                cfg.min_effect,
                rejected_by.join("; ")
            ),
        )
    } else {
        (
            Decision::Accepted,
            format!("schema ok; {drifted} of {columns_tested} column tests drift (p < {}, D ≥ {}), within fail_on = {:?}", cfg.drift_alpha, cfg.min_effect, cfg.fail_on).replace("Share", "share").replace("Any", "any").replace("Never", "never"),
        )
    };
    ValidationSummary {
        decision,
        reason,
        schema_problems,
        comparisons: drift.len(),
        columns_tested,
        drifted,
        max_drifted_share,
        fail_on: cfg.fail_on,
        max_drift_share: cfg.max_drift_share,
        drift_alpha: cfg.drift_alpha,
        min_effect: cfg.min_effect,
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
