//! What a killed push leaves on a remote, and its removal: writes never finished (an S3
//! multipart upload, a directory remote's temp file; see [`super::Remote::abort_unfinished`])
//! and unfinished snapshots (copies under `artifact/<ts>/` or an extra prefix's `<ts>/` whose
//! `snapshots/<ts>.json` was never written: the manifest is always written last).
//!
//! Both are removed only once older than the remote's `stale_after` (default 24 h), because a
//! younger one may belong to a push still running elsewhere. `push` aborts stale writes before
//! it uploads; `gc --remote` does that too and deletes stale unfinished snapshots.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::handle::Named;
use super::observer::TransferObserver;
use super::push::listing;
use super::timestamp::is_timestamp;
use super::{retry, RemoteError, ARTIFACT_PREFIX, SNAPSHOTS_PREFIX};

/// The `[remotes.NAME]` key that sets the grace period.
pub const STALE_AFTER_KEY: &str = "stale_after";

/// Default grace period: a day, as the abort rule S3 lifecycle examples use.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `stale_after` as written in pipeline.toml: a whole number of seconds (≥ 1) or a duration
/// text (`"24h"`, `"90m"`, `"7d"`).
pub fn parse_stale_after(v: &toml::Value) -> Result<Duration, String> {
    let d = match v {
        toml::Value::Integer(n) if *n >= 1 => Duration::from_secs(*n as u64),
        toml::Value::String(s) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("`{STALE_AFTER_KEY}` = \"{s}\": {e}"))?,
        _ => return Err(bad()),
    };
    if d < Duration::from_secs(1) {
        return Err(bad());
    }
    Ok(d)
}

fn bad() -> String {
    format!("`{STALE_AFTER_KEY}` must be a duration of at least 1 s: seconds (`86400`) or a text such as \"24h\"")
}

/// Seconds since the epoch of a snapshot timestamp `YYYYMMDDTHHMMSSZ`.
fn timestamp_secs(ts: &str) -> Option<u64> {
    if !is_timestamp(ts) {
        return None;
    }
    let rfc = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &ts[0..4],
        &ts[4..6],
        &ts[6..8],
        &ts[9..11],
        &ts[11..13],
        &ts[13..15]
    );
    let t = humantime::parse_rfc3339(&rfc).ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

/// Whether a snapshot taken at `ts` is older than `grace` at `now` (seconds since the epoch).
pub fn is_stale(ts: &str, grace: Duration, now: u64) -> bool {
    timestamp_secs(ts).is_some_and(|t| now.saturating_sub(t) > grace.as_secs())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Abort (or with `dry_run` count) the remote's unfinished writes older than its
/// `stale_after`, with the engine's retries.
pub fn abort_stale_writes(
    named: &Named,
    dry_run: bool,
    obs: &dyn TransferObserver,
) -> Result<u64, RemoteError> {
    retry::with_retry(
        || named.remote.abort_unfinished(named.stale_after, dry_run),
        |a, e| obs.retry("unfinished uploads", a, &e.to_string()),
    )
}

/// The keys (and sizes) of unfinished snapshots older than the remote's `stale_after`: under
/// `artifact/<ts>/` and each of `extra_prefixes` (`final_model/`) followed by `<ts>/`, where no
/// `snapshots/<ts>.json` exists.
pub fn stale_snapshot_keys(
    named: &Named,
    extra_prefixes: &[&str],
    op: &'static str,
    obs: &dyn TransferObserver,
) -> Result<BTreeMap<String, u64>, crate::error::Error> {
    let finished: BTreeSet<String> = listing(named, SNAPSHOTS_PREFIX, op, obs)?
        .into_keys()
        .filter_map(|k| {
            k.strip_prefix(SNAPSHOTS_PREFIX)
                .and_then(|k| k.strip_suffix(".json"))
                .map(str::to_string)
        })
        .collect();
    let now = now_secs();
    let mut prefixes: Vec<&str> = vec![ARTIFACT_PREFIX];
    prefixes.extend(
        extra_prefixes
            .iter()
            .copied()
            .filter(|p| *p != ARTIFACT_PREFIX),
    );
    let mut doomed = BTreeMap::new();
    for prefix in prefixes {
        for (key, size) in listing(named, prefix, op, obs)? {
            let Some(ts) = key[prefix.len()..].split('/').next() else {
                continue;
            };
            if is_timestamp(ts) && !finished.contains(ts) && is_stale(ts, named.stale_after, now) {
                doomed.insert(key, size);
            }
        }
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_period_parses_seconds_and_text() {
        let p = |s: &str| parse_stale_after(&toml::from_str::<toml::Table>(s).unwrap()["v"]);
        assert_eq!(p("v = 60").unwrap(), Duration::from_secs(60));
        assert_eq!(p("v = \"2h\"").unwrap(), Duration::from_secs(7200));
        assert!(p("v = 0").is_err());
        assert!(p("v = \"500ms\"").is_err());
        assert!(p("v = \"soon\"").unwrap_err().contains("soon"));
        assert!(p("v = true").is_err());
    }

    #[test]
    fn a_snapshot_is_stale_only_past_the_grace_period() {
        let t = timestamp_secs("20261118T110640Z").unwrap();
        assert_eq!(t, 1_795_000_000);
        let day = Duration::from_secs(86_400);
        assert!(!is_stale("20261118T110640Z", day, t + 86_400));
        assert!(is_stale("20261118T110640Z", day, t + 86_401));
        assert!(!is_stale("not-a-stamp", day, u64::MAX));
    }
}
