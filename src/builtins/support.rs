//! What every ML adapter needs: typed params and `with` arguments out of the engine's context,
//! and `StageError` → `BuiltinError` with the right exit code.

use std::path::PathBuf;

use netsec_engine::{BuiltinContext, BuiltinError};
use netsec_stages::{
    CompareConfig, ErrorKind, EvaluateConfig, IngestConfig, Schema, SelectConfig, StageError,
    TransformConfig, ValidateConfig,
};
use serde::de::DeserializeOwned;

/// A params section's config struct with its range checks: the failing field and why.
pub trait Checked {
    fn check(&self) -> Result<(), (String, String)>;
}

fn stage_check(r: netsec_stages::Result<()>) -> Result<(), (String, String)> {
    r.map_err(|e| match e {
        StageError::Config { key, message } => (key, message),
        other => (String::new(), other.to_string()),
    })
}

impl Checked for SelectConfig {
    fn check(&self) -> Result<(), (String, String)> {
        self.validate().map_err(|e| match e {
            netsec_stages::ModelError::BadConfig { key, reason } => (key.to_string(), reason),
            other => (String::new(), other.to_string()),
        })
    }
}

macro_rules! checked_by_validate {
    ($($t:ty),*) => {$(
        impl Checked for $t {
            fn check(&self) -> Result<(), (String, String)> {
                stage_check(self.validate())
            }
        }
    )*};
}
checked_by_validate!(
    IngestConfig,
    ValidateConfig,
    TransformConfig,
    CompareConfig,
    EvaluateConfig
);

/// `value` as the config `T` of section `name`, range-checked: the message names the key
/// (`train.folds`) and its allowed range.
fn convert<T: DeserializeOwned + Checked>(
    value: &serde_json::Value,
    name: &str,
) -> Result<T, String> {
    let cfg: T =
        serde_json::from_value(value.clone()).map_err(|e| format!("param `{name}`: {e}"))?;
    cfg.check().map_err(|(key, message)| {
        if key.is_empty() {
            format!("param `{name}`: {message}")
        } else {
            format!("param `{name}.{key}` {message}")
        }
    })?;
    Ok(cfg)
}

/// The section `name` of the tracked params, deserialized with the config's own defaults.
///
/// A built-in only sees the keys its stage tracks, so a key that is not tracked takes its
/// default here: the fingerprint and the behaviour can never disagree.
pub fn section<T: DeserializeOwned + Default + Checked>(
    ctx: &BuiltinContext<'_>,
    name: &str,
) -> Result<T, BuiltinError> {
    match ctx.params().get(name) {
        None => Ok(T::default()),
        Some(value) => convert(value, name).map_err(|e| {
            BuiltinError::failed(format!("stage `{}`: {e}", ctx.stage()))
                .with_hint(format!("see the `[params.{name}]` table of pipeline.toml"))
        }),
    }
}

/// Load-time check that the section `name` of `params` deserializes into `T` (the same
/// conversion [`section`] does at run time) and passes its range checks, so a typo or an
/// impossible value (`train.folds = 0`) fails before any stage runs.
pub fn check_section<T: DeserializeOwned + Checked>(
    params: &serde_json::Value,
    name: &str,
) -> Result<(), String> {
    match params.get(name) {
        None => Ok(()),
        Some(value) => convert::<T>(value, name).map(|_| ()),
    }
}

/// A string argument of `with`, or its default.
pub fn arg<'a>(
    ctx: &'a BuiltinContext<'_>,
    key: &str,
    default: &'a str,
) -> Result<&'a str, BuiltinError> {
    match ctx.args().get(key) {
        None => Ok(default),
        Some(toml::Value::String(s)) => Ok(s.as_str()),
        Some(other) => Err(BuiltinError::failed(format!(
            "stage `{}`: `with.{key}` must be a string path, not {}",
            ctx.stage(),
            other.type_str()
        ))),
    }
}

/// Checks that every key of `with` is one the built-in knows (called at parse time).
pub fn known_args(with: &toml::Table, known: &[&str]) -> Result<(), String> {
    for (key, value) in with {
        if !known.contains(&key.as_str()) {
            return Err(format!(
                "unknown argument `with.{key}`; known: {}",
                known.join(", ")
            ));
        }
        if !value.is_str() {
            return Err(format!("`with.{key}` must be a string path"));
        }
    }
    Ok(())
}

/// Loads the schema named by `with.schema` (a declared dep).
pub fn schema(ctx: &BuiltinContext<'_>) -> Result<Schema, BuiltinError> {
    let path = ctx.input(arg(ctx, "schema", "schema.yaml")?)?;
    Schema::load(&path).map_err(stage_error)
}

/// A file inside a declared dep directory named by `with.<key>`.
pub fn input_in(
    ctx: &BuiltinContext<'_>,
    key: &str,
    default_dir: &str,
    file: &str,
) -> Result<PathBuf, BuiltinError> {
    let dir = arg(ctx, key, default_dir)?.trim_end_matches('/');
    ctx.input(&format!("{dir}/{file}"))
}

/// Maps a data-stage failure to the engine's error kinds: rejected data exits 4, I/O exits 5,
/// anything else fails the stage (exit 1).
pub fn stage_error(err: StageError) -> BuiltinError {
    let hint = err.hint();
    let message = err.to_string();
    let out = match err.kind() {
        ErrorKind::Rejected => BuiltinError::rejected(message),
        ErrorKind::Io => BuiltinError::io(message),
        ErrorKind::Invalid => BuiltinError::failed(message),
    };
    match hint {
        Some(h) => out.with_hint(h),
        None => out,
    }
}
