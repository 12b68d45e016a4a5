//! `uses = "ingest"`: raw CSV → feature store + duplicate-aware train/test split.

use netsec::{Builtin, BuiltinContext, BuiltinError};
use netsec_stages::{IngestConfig, SourceKind};

use super::support::{arg, known_args, schema, section, stage_error};

pub struct Ingest;

impl Builtin for Ingest {
    fn id(&self) -> &'static str {
        "ingest"
    }
    fn version(&self) -> u32 {
        1
    }
    fn summary(&self) -> &'static str {
        "read the raw data; write feature_store.csv, train.csv, test.csv and split.json"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        known_args(with, &["input", "schema", "output"])
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let cfg: IngestConfig = section(ctx, "ingest")?;
        if cfg.source == SourceKind::Mongodb {
            return Err(BuiltinError::failed(format!(
                "stage `{}`: `ingest.source = \"mongodb\"` is not available in this build",
                ctx.stage()
            ))
            .with_hint("use `source = \"csv\"` with a CSV export of the collection"));
        }
        let schema = schema(ctx)?;
        let input = ctx.input(arg(ctx, "input", "data/phisingData.csv")?)?;
        let out = ctx.output(arg(ctx, "output", "artifacts/ingest")?)?;
        let report = netsec_stages::ingest(&cfg, &input, &schema, &out).map_err(stage_error)?;
        ctx.progress(&format!(
            "{} rows → {} train / {} test, {} test rows also in train",
            report.rows, report.train_rows, report.test_rows, report.leak_check.test_rows_in_train
        ));
        Ok(())
    }
}
