//! `uses = "compare"`: the same protocol on the template's random split, for comparison only.

use netsec_engine::{Builtin, BuiltinContext, BuiltinError};
use netsec_stages::{CompareConfig, SelectConfig, TransformConfig};

use super::support::{arg, check_section, input_in, known_args, schema, section, stage_error};

pub struct Compare;

impl Builtin for Compare {
    fn id(&self) -> &'static str {
        "compare"
    }
    fn version(&self) -> u32 {
        // 2: the learners and grids of train version 2. 3: those of train version 3, and test
        // scored at the CV threshold.
        3
    }
    fn summary(&self) -> &'static str {
        "rerun split, imputation and CV selection on a second split (default: random 80/20, seed 42)"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        known_args(with, &["input", "schema", "output"])
    }
    fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        check_section::<CompareConfig>(params, "compare")?;
        check_section::<SelectConfig>(params, "train")?;
        check_section::<TransformConfig>(params, "transform")?;
        Ok(())
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let cfg: CompareConfig = section(ctx, "compare")?;
        let select: SelectConfig = section(ctx, "train")?;
        let transform: TransformConfig = section(ctx, "transform")?;
        let schema = schema(ctx)?;
        let store = input_in(ctx, "input", "artifacts/ingest", "feature_store.csv")?;
        let out = ctx.output(arg(ctx, "output", "artifacts/compare")?)?;
        let report = netsec_stages::compare(&cfg, &select, &transform, &store, &schema, &out)
            .map_err(stage_error)?;
        ctx.progress(&format!(
            "{:?} split: `{}` test F1 {:.4}, {} of {} test rows also in train",
            cfg.split,
            report.model,
            report.test.f1,
            report.summary.leak_check.test_rows_in_train,
            report.summary.test_rows
        ));
        Ok(())
    }
}
