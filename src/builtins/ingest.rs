//! `uses = "ingest"`: raw rows (a CSV file, or a MongoDB collection) → feature store + a
//! duplicate-aware train/test split.

use std::time::Instant;

use netsec_engine::{Builtin, BuiltinContext, BuiltinError};
use netsec_mongo::MongoSource;
use netsec_stages::{IngestConfig, Problem, SourceKind, StageError};

use super::support::{arg, check_section, known_args, schema, section, stage_error};

pub struct Ingest;

impl Builtin for Ingest {
    fn id(&self) -> &'static str {
        "ingest"
    }
    fn version(&self) -> u32 {
        1
    }
    fn summary(&self) -> &'static str {
        "read the raw data (CSV or MongoDB); write feature_store.csv, train.csv, test.csv and split.json"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        known_args(with, &["input", "schema", "output"])
    }
    /// A database cannot be fingerprinted before it is read: a MongoDB ingest runs on every
    /// `repro`, and early cut-off skips downstream stages when it wrote the same bytes.
    fn always_changed(&self, params: &serde_json::Value) -> bool {
        params.pointer("/ingest/source").and_then(|v| v.as_str()) == Some("mongodb")
    }
    fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        check_section::<IngestConfig>(params, "ingest")?;
        Ok(())
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let cfg: IngestConfig = section(ctx, "ingest")?;
        let schema = schema(ctx)?;
        let out = ctx.output(arg(ctx, "output", "artifacts/ingest")?)?;
        let started = Instant::now();
        let report = match cfg.source {
            SourceKind::Csv => {
                let input = ctx.input(arg(ctx, "input", "data/phisingData.csv")?)?;
                netsec_stages::ingest(&cfg, &input, &schema, &out).map_err(stage_error)?
            }
            SourceKind::Mongodb => {
                // No `input` dep: the rows come from the database.
                let Some(mongo) = cfg.mongodb.as_ref() else {
                    return Err(BuiltinError::failed(format!(
                        "stage `{}`: `ingest.source = \"mongodb\"` needs a `[params.ingest.mongodb]` table",
                        ctx.stage()
                    ))
                    .with_hint(
                        "add `database` and `collection` there, and track `ingest.mongodb` in the stage's `params`",
                    ));
                };
                let env = |name: &str| ctx.env(name).map(str::to_string);
                let mut source = MongoSource::from_env(mongo, &env, &schema).map_err(|e| {
                    let hint = e.hint();
                    let err = stage_error(e.into_stage_error(&mongo.namespace()));
                    let err = BuiltinError {
                        message: format!("stage `{}`: {}", ctx.stage(), err.message),
                        ..err
                    };
                    match hint {
                        Some(h) => err.with_hint(h),
                        None => err,
                    }
                })?;
                ctx.progress(&format!("reading {}", source.location()));
                let result = netsec_stages::ingest_from(&cfg, &mut source, &schema, &out);
                result.map_err(|e| empty_collection(e, &source, mongo.query.is_some()))?
            }
        };
        ctx.progress(&format!(
            "{} rows → {} train / {} test, {} test rows also in train ({:.2} s)",
            report.rows,
            report.train_rows,
            report.test_rows,
            report.leak_check.test_rows_in_train,
            started.elapsed().as_secs_f64()
        ));
        Ok(())
    }
}

/// A collection with no (matching) documents reads as "a header but no data rows", which is
/// file talk: say it in database terms. Other errors pass through.
fn empty_collection(e: StageError, source: &MongoSource, filtered: bool) -> BuiltinError {
    if let StageError::Data { problems, .. } = &e {
        if problems == &[Problem::HeaderOnly] {
            return BuiltinError::rejected(format!(
                "`{}` has no documents{}",
                source.location(),
                if filtered { " matching the query" } else { "" }
            ))
            .with_hint(
                "load it with `netsec db load`, or check `database`, `collection` and `query`",
            );
        }
    }
    stage_error(e)
}
