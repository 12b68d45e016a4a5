//! `uses = "evaluate"`: one test score, metrics.json, and the promotion decision for final_model/.

use netsec_engine::{Builtin, BuiltinContext, BuiltinError};
use netsec_stages::{EvaluateConfig, EvaluateInputs, EvaluateOutputs};

use super::support::{arg, check_section, input_in, known_args, schema, section, stage_error};

pub struct Evaluate;

const ARGS: &[&str] = &[
    "transform",
    "train",
    "compare",
    "validate",
    "schema",
    "metrics",
    "promotion",
    "model",
    "plots",
];

impl Builtin for Evaluate {
    fn id(&self) -> &'static str {
        "evaluate"
    }
    fn version(&self) -> u32 {
        // 2: writes the evaluation plots. 3: test scored at the CV threshold, which the bundle
        // records; calibration (Brier, reliability) in metrics.json. 4: the ROC, PR and CV
        // plot data as CSV beside the images (declared as `[plots.NAME]`). 5: `refit_all`
        // (promotion.json and the bundle may record a refit on train + test).
        5
    }
    fn summary(&self) -> &'static str {
        "score the chosen model on test once; write metrics.json; promote it into final_model/"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        known_args(with, ARGS)
    }
    fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        check_section::<EvaluateConfig>(params, "evaluate")?;
        Ok(())
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let cfg: EvaluateConfig = section(ctx, "evaluate")?;
        let schema = schema(ctx)?;
        let test_npy = input_in(ctx, "transform", "artifacts/transform", "test.npy")?;
        let model_json = input_in(ctx, "train", "artifacts/train", "model.json")?;
        // The comparison and the validation summary are optional: used when declared as deps.
        let compare = optional_input(ctx, "compare", "artifacts/compare", "metrics.json")?;
        let validate = optional_input(ctx, "validate", "artifacts/validate", "report.yaml")?;
        let model_dir = arg(ctx, "model", "final_model")?;
        let inputs = EvaluateInputs {
            transform_dir: parent(&test_npy),
            train_dir: parent(&model_json),
            compare_metrics: compare,
            validate_report: validate,
            schema: &schema,
            current_bundle: ctx.current(model_dir)?,
            netsec_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: created_at(ctx)?,
            params: ctx.params().clone(),
        };
        let outputs = EvaluateOutputs {
            metrics_json: ctx.output(arg(ctx, "metrics", "artifacts/evaluate/metrics.json")?)?,
            promotion_json: ctx.output(arg(
                ctx,
                "promotion",
                "artifacts/evaluate/promotion.json",
            )?)?,
            bundle_dir: ctx.output(model_dir)?,
        };
        // Plots go to `plots` (default artifacts/evaluate/plots) when that is a declared out;
        // a pipeline that does not declare it gets no plots rather than an error.
        let plots_dir = match ctx.output(arg(ctx, "plots", "artifacts/evaluate/plots")?) {
            Ok(dir) => Some(dir),
            Err(_) if ctx.args().get("plots").is_none() => None,
            Err(e) => return Err(e),
        };
        let report =
            netsec_stages::evaluate_with_plots(&cfg, inputs, outputs, plots_dir.as_deref())
                .map_err(stage_error)?;
        let t = &report.metrics.test;
        let outcome = match (&report.promotion.refit, report.promotion.promoted) {
            (Some(r), _) => format!("promoted, refitted on train + test ({} rows)", r.rows),
            (None, true) => "promoted".to_string(),
            (None, false) => "not promoted".to_string(),
        };
        ctx.progress(&format!(
            "`{}` test F1 {:.4}, ROC-AUC {}, {}: {}",
            report.metrics.model,
            t.f1,
            t.roc_auc.map_or("n/a".to_string(), |a| format!("{a:.4}")),
            outcome,
            report.promotion.reason
        ));
        Ok(())
    }
}

/// The bundle's creation time: `SOURCE_DATE_EPOCH` (Unix seconds) when set, else none. A
/// wall-clock time inside the bundle would change its digest on every run, so an unchanged
/// retrain could never look unchanged; without the variable the time the bundle was written
/// is its file's mtime (what `netsec serve`'s model card shows).
fn created_at(ctx: &BuiltinContext<'_>) -> Result<Option<String>, BuiltinError> {
    let Some(v) = ctx
        .env("SOURCE_DATE_EPOCH")
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let secs: u64 = v.trim().parse().map_err(|_| {
        BuiltinError::failed(format!(
            "SOURCE_DATE_EPOCH=`{v}` is not a number of seconds"
        ))
        .with_hint("set it to a Unix time such as `$(git log -1 --format=%ct)`, or unset it")
    })?;
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    Ok(Some(humantime::format_rfc3339_seconds(t).to_string()))
}

/// `dir/file` when that path is a declared dep, `None` when it is not declared.
fn optional_input(
    ctx: &BuiltinContext<'_>,
    key: &str,
    default_dir: &str,
    file: &str,
) -> Result<Option<std::path::PathBuf>, BuiltinError> {
    match input_in(ctx, key, default_dir, file) {
        Ok(p) => Ok(p.exists().then_some(p)),
        Err(_) if ctx.args().get(key).is_none() => Ok(None),
        Err(e) => Err(e),
    }
}

fn parent(p: &std::path::Path) -> std::path::PathBuf {
    p.parent().map(ToOwned::to_owned).unwrap_or_default()
}
