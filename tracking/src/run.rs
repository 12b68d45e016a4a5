//! One MLflow run per `repro` that trained or evaluated: what is logged (params, metrics with a
//! `step` per candidate, tags, artifacts), collected from the pipeline's artifacts, and the
//! sequence of REST calls that logs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netsec_stages::{CvReport, MetricsReport, ModelBundle, Promotion};
use serde::de::DeserializeOwned;

use crate::client::{Metric, MlflowClient, RunHandle};
use crate::config::TrackingConfig;
use crate::error::{Result, TrackingError};

/// Where the ML artifacts are, relative to the repository root (the repository's pipeline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactPaths {
    pub metrics: PathBuf,
    pub promotion: PathBuf,
    pub cv: PathBuf,
    pub bundle: PathBuf,
    pub validation: PathBuf,
    pub plots: PathBuf,
}

impl Default for ArtifactPaths {
    fn default() -> Self {
        ArtifactPaths {
            metrics: "artifacts/evaluate/metrics.json".into(),
            promotion: "artifacts/evaluate/promotion.json".into(),
            cv: "artifacts/train/cv.json".into(),
            bundle: "final_model/bundle.json".into(),
            validation: "artifacts/validate/report.yaml".into(),
            plots: "artifacts/evaluate/plots".into(),
        }
    }
}

/// What the caller (the binary) knows besides the artifacts.
#[derive(Debug, Clone, Default)]
pub struct RunContext {
    pub root: PathBuf,
    pub paths: ArtifactPaths,
    /// Stages that ran in this repro, in order.
    pub stages_ran: Vec<String>,
    /// Tracked params of the stages (flat dotted keys → JSON value), from the lock.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Digests of the pipeline's source data files (deps no stage produces), from the lock.
    pub sources: BTreeMap<String, String>,
    pub netsec_version: String,
}

/// Everything one run logs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunRecord {
    pub params: Vec<(String, String)>,
    pub metrics: Vec<Metric>,
    pub tags: Vec<(String, String)>,
    /// `(artifact path in the run, file)`.
    pub artifacts: Vec<(String, PathBuf)>,
}

