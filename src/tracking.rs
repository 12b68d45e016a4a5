//! After `repro`: record stage timings in `.netsec/state/timings.json` and, when the train or
//! evaluate built-in ran, log an MLflow run (netsec-tracking). The engine knows neither; this
//! module gathers what the engine knows (lock params, source-data digests) for the tracking crate.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use netsec_engine::pipeline::Action;
use netsec_engine::{Lockfile, Outcome, Repo, ReproResult};
use netsec_tracking::{
    log_run, redact, ArtifactPaths, RunContext, RunRecord, StageTiming, Timings, TrackingConfig,
};

use crate::render::Ui;

/// Built-ins whose run is worth an MLflow run.
const TRACKED_BUILTINS: &[&str] = &["train", "evaluate"];

/// Writes the timings side file (a failure only warns: timings are informational). A stage
/// this repro did not run keeps its entry from an earlier repro, so the file always tells how
/// long each stage took the last time it ran.
pub fn record_timings(ui: &Ui, repo: &Repo, result: &ReproResult) {
    let previous = Timings::load(&repo.root).ok().flatten().unwrap_or_default();
    // By name, once: looking each stage up in the list would be quadratic in the stages.
    let mut by_stage: HashMap<&str, &StageTiming> = HashMap::new();
    for t in &previous.stages {
        by_stage.entry(t.stage.as_str()).or_insert(t);
    }
    // Nothing ran and the stages are the ones recorded: the last measured timings stay as they
    // are (a no-op run of 10,000 stages would otherwise rewrite them all).
    let idle = |o: Outcome| matches!(o, Outcome::Skipped | Outcome::Frozen | Outcome::NotRun);
    if result.reports.len() == previous.stages.len()
        && result
            .reports
            .iter()
            .all(|r| idle(r.outcome) && by_stage.contains_key(r.stage.as_str()))
    {
        return;
    }
    let timings = Timings {
        version: 1,
        finished_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        stages: result
            .reports
            .iter()
            .map(|r| match by_stage.get(r.stage.as_str()) {
                Some(&p)
                    if matches!(
                        r.outcome,
                        Outcome::Skipped | Outcome::Frozen | Outcome::NotRun
                    ) =>
                {
                    p.clone()
                }
                _ => StageTiming {
                    stage: r.stage.clone(),
                    outcome: serde_json::to_value(r.outcome)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    duration_ms: r.duration_ms,
                },
            })
            .collect(),
    };
    if let Err(e) = timings.save(&repo.root) {
        ui.warn(&format!("cannot record stage timings: {e}"));
    }
}

/// Logs the MLflow run when tracking is configured and an ML stage ran; returns the exit code
/// to use instead of 0 (5 when `tracking.required = true` and tracking failed).
pub fn track(ui: &Ui, repo: &Repo, result: &ReproResult) -> i32 {
    let ran: Vec<&str> = result
        .reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Ran | Outcome::Restored))
        .map(|r| r.stage.as_str())
        .collect();
    let is_ml = |name: &str| {
        repo.pipeline.stage(name).is_some_and(|s| {
            matches!(&s.action, Action::Builtin { id, .. } if TRACKED_BUILTINS.contains(&id.as_str()))
        })
    };
    if !ran.iter().any(|s| is_ml(s)) {
        return 0;
    }
    let cfg = match TrackingConfig::resolve(repo.pipeline.tables.get("tracking"), &repo.env) {
        Ok(Some(c)) => c,
        Ok(None) => return 0,
        Err(e) => {
            ui.warn(&format!("MLflow tracking skipped: {e}"));
            return 0;
        }
    };
    let outcome = context(repo, &ran).and_then(|ctx| {
        let record = RunRecord::collect(&ctx)?;
        let now = SystemTime::now();
        let ms = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let name = format!(
            "{}@{}",
            ran.join("+"),
            humantime::format_rfc3339_seconds(now)
        );
        log_run(&cfg, &name, &record, ms)
    });
    match outcome {
        Ok(run) => {
            ui.status(
                "Tracked",
                "32",
                &format!(
                    "MLflow run {} in experiment `{}` at {}",
                    run.run_id,
                    cfg.experiment,
                    redact(&cfg.uri)
                ),
            );
            0
        }
        Err(e) if cfg.required => {
            ui.error_text(
                &format!("MLflow tracking failed (tracking.required = true): {e}"),
                e.hint().as_deref(),
            );
            netsec_engine::exit::IO
        }
        Err(e) => {
            ui.warn(&format!(
                "MLflow tracking failed, the pipeline result stands: {e}"
            ));
            0
        }
    }
}

/// The tracking context from the repository and its lock: tracked params of the built-in
/// stages and the digests of source data (deps no stage produces).
fn context(repo: &Repo, ran: &[&str]) -> netsec_tracking::Result<RunContext> {
    {
        let lock = repo
            .load_lock()
            .map_err(|e| netsec_tracking::TrackingError::Artifact {
                path: Lockfile::path(&repo.root),
                message: e.to_string(),
            })?;
        let outs: Vec<_> = repo
            .pipeline
            .stages
            .values()
            .flat_map(|s| s.out_paths())
            .collect();
        let mut params = BTreeMap::new();
        let mut sources = BTreeMap::new();
        for (name, entry) in &lock.stages {
            let builtin = repo
                .pipeline
                .stage(name)
                .is_some_and(|s| matches!(s.action, Action::Builtin { .. }));
            if builtin {
                for (k, v) in &entry.fingerprint.params {
                    params.insert(k.clone(), v.clone());
                }
            }
            // A dep no stage produces is source data (the CSV, schema.yaml).
            for (dep, rec) in &entry.fingerprint.deps {
                if !outs.iter().any(|o| dep.is_within(o)) {
                    sources.insert(dep.as_str().to_string(), rec.digest.to_string());
                }
            }
        }
        Ok(RunContext {
            root: repo.root.clone(),
            paths: ArtifactPaths::default(),
            stages_ran: ran.iter().map(|s| s.to_string()).collect(),
            params,
            sources,
            netsec_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }
}
