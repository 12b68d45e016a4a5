//! `netsec explain STAGE`: the stage's fingerprint now versus the one in netsec.lock.

use std::collections::BTreeMap;
use std::path::Path;

use netsec_engine::status::evaluate;
use netsec_engine::{Error, Lockfile};
use serde_json::Value;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stage to explain.
    stage: String,
}

/// `dotted.key → value text` of a fingerprint (as `params` and metrics are spelled).
fn flatten(v: &Value) -> BTreeMap<String, String> {
    netsec_common::dotted::flatten("", v)
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    repo.check_stage_names(std::slice::from_ref(&args.stage))?;
    let lock = Lockfile::load(&repo.root)?;
    let stage = &repo.pipeline.stages[&args.stage];
    let mut store = repo.pipeline.param_store();
    let params = store.tracked(&stage.params).map_err(|e| {
        Error::Pipeline(netsec_engine::PipelineError {
            message: e.to_string(),
            ..Default::default()
        })
    })?;
    let entry = lock.stages.get(&args.stage);
    let ev = evaluate(&repo, stage, entry, &params)?;
    repo.save_memo();
    if stage.frozen {
        crate::outln!("Stage `{}` is frozen: it never runs.", stage.name);
    } else if ev.reasons.is_empty() {
        crate::outln!("Stage `{}` is fresh.", stage.name);
    } else {
        crate::outln!("Stage `{}` is dirty:", stage.name);
        for r in &ev.reasons {
            crate::outln!("  - {r}");
        }
    }
    let old = entry.map(|e| serde_json::to_value(&e.fingerprint).unwrap_or(Value::Null));
    let new = ev
        .fingerprint
        .as_ref()
        .map(|f| serde_json::to_value(f).unwrap_or(Value::Null));
    let a = old.as_ref().map(flatten).unwrap_or_default();
    let b = new.as_ref().map(flatten).unwrap_or_default();
    crate::outln!();
    match (&old, &new) {
        (None, _) => crate::outln!("No entry in netsec.lock: the stage never ran."),
        (_, None) => crate::outln!("No current fingerprint: a dep is missing."),
        _ => crate::outln!("Fingerprint diff against netsec.lock (- locked, + now):"),
    }
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut same = 0;
    for k in keys {
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) if x == y => same += 1,
            (x, y) => {
                if let Some(x) = x {
                    crate::outln!("  - {k} = {x}");
                }
                if let Some(y) = y {
                    crate::outln!("  + {k} = {y}");
                }
            }
        }
    }
    if old.is_some() && new.is_some() {
        crate::outln!("  ({same} fields unchanged)");
    }
    if let Some(e) = entry {
        for (p, rec) in &e.outs {
            let now = ev.outs.get(p).and_then(|h| h.as_ref()).map(|h| h.digest());
            match now {
                None => crate::outln!(
                    "  out `{p}`: missing (locked {})",
                    &rec.record.digest.to_hex()[..12]
                ),
                Some(d) if d != rec.record.digest => {
                    crate::outln!(
                        "  out `{p}`: {} → {}",
                        &rec.record.digest.to_hex()[..12],
                        &d.to_hex()[..12]
                    )
                }
                _ => {}
            }
        }
    }
    Ok(0)
}