pub(crate) fn read_opt<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| TrackingError::Artifact {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TrackingError::Read {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl RunRecord {
    /// Reads the artifacts under `ctx.root`; missing ones are left out.
    pub fn collect(ctx: &RunContext) -> Result<RunRecord> {
        let at = |p: &Path| ctx.root.join(p);
        let metrics: Option<MetricsReport> = read_opt(&at(&ctx.paths.metrics))?;
        let cv: Option<CvReport> = match &metrics {
            Some(m) => Some(m.cv.clone()),
            None => read_opt(&at(&ctx.paths.cv))?,
        };
        let promotion: Option<Promotion> = read_opt(&at(&ctx.paths.promotion))?;
        let bundle: Option<ModelBundle> = read_opt(&at(&ctx.paths.bundle))?;
        let mut rec = RunRecord::default();

        for (k, v) in &ctx.params {
            rec.params.push((k.clone(), scalar(v)));
        }
        if let Some(cv) = &cv {
            if let Some(row) = cv.table.get(cv.chosen) {
                rec.params.push(("model".into(), row.model.clone()));
                if let Ok(serde_json::Value::Object(hp)) = serde_json::to_value(&row.params) {
                    for (k, v) in hp {
                        rec.params.push((format!("model.{k}"), scalar(&v)));
                    }
                }
            }
            // Candidate i is logged at step i: this param tells which model a step is.
            for (i, row) in cv.table.iter().enumerate() {
                rec.params
                    .push((format!("candidate.{i}"), row.model.clone()));
                let m = |key: &str, value: f64| Metric {
                    key: format!("candidate_cv_{key}"),
                    value,
                    step: i as i64,
                };
                rec.metrics.extend([
                    m("f1", row.f1_mean),
                    m("f1_std", row.f1_std),
                    m("precision", row.precision_mean),
                    m("recall", row.recall_mean),
                    m("accuracy", row.accuracy_mean),
                    m("roc_auc", row.roc_auc_mean),
                ]);
            }
            if let Some(row) = cv.table.get(cv.chosen) {
                let m = |key: &str, value: f64| Metric {
                    key: format!("cv_{key}"),
                    value,
                    step: 0,
                };
                rec.metrics.extend([
                    m("f1", row.f1_mean),
                    m("precision", row.precision_mean),
                    m("recall", row.recall_mean),
                    m("accuracy", row.accuracy_mean),
                    m("roc_auc", row.roc_auc_mean),
                ]);
            }
            rec.metrics.push(Metric {
                key: "train_f1".into(),
                value: cv.train_f1,
                step: 0,
            });
            rec.metrics.push(Metric {
                key: "overfit_gap".into(),
                value: cv.gap,
                step: 0,
            });
        }
        if let Some(m) = &metrics {
            let t = &m.test;
            let mut push = |key: &str, value: f64| {
                rec.metrics.push(Metric {
                    key: format!("test_{key}"),
                    value,
                    step: 0,
                })
            };
            push("f1", t.f1);
            push("precision", t.precision);
            push("recall", t.recall);
            push("accuracy", t.accuracy);
            push("legitimate_f1", t.legitimate_f1);
            if let Some(a) = t.roc_auc {
                push("roc_auc", a);
            }
        }

        rec.tags
            .push(("netsec.version".into(), ctx.netsec_version.clone()));
        rec.tags
            .push(("mlflow.source.name".into(), "netsec repro".into()));
        rec.tags
            .push(("netsec.stages_ran".into(), ctx.stages_ran.join(",")));
        if let Some(c) = netsec_common::git::commit(&ctx.root) {
            rec.tags
                .push(("mlflow.source.git.commit".into(), c.clone()));
            rec.tags.push(("git.commit".into(), c));
        }
        if let Some(p) = &promotion {
            rec.tags.push(("promoted".into(), p.promoted.to_string()));
            rec.tags.push((
                "promotion.reason".into(),
                p.reason.chars().take(5000).collect(),
            ));
        }
        if let Some(b) = &bundle {
            rec.tags.push((
                "training_data_digest".into(),
                b.training_data_digest.clone(),
            ));
        }
        let mut dataset = None;
        for (path, digest) in &ctx.sources {
            rec.tags.push((format!("dataset.{path}"), digest.clone()));
            if path.ends_with(".csv") && dataset.is_none() {
                dataset = Some(digest.clone());
            }
        }
        if let Some(d) = dataset.or_else(|| bundle.as_ref().map(|b| b.training_data_digest.clone()))
        {
            rec.tags.push(("dataset.digest".into(), d));
        }

        for p in [
            &ctx.paths.bundle,
            &ctx.paths.metrics,
            &ctx.paths.promotion,
            &ctx.paths.cv,
            &ctx.paths.validation,
        ] {
            let file = at(p);
            if file.is_file() {
                rec.artifacts
                    .push((p.to_string_lossy().replace('\\', "/"), file));
            }
        }
        let plots = at(&ctx.paths.plots);
        if let Ok(rd) = std::fs::read_dir(&plots) {
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for f in files {
                if let Some(name) = f.file_name().and_then(|n| n.to_str()) {
                    rec.artifacts.push((format!("plots/{name}"), f.clone()));
                }
            }
        }
        Ok(rec)
    }
}

/// Logs `record` as a new run of `cfg.experiment` named `run_name`; returns the run.
/// A failure after the run was created marks it FAILED (best effort) before returning the error.
pub fn log_run(
    cfg: &TrackingConfig,
    run_name: &str,
    record: &RunRecord,
    now_ms: i64,
) -> Result<RunHandle> {
    let client = MlflowClient::new(cfg);
    let exp = client.experiment_id(&cfg.experiment)?;
    let run = client.create_run(&exp, run_name, now_ms)?;
    let body = || -> Result<()> {
        client.log_batch(
            &run.run_id,
            &record.params,
            &record.metrics,
            &record.tags,
            now_ms,
        )?;
        for (rel, file) in &record.artifacts {
            let bytes = std::fs::read(file).map_err(|e| TrackingError::Read {
                path: file.clone(),
                source: e,
            })?;
            client.put_artifact(&run, rel, &bytes)?;
        }
        Ok(())
    };
    match body() {
        Ok(()) => {
            client.finish_run(&run.run_id, true, now_ms)?;
            Ok(run)
        }
        Err(e) => {
            let _ = client.finish_run(&run.run_id, false, now_ms);
            Err(e)
        }
    }
}
