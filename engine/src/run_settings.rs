//! How a stage runs, as opposed to what it computes: `timeout`, `retries`, `resources` and
//! `executor` of a `[stages.NAME]` table, and the top-level `[executor]` table (also settable in
//! `.netsec/config.local.toml`). None of it enters the fingerprint: the same stage run locally
//! or on Slurm, with or without a retry, records the same lock entry.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use crate::manifest::RawRemote as RawTable;
use crate::pipeline::PipelineError;

/// Where stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecutorKind {
    /// Child processes (and in-process built-ins) of `netsec repro`.
    #[default]
    Local,
    /// One Slurm batch job per stage (`sbatch`), polled with `squeue`/`scontrol`.
    Slurm,
}

impl ExecutorKind {
    pub fn parse(s: &str) -> Option<ExecutorKind> {
        match s {
            "local" => Some(ExecutorKind::Local),
            "slurm" => Some(ExecutorKind::Slurm),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        }
    }
}

/// `resources = { cpus, mem, time, gpus }`: sbatch flags on Slurm; on the local executor `cpus`
/// is the stage's share of `-j`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub cpus: u32,
    /// As Slurm writes it: a number with an optional K/M/G/T suffix (`8G`).
    pub mem: Option<String>,
    pub time: Option<Duration>,
    pub gpus: u32,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            cpus: 1,
            mem: None,
            time: None,
            gpus: 0,
        }
    }
}

/// A stage's run settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSettings {
    /// Kill the stage (its process group, or its job) after this long; exit 1.
    pub timeout: Option<Duration>,
    /// Run a failed stage again, at most this many more times.
    pub retries: u32,
    pub resources: Resources,
    /// `executor = "local"` keeps one stage local under a Slurm run.
    pub executor: Option<ExecutorKind>,
}

/// The `[executor]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorConfig {
    pub kind: ExecutorKind,
    pub partition: Option<String>,
    pub account: Option<String>,
    pub qos: Option<String>,
    /// More sbatch arguments, passed as written (`["--constraint=avx2"]`).
    pub extra: Vec<String>,
    /// How often Slurm is asked about running jobs.
    pub poll: Duration,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            kind: ExecutorKind::Local,
            partition: None,
            account: None,
            qos: None,
            extra: Vec::new(),
            poll: Duration::from_secs(2),
        }
    }
}

/// The keys of `[executor]`.
pub const EXECUTOR_KEYS: &[&str] = &["kind", "partition", "account", "qos", "extra", "poll"];
const RESOURCE_KEYS: &[&str] = &["cpus", "mem", "time", "gpus"];

/// `30m`, `2s`, `1h30m`, `500ms`, `1d`: a positive duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("`{s}` is not a duration (write `90s`, `30m`, `1h30m`, `500ms`)");
    if t.is_empty() {
        return Err(bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = |k: u64| n.checked_mul(k).map(Duration::from_secs).ok_or_else(bad);
        total += match unit {
            "ms" => Duration::from_millis(n),
            "s" => secs(1)?,
            "m" => secs(60)?,
            "h" => secs(3600)?,
            "d" => secs(86_400)?,
            _ => return Err(bad()),
        };
    }
    if total.is_zero() {
        return Err(format!("`{s}` is zero; leave the key out for no limit"));
    }
    Ok(total)
}

/// A duration as the user would write it (`30m`, `1h5m`, `2s`, `1500ms`).
pub fn format_duration(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        return format!("{}ms", d.as_millis());
    }
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if sec > 0 {
        out.push_str(&format!("{sec}s"));
    }
    out
}

/// Errors are built by the caller, which knows the file.
type ErrAt<'a> = &'a dyn Fn(Range<usize>, String) -> PipelineError;

