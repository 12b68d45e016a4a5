//! `netsec explain STAGE`: the stage's fingerprint now versus the one in netsec.lock, as text or
//! as one `ExplainJson` object (`--json`). Both are rendered from the same value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use netsec_engine::status::evaluate;
use netsec_engine::{Error, Lockfile};
use netsec_protocol::{ExplainJson, FieldChange, OutChange, StageState};
use serde_json::Value;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stage to explain (a `foreach`/`matrix` name explains each member in turn).
    stage: String,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

/// `dotted.key → value` of a fingerprint (as `params` and metrics are spelled).
fn flatten(v: &Value) -> BTreeMap<String, Value> {
    netsec_common::dotted::flatten("", v)
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let names = repo.resolve_stage_names(std::slice::from_ref(&args.stage))?;
    let lock = repo.load_lock()?;
    let mut store = repo.pipeline.param_store();
    for (i, name) in names.iter().enumerate() {
        if i > 0 && !args.json {
            crate::outln!();
        }
        explain(&repo, &lock, &mut store, name, args.json)?;
    }
    repo.save_memo();
    Ok(0)
}

/// Explain one stage: text, or one JSON line.
fn explain(
    repo: &netsec_engine::Repo,
    lock: &Lockfile,
    store: &mut netsec_engine::params::ParamStore,
    name: &str,
    json: bool,
) -> Result<(), Error> {
    let stage = &repo.pipeline.stages[name];
    let params = store.tracked(&stage.params).map_err(|e| {
        Error::Pipeline(netsec_engine::PipelineError {
            message: e.to_string(),
            ..Default::default()
        })
    })?;
    let entry = lock.stages.get(name);
    let ev = evaluate(repo, stage, entry, &params)?;

    let old = entry.map(|e| serde_json::to_value(&e.fingerprint).unwrap_or(Value::Null));
    let new = ev
        .fingerprint
        .as_ref()
        .map(|f| serde_json::to_value(f).unwrap_or(Value::Null));
    let a = old.as_ref().map(flatten).unwrap_or_default();
    let b = new.as_ref().map(flatten).unwrap_or_default();
    let mut changed = Vec::new();
    let mut unchanged = 0;
    for key in a.keys().chain(b.keys()).collect::<BTreeSet<_>>() {
        match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) if x == y => unchanged += 1,
            (x, y) => changed.push(FieldChange {
                key: key.clone(),
                locked: x.cloned(),
                now: y.cloned(),
            }),
        }
    }
    let mut outs = Vec::new();
    if let Some(e) = entry {
        for (p, rec) in &e.outs {
            let now = ev.outs.get(p).and_then(|h| h.as_ref()).map(|h| h.digest());
            if now != Some(rec.record.digest) {
                outs.push(OutChange {
                    path: p.to_string(),
                    locked: rec.record.digest.to_hex(),
                    now: now.map(|d| d.to_hex()),
                });
            }
        }
    }
    let status = if stage.frozen {
        StageState::Frozen
    } else if ev.reasons.is_empty() {
        StageState::Fresh
    } else {
        StageState::Dirty
    };
    let explained = ExplainJson {
        stage: stage.name.to_string(),
        cmd: match &stage.action {
            netsec_engine::pipeline::Action::Command(c) => c.clone(),
            netsec_engine::pipeline::Action::Builtin { .. } => Vec::new(),
        },
        status,
        reasons: ev.reasons,
        in_lock: entry.is_some(),
        has_fingerprint: new.is_some(),
        changed,
        unchanged,
        outs,
    };
    if json {
        crate::output::json_line(&explained);
    } else {
        print_text(&explained);
    }
    Ok(())
}

fn print_text(e: &ExplainJson) {
    match e.status {
        StageState::Frozen => crate::outln!("Stage `{}` is frozen: it never runs.", e.stage),
        StageState::Fresh => crate::outln!("Stage `{}` is fresh.", e.stage),
        StageState::Dirty => {
            crate::outln!("Stage `{}` is dirty:", e.stage);
            for r in &e.reasons {
                crate::outln!("  - {r}");
            }
        }
    }
    for c in &e.cmd {
        crate::outln!("Command: {c}");
    }
    crate::outln!();
    if !e.in_lock {
        crate::outln!("No entry in netsec.lock: the stage never ran.");
    } else if !e.has_fingerprint {
        crate::outln!("No current fingerprint: a dep is missing.");
    } else {
        crate::outln!("Fingerprint diff against netsec.lock (- locked, + now):");
    }
    for c in &e.changed {
        if let Some(x) = &c.locked {
            crate::outln!("  - {} = {x}", c.key);
        }
        if let Some(y) = &c.now {
            crate::outln!("  + {} = {y}", c.key);
        }
    }
    if e.in_lock && e.has_fingerprint {
        crate::outln!("  ({} fields unchanged)", e.unchanged);
    }
    for o in &e.outs {
        let locked = &o.locked[..o.locked.len().min(12)];
        match &o.now {
            None => crate::outln!("  out `{}`: missing (locked {locked})", o.path),
            Some(now) => crate::outln!(
                "  out `{}`: {locked} → {}",
                o.path,
                &now[..now.len().min(12)]
            ),
        }
    }
}
