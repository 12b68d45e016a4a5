//! `netsec exp show --json`: one row per experiment, plus the workspace and `HEAD`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpKind {
    Workspace,
    Baseline,
    Experiment,
}

/// One row of `exp show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpRow {
    /// `workspace`, `HEAD`, or the experiment's name.
    pub name: String,
    pub kind: ExpKind,
    /// The commit: `HEAD`'s, or the experiment's base commit.
    pub rev: Option<String>,
    /// `queued | running | success | failed` for experiments, `-` for the other rows.
    pub status: String,
    /// Unix milliseconds.
    pub created_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    /// Tracked params, flat (`train.lr`, `params.yaml:train.lr`).
    pub params: BTreeMap<String, Value>,
    /// Metrics by `file:dotted.key`.
    pub metrics: BTreeMap<String, f64>,
    /// The `-S` values of an experiment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, Value>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One param or metric that differs (`exp diff`, `params diff`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueDiff {
    /// `param` or `metric`.
    pub kind: String,
    /// `train.lr`, `params.yaml:train.lr`, `metrics.json:test.f1`.
    pub key: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
    /// `new − old` when both are numbers.
    pub delta: Option<f64>,
}
