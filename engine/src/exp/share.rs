//! `exp push` / `exp pull`: finished experiments shared through a remote (the one `push` and
//! `pull` use). An experiment travels as three kinds of keys: the cache objects of its lock's
//! cached outs (`files/`), the run-cache entries of its lock's fingerprints (`runs/`, they keep
//! uncached outs such as metrics, so `exp apply` needs no rerun) and its record
//! (`exps/records-v1/NAME.json`). Both ways the record moves last: on the remote it appears
//! only after its objects and entries are there, locally only after they were fetched and
//! verified (by `fetch`'s own code: blake3 checked before anything enters the cache).
//!
//! Pulled records are untrusted: each goes through [`ExpRecord::from_bytes`], the parser of
//! local records (size cap, format version, name equal to the key's, override keys, the
//! embedded lock validated like `netsec.lock`: normal relative paths, nothing under `.git` or
//! `.netsec`), no control character but newline and tab in any string, and a final status.
//! One that fails is skipped and reported with its key; the others are pulled.
//! A name held locally by a different experiment is refused both ways; the same record is a
//! no-op.

use std::collections::BTreeSet;

use netsec_common::printable;
use netsec_protocol::{ExpPullJson, ExpPushJson, SkippedRecord};

use crate::error::Error;
use crate::exp::record::{ExpRecord, Store, MAX_RECORD_BYTES};
use crate::lock::Lockfile;
use crate::remote::fetch::fetch_records;
use crate::remote::pull_run::fetch_run;
use crate::remote::push::{listing, upload_objects, PushReport};
use crate::remote::refs::{local_objects, Objects};
use crate::remote::{
    exp_key, retry, run_key, Named, RemoteErrorKind, TransferObserver, EXPS_PREFIX, RUNS_PREFIX,
};
use crate::run_cache;
use crate::workspace::Repo;

/// Which experiments, and how many transfer threads (0: the default).
#[derive(Debug, Clone, Default)]
pub struct ShareOptions {
    /// Only these (all finished ones when empty).
    pub names: Vec<String>,
    pub jobs: usize,
}

/// The experiments `exp push` sends: the named ones (each must be finished), else every
/// finished one.
fn to_push(store: &Store, names: &[String]) -> Result<Vec<ExpRecord>, Error> {
    if names.is_empty() {
        let (recs, _) = store.list();
        return Ok(recs.into_iter().filter(|r| r.status.is_final()).collect());
    }
    let mut out = Vec::new();
    for n in names {
        let rec = store.load(n)?;
        if !rec.status.is_final() {
            return Err(Error::Usage {
                message: format!("experiment `{n}` is {}", rec.status.as_str()),
                hint: Some("only finished experiments (success or failed) are pushed".into()),
            });
        }
        out.push(rec);
    }
    Ok(out)
}

/// Download the remote record at `key` (listed with `size`), checked (also for `gc --remote`). `Ok(Err(reason))`: it is
/// unusable; `Err`: the remote failed.
pub(crate) fn fetch_record(
    named: &Named,
    key: &str,
    size: u64,
    obs: &dyn TransferObserver,
) -> Result<Result<ExpRecord, String>, Error> {
    let Some(stem) = key
        .strip_prefix(EXPS_PREFIX)
        .and_then(|k| k.strip_suffix(".json"))
        .filter(|s| !s.contains('/'))
    else {
        return Ok(Err("not an experiment record key".into()));
    };
    if let Err(e) = crate::exp::names::check(stem) {
        return Ok(Err(e.to_string()));
    }
    if size > MAX_RECORD_BYTES {
        return Ok(Err(format!(
            "{size} bytes, more than the {} MiB a record may have",
            MAX_RECORD_BYTES >> 20
        )));
    }
    let bytes = match retry::with_retry(
        || named.remote.get_bytes(key),
        |a, e| obs.retry(key, a, &e.to_string()),
    ) {
        Ok(b) => b,
        Err(e) if e.kind == RemoteErrorKind::NotFound => {
            return Ok(Err("deleted while being read".into()))
        }
        Err(e) => return Err(named.err("exp pull", e)),
    };
    let rec = match ExpRecord::from_bytes(&bytes, stem) {
        Ok(r) => r,
        Err(m) => return Ok(Err(format!("not a valid experiment record: {m}"))),
    };
    if let Err(at) = serde_json::to_value(&rec).map_or(Ok(()), |v| control_free(&v, "")) {
        return Ok(Err(format!(
            "a control character in `{at}` (it would reach the terminal through `exp show`)"
        )));
    }
    if !rec.status.is_final() {
        return Ok(Err(format!(
            "the experiment is {}; only finished ones are shared",
            rec.status.as_str()
        )));
    }
    Ok(Ok(rec.shared()))
}