/// The run settings of stage `name` from its raw keys.
pub fn stage_settings(
    name: &str,
    timeout: Option<&Spanned<toml::Value>>,
    retries: Option<&Spanned<toml::Value>>,
    resources: Option<&Spanned<RawTable>>,
    executor: Option<&Spanned<String>>,
    err: ErrAt<'_>,
) -> Result<RunSettings, PipelineError> {
    let mut s = RunSettings::default();
    if let Some(t) = timeout {
        s.timeout = Some(duration_value(t, err, &format!("stage `{name}`: timeout"))?);
    }
    if let Some(r) = retries {
        s.retries = count(r, err, &format!("stage `{name}`: retries"), 0, 100)?;
    }
    if let Some(e) = executor {
        s.executor = Some(ExecutorKind::parse(e.get_ref()).ok_or_else(|| {
            err(
                e.span(),
                format!("stage `{name}`: unknown executor `{}`", e.get_ref()),
            )
            .with_hint("executor is \"local\" or \"slurm\"")
        })?);
    }
    if let Some(table) = resources {
        for (key, value) in table.get_ref() {
            let what = format!("stage `{name}`: resources.{}", key.get_ref());
            match key.get_ref().as_str() {
                "cpus" => s.resources.cpus = count(value, err, &what, 1, 4096)?,
                "gpus" => s.resources.gpus = count(value, err, &what, 0, 1024)?,
                "time" => s.resources.time = Some(duration_value(value, err, &what)?),
                "mem" => {
                    let m = match value.get_ref() {
                        toml::Value::String(m) => m.trim().to_string(),
                        toml::Value::Integer(n) if *n > 0 => format!("{n}M"),
                        _ => String::new(),
                    };
                    let digits = m.trim_end_matches(['K', 'M', 'G', 'T']);
                    let ok = !digits.is_empty()
                        && digits.len() + 1 >= m.len()
                        && digits.bytes().all(|b| b.is_ascii_digit())
                        && digits.parse::<u64>().is_ok_and(|n| n > 0);
                    if !ok {
                        return Err(err(value.span(), format!("{what}: `{}` is not a memory size", value.get_ref()))
                            .with_hint("write a number of megabytes or a size with K, M, G or T: `mem = \"8G\"`"));
                    }
                    s.resources.mem = Some(m);
                }
                other => {
                    return Err(unknown_key(
                        key.span(),
                        other,
                        RESOURCE_KEYS,
                        &format!("stage `{name}`: resources"),
                        err,
                    ))
                }
            }
        }
    }
    Ok(s)
}

/// The `[executor]` table (from pipeline.toml or the local config), laid over `base`.
pub fn executor_config(
    table: &Spanned<RawTable>,
    base: ExecutorConfig,
    err: ErrAt<'_>,
) -> Result<ExecutorConfig, PipelineError> {
    let mut c = base;
    for (key, value) in table.get_ref() {
        let what = format!("[executor] {}", key.get_ref());
        let text = |v: &Spanned<toml::Value>| match v.get_ref() {
            toml::Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(err(
                v.span(),
                format!("{what}: expected a non-empty string"),
            )),
        };
        match key.get_ref().as_str() {
            "kind" => {
                let k = text(value)?;
                c.kind = ExecutorKind::parse(&k).ok_or_else(|| {
                    err(value.span(), format!("{what}: unknown executor `{k}`"))
                        .with_hint("kind is \"local\" or \"slurm\"")
                })?;
            }
            "partition" => c.partition = Some(text(value)?),
            "account" => c.account = Some(text(value)?),
            "qos" => c.qos = Some(text(value)?),
            "poll" => {
                let p = duration_value(value, err, &what)?;
                if p < Duration::from_millis(100) || p > Duration::from_secs(600) {
                    return Err(err(
                        value.span(),
                        format!("{what}: must be between 100ms and 10m"),
                    ));
                }
                c.poll = p;
            }
            "extra" => {
                let items = match value.get_ref() {
                    toml::Value::Array(a) => a
                        .iter()
                        .map(|v| v.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>(),
                    _ => None,
                };
                let items = items
                    .filter(|v| v.iter().all(|s| s.starts_with('-')))
                    .ok_or_else(|| {
                        err(
                            value.span(),
                            format!("{what}: expected a list of sbatch options"),
                        )
                        .with_hint("extra = [\"--constraint=avx2\"]")
                    })?;
                c.extra = items;
            }
            other => {
                return Err(unknown_key(
                    key.span(),
                    other,
                    EXECUTOR_KEYS,
                    "[executor]",
                    err,
                ))
            }
        }
    }
    Ok(c)
}

fn unknown_key(
    span: Range<usize>,
    key: &str,
    known: &[&str],
    table: &str,
    err: ErrAt<'_>,
) -> PipelineError {
    let hint = match crate::suggest::closest(key, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? known keys: {}", known.join(", ")),
        None => format!("known keys: {}", known.join(", ")),
    };
    err(span, format!("{table}: unknown key `{key}`")).with_hint(hint)
}

fn duration_value(
    v: &Spanned<toml::Value>,
    err: ErrAt<'_>,
    what: &str,
) -> Result<Duration, PipelineError> {
    match v.get_ref() {
        toml::Value::String(s) => {
            parse_duration(s).map_err(|e| err(v.span(), format!("{what}: {e}")))
        }
        toml::Value::Integer(n) if *n > 0 => Ok(Duration::from_secs(*n as u64)),
        other => Err(
            err(v.span(), format!("{what}: `{other}` is not a duration"))
                .with_hint("write a string such as \"30m\" or \"90s\" (a bare number is seconds)"),
        ),
    }
}

fn count(
    v: &Spanned<toml::Value>,
    err: ErrAt<'_>,
    what: &str,
    min: i64,
    max: i64,
) -> Result<u32, PipelineError> {
    match v.get_ref() {
        toml::Value::Integer(n) if (min..=max).contains(n) => Ok(*n as u32),
        other => Err(err(
            v.span(),
            format!("{what}: `{other}` is not a whole number from {min} to {max}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("m5").is_err());
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h2m5s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    }
}
