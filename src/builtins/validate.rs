//! `uses = "validate"`: schema checks and KS drift; rejected data exits 4 with the report written.

use netsec_engine::{Builtin, BuiltinContext, BuiltinError};
use netsec_stages::{Decision, ValidateConfig};

use super::support::{arg, check_section, input_in, known_args, schema, section, stage_error};

pub struct Validate;

impl Builtin for Validate {
    fn id(&self) -> &'static str {
        "validate"
    }
    fn version(&self) -> u32 {
        // 2: a column drifts only when D ≥ min_effect too; PSI per column; fail_on = any.
        2
    }
    fn summary(&self) -> &'static str {
        "check train/test against schema.yaml and test drift (KS statistic and p-value, PSI); write report.yaml"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        known_args(with, &["input", "schema", "reference", "output"])
    }
    fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        check_section::<ValidateConfig>(params, "validate")?;
        Ok(())
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let cfg: ValidateConfig = section(ctx, "validate")?;
        let schema = schema(ctx)?;
        let train = input_in(ctx, "input", "artifacts/ingest", "train.csv")?;
        let test = input_in(ctx, "input", "artifacts/ingest", "test.csv")?;
        let reference = match ctx.args().get("reference") {
            Some(_) => Some(ctx.input(arg(ctx, "reference", "")?)?),
            None => None,
        };
        let out = ctx.output(arg(ctx, "output", "artifacts/validate")?)?;
        let report =
            netsec_stages::validate(&cfg, &train, &test, reference.as_deref(), &schema, &out)
                .map_err(stage_error)?;
        let s = &report.summary;
        if s.decision == Decision::Rejected {
            // validate() reports rejection as an error; this is a second line of defence.
            return Err(BuiltinError::rejected(format!(
                "stage `{}`: data rejected",
                ctx.stage()
            )));
        }
        ctx.progress(&format!(
            "schema ok; {} of {} column tests drift (p < {}, D ≥ {})",
            s.drifted, s.columns_tested, cfg.drift_alpha, cfg.min_effect
        ));
        Ok(())
    }
}