/// Err with the JSON path of the first string (key or value) holding a control character
/// other than newline and tab: terminal escapes from a remote must not reach `exp show`.
fn control_free(v: &serde_json::Value, at: &str) -> Result<(), String> {
    let bad = |s: &str| s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    match v {
        serde_json::Value::String(s) if bad(s) => Err(at.to_string()),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| control_free(x, &format!("{at}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, x)| {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if bad(k) {
                return Err(here.escape_debug().to_string());
            }
            control_free(x, &here)
        }),
        _ => Ok(()),
    }
}

/// The record's lock (a failed experiment may have none).
fn lock_of(rec: &ExpRecord) -> Result<Lockfile, Error> {
    Ok(rec.lockfile()?.unwrap_or_default())
}

/// Push `opts.names` (else every finished experiment) to `named`.
pub fn push(
    repo: &Repo,
    store: &Store,
    named: &Named,
    opts: &ShareOptions,
    obs: &dyn TransferObserver,
) -> Result<ExpPushJson, Error> {
    let recs = to_push(store, &opts.names)?;
    let mut json = ExpPushJson {
        remote: named.name.clone(),
        url: named.remote.describe(),
        ..ExpPushJson::default()
    };
    if recs.is_empty() {
        return Ok(json);
    }
    // Names the remote already holds: the same record is left alone, another is refused
    // before anything is uploaded.
    let there = listing(named, EXPS_PREFIX, "exp push", obs)?;
    let mut todo = Vec::new();
    for rec in recs {
        let rec = rec.shared();
        let key = exp_key(&rec.name);
        let Some(size) = there.get(&key) else {
            todo.push(rec);
            continue;
        };
        match fetch_record(named, &key, *size, obs)? {
            Ok(theirs) if theirs == rec => json.unchanged.push(rec.name),
            Ok(_) => {
                return Err(Error::Usage {
                    message: format!(
                        "remote `{}` already has a different experiment named `{}`",
                        named.name, rec.name
                    ),
                    hint: Some(format!(
                        "`netsec exp remove {0}` here and run it again under another name (`-n`), or delete `{key}` from the remote",
                        rec.name
                    )),
                });
            }
            Err(why) => {
                return Err(Error::Usage {
                    message: format!(
                        "remote `{}` holds an unusable record at `{key}` ({why})",
                        named.name
                    ),
                    hint: Some("delete it from the remote, then push again".into()),
                })
            }
        }
    }
    // Objects of every lock, and the run entries of its fingerprints that the local
    // run-cache has (with their own objects).
    let mut objects = Objects::new();
    let mut runs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut seen = BTreeSet::new();
    for rec in &todo {
        let lock = lock_of(rec)?;
        objects.extend(local_objects(repo, lock.all_records(), "exp push")?);
        for entry in lock.stages.values() {
            let key = entry.fingerprint.key();
            if !seen.insert(key) {
                continue;
            }
            let Ok(bytes) = std::fs::read(run_cache::entry_path(repo, &key)) else {
                continue;
            };
            let Ok(run) = serde_json::from_slice::<run_cache::RunEntry>(&bytes) else {
                continue;
            };
            if !run.fits(&entry.fingerprint) {
                continue;
            }
            match local_objects(repo, run.outs.iter(), "exp push") {
                Ok(o) => {
                    objects.extend(o);
                    runs.push((key.to_hex(), bytes));
                }
                Err(e) => tracing::debug!("run-cache entry {key} not pushed: {e}"),
            }
        }
    }
    let mut report = PushReport::default();
    upload_objects(repo, named, &objects, opts.jobs, obs, &mut report)?;
    json.uploaded = report.uploaded;
    json.uploaded_bytes = report.uploaded_bytes;
    json.present = report.present;
    if !runs.is_empty() {
        let there = listing(named, RUNS_PREFIX, "exp push", obs)?;
        for (hex, bytes) in runs {
            let key = run_key(&hex);
            if there.contains_key(&key) {
                json.runs_present += 1;
                continue;
            }
            retry::with_retry(
                || named.remote.put_bytes(&key, &bytes),
                |a, e| obs.retry(&key, a, &e.to_string()),
            )
            .map_err(|e| named.err("exp push", e))?;
            json.runs_uploaded += 1;
        }
    }
    // Last: the records, each visible only once everything it names is there.
    for rec in todo {
        let key = exp_key(&rec.name);
        let bytes = rec.to_bytes();
        retry::with_retry(
            || named.remote.put_bytes(&key, &bytes),
            |a, e| obs.retry(&key, a, &e.to_string()),
        )
        .map_err(|e| named.err("exp push", e))?;
        json.pushed.push(rec.name);
    }
    Ok(json)
}

