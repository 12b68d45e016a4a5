//! `uses = "transform"`: KNN imputer fitted on train; features + {0,1} label (phishing = 1) as .npy.

use netsec_engine::{Builtin, BuiltinContext, BuiltinError};
use netsec_stages::TransformConfig;

use super::support::{arg, check_section, input_in, known_args, schema, section, stage_error};

pub struct Transform;

impl Builtin for Transform {
    fn id(&self) -> &'static str {
        "transform"
    }
    fn version(&self) -> u32 {
        1
    }
    fn summary(&self) -> &'static str {
        "fit the KNN imputer on train; write train.npy, test.npy and preprocessor.json"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        known_args(with, &["input", "schema", "output"])
    }
    fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        check_section::<TransformConfig>(params, "transform")?;
        Ok(())
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let cfg: TransformConfig = section(ctx, "transform")?;
        let schema = schema(ctx)?;
        let train = input_in(ctx, "input", "artifacts/ingest", "train.csv")?;
        let test = input_in(ctx, "input", "artifacts/ingest", "test.csv")?;
        let out = ctx.output(arg(ctx, "output", "artifacts/transform")?)?;
        let report =
            netsec_stages::transform(&cfg, &train, &test, &schema, &out).map_err(stage_error)?;
        ctx.progress(&format!(
            "{} train / {} test rows, {} missing cells imputed",
            report.train_rows,
            report.test_rows,
            report.train_missing_cells + report.test_missing_cells
        ));
        Ok(())
    }
}
