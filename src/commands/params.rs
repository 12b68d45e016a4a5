//! `netsec params diff [A_REV [B_REV]]`: tracked param values that differ between the
//! workspace and a git revision (default `HEAD`), or between two revisions. At a revision,
//! pipeline.toml and the params files it names are read with `git show`, and the pipeline is
//! parsed as the engine parses it.

use std::collections::BTreeMap;
use std::path::Path;

use netsec_engine::{Error, Pipeline};
use netsec_protocol::ValueDiff;
use serde_json::Value;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Param values that differ: workspace vs A_REV (default HEAD), or A_REV vs B_REV.
    Diff {
        a_rev: Option<String>,
        b_rev: Option<String>,
        /// Also the params that did not change.
        #[arg(long)]
        all: bool,
        /// A JSON list of `{kind, key, old, new, delta}`.
        #[arg(long)]
        json: bool,
    },
}

/// The tracked params of a loaded pipeline (see `netsec_engine::params_rev`).
pub fn tracked(pipeline: &Pipeline) -> BTreeMap<String, Value> {
    netsec_engine::params_rev::tracked(pipeline)
}

fn at_rev(root: &Path, rev: &str) -> Result<BTreeMap<String, Value>, Error> {
    netsec_engine::params_rev::at_rev(root, rev)
}

/// Rows for the keys whose values differ (every key with `all`).
pub fn diff(
    kind: &str,
    old: &BTreeMap<String, Value>,
    new: &BTreeMap<String, Value>,
    all: bool,
) -> Vec<ValueDiff> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let (o, n) = (old.get(k), new.get(k));
            if o == n && !all {
                return None;
            }
            let delta = match (o.and_then(Value::as_f64), n.and_then(Value::as_f64)) {
                (Some(a), Some(b)) if o != n => Some(b - a),
                _ => None,
            };
            Some(ValueDiff {
                kind: kind.to_string(),
                key: k.clone(),
                old: o.cloned(),
                new: n.cloned(),
                delta,
            })
        })
        .collect()
}

/// The rows as a table, or JSON.
pub fn print(rows: &[ValueDiff], old: &str, new: &str, json: bool) {
    if json {
        crate::outln!("{}", serde_json::to_string(rows).unwrap_or_default());
        return;
    }
    if rows.is_empty() {
        crate::outln!("No change between {old} and {new}.");
        return;
    }
    let text = |v: &Option<Value>| match v {
        None => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.key.clone(),
                text(&r.old),
                text(&r.new),
                r.delta.map_or("-".into(), |d| {
                    let s = format!("{d:+.6}");
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                }),
            ]
        })
        .collect();
    crate::out!(
        "{}",
        netsec_tracking::metrics::text_table(&["Key", old, new, "Change"], &table)
    );
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let Action::Diff {
        a_rev,
        b_rev,
        all,
        json,
    } = args.action;
    let repo = super::open(ui, cwd)?;
    let a = a_rev.unwrap_or_else(|| "HEAD".into());
    let old = at_rev(&repo.root, &a)?;
    let (new, new_name) = match b_rev {
        Some(b) => (at_rev(&repo.root, &b)?, b),
        None => (tracked(&repo.pipeline), "workspace".to_string()),
    };
    print(&diff("param", &old, &new, all), &a, &new_name, json);
    Ok(0)
}