/// A remote failure that concerns one experiment's data (an object missing or damaged on the
/// remote): that experiment is skipped. Anything else (denied, unreachable) stops the pull.
fn record_level(e: &Error) -> bool {
    matches!(e, Error::Remote { source, .. }
        if matches!(source.kind, RemoteErrorKind::NotFound | RemoteErrorKind::Corrupt))
}

/// Pull `opts.names` (else every record on the remote) from `named`.
pub fn pull(
    repo: &Repo,
    store: &Store,
    named: &Named,
    opts: &ShareOptions,
    obs: &dyn TransferObserver,
) -> Result<ExpPullJson, Error> {
    let mut json = ExpPullJson {
        remote: named.name.clone(),
        url: named.remote.describe(),
        ..ExpPullJson::default()
    };
    let there = listing(named, EXPS_PREFIX, "exp pull", obs)?;
    let keys: Vec<(String, u64)> = if opts.names.is_empty() {
        there.into_iter().collect()
    } else {
        let mut keys = Vec::new();
        for n in &opts.names {
            crate::exp::names::check(n)?;
            let key = exp_key(n);
            let Some(size) = there.get(&key) else {
                return Err(Error::Usage {
                    message: format!("remote `{}` has no experiment named `{n}`", named.name),
                    hint: Some(format!(
                        "`netsec exp pull {}` pulls every experiment it has",
                        named.name
                    )),
                });
            };
            keys.push((key, *size));
        }
        keys
    };
    for (key, size) in keys {
        let rec = match fetch_record(named, &key, size, obs)? {
            Ok(r) => r,
            Err(reason) => {
                json.skipped.push(SkippedRecord {
                    key,
                    reason: printable(&reason).into_owned(),
                });
                continue;
            }
        };
        if store.exists(&rec.name) {
            match store.load(&rec.name) {
                Ok(ours) if ours.shared() == rec => json.unchanged.push(rec.name),
                _ => json.conflicts.push(rec.name),
            }
            continue;
        }
        let lock = match lock_of(&rec) {
            Ok(l) => l,
            Err(e) => {
                json.skipped.push(SkippedRecord {
                    key,
                    reason: printable(&e.to_string()).into_owned(),
                });
                continue;
            }
        };
        // Objects, then run entries (recorded locally only once their objects are), then
        // the record.
        let fetched = fetch_records(
            repo,
            named,
            lock.all_records().map(|(_, r)| r),
            opts.jobs,
            obs,
        )
        .and_then(|f| {
            let mut runs = 0;
            for entry in lock.stages.values() {
                if run_cache::lookup(repo, &entry.fingerprint).is_none()
                    && fetch_run(repo, named, &entry.fingerprint)?.is_some()
                {
                    runs += 1;
                }
            }
            Ok((f, runs))
        });
        let (f, runs) = match fetched {
            Ok(x) => x,
            Err(e) if record_level(&e) => {
                json.skipped.push(SkippedRecord {
                    key,
                    reason: printable(&e.to_string()).into_owned(),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        json.downloaded += f.downloaded;
        json.downloaded_bytes += f.downloaded_bytes;
        json.present += f.present;
        json.runs_fetched += runs;
        store.save(&rec)?;
        json.pulled.push(rec.name);
    }
    repo.save_memo();
    Ok(json)
}
