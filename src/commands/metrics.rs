//! `netsec metrics show|diff`: the metric outs (`metric = true`) of the current lock as a table,
//! and their changes against a git revision. Parsing, flattening and diffing live in
//! `netsec_tracking::metrics`.

use std::collections::BTreeMap;
use std::path::Path;

use netsec_engine::{Error, Lockfile, Repo};
use netsec_tracking::metrics::{diff, diff_table, flatten, parse, show_table, Flat};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// The metric outs of the current lock, one row per numeric value.
    Show {
        /// One JSON object `{path: {key: value}}` on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Changed metrics against a git revision (its netsec.lock and metric files).
    Diff {
        /// Git revision to compare with.
        #[arg(default_value = "HEAD")]
        rev: String,
        /// A JSON array of `{path, key, old, new, delta}` on stdout.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let lock = repo.load_lock()?;
    match args.action {
        Action::Show { json } => {
            let files = current(ui, &repo, &lock);
            if json {
                crate::outln!("{}", serde_json::to_string(&files).unwrap_or_default());
            } else if files.is_empty() {
                ui.warn("no metric outs in netsec.lock (mark an out with `metric = true` and run `netsec repro`)");
            } else {
                crate::out!("{}", show_table(&files));
            }
            Ok(0)
        }
        Action::Diff { rev, json } => {
            let new = current(ui, &repo, &lock);
            let old = match at_revision(ui, &repo, &rev) {
                Ok(o) => o,
                Err(e) => {
                    ui.error_text(
                        &e.to_string(),
                        Some("`netsec metrics diff` needs a git repository; REV defaults to HEAD"),
                    );
                    return Ok(netsec_engine::exit::USAGE);
                }
            };
            let rows = diff(&old, &new);
            if json {
                crate::outln!("{}", serde_json::to_string(&rows).unwrap_or_default());
            } else if rows.is_empty() {
                crate::outln!("No metric changed against {rev}.");
            } else {
                crate::out!("{}", diff_table(&rows));
            }
            Ok(0)
        }
    }
}

/// Paths of the pipeline's metric outs, as stored in the lock.
fn metric_paths(repo: &Repo) -> Vec<String> {
    let mut v: Vec<String> = repo
        .pipeline
        .stages
        .values()
        .flat_map(|s| {
            s.outs
                .iter()
                .filter(|o| o.metric)
                .map(|o| o.path.as_str().to_string())
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn add(ui: &Ui, files: &mut BTreeMap<String, Flat>, path: &str, bytes: &[u8]) {
    match parse(path, bytes) {
        Ok(v) => {
            files.insert(path.to_string(), flatten(&v));
        }
        Err(e) => ui.warn(&format!("skipping metric file: {e}")),
    }
}

/// Metric outs recorded in the current lock, read from the workspace.
pub(crate) fn current(ui: &Ui, repo: &Repo, lock: &Lockfile) -> BTreeMap<String, Flat> {
    let mut files = BTreeMap::new();
    for path in metric_paths(repo) {
        let in_lock = lock
            .stages
            .values()
            .any(|e| e.outs.keys().any(|o| o.as_str() == path));
        if !in_lock {
            continue;
        }
        match std::fs::read(repo.root.join(&path)) {
            Ok(b) => add(ui, &mut files, &path, &b),
            Err(e) => ui.warn(&format!("cannot read metric out `{path}`: {e}")),
        }
    }
    files
}

/// Metric outs at `rev`: those its netsec.lock records (validated as the workspace's lock is),
/// read from the cache by the digest that lock recorded, else with `git show REV:path`.
pub(crate) fn at_revision(
    ui: &Ui,
    repo: &Repo,
    rev: &str,
) -> Result<BTreeMap<String, Flat>, netsec_tracking::TrackingError> {
    let mut files = BTreeMap::new();
    let revision = crate::revision_files::Revision::open(&repo.root, rev)?;
    if let Some(e) = revision.lock_error() {
        ui.warn(&format!("netsec.lock at {rev} is unreadable: {e}"));
    }
    let Some(old) = revision.lock() else {
        return Ok(files);
    };
    for path in metric_paths(repo) {
        if !old.all_records().any(|(o, _)| o.as_str() == path) {
            continue;
        }
        match revision.read(&repo.cache, &path) {
            Some(bytes) => add(ui, &mut files, &path, &bytes),
            None => ui.warn(&format!(
                "`{path}` at {rev} is neither in git nor in the cache; its metrics are shown as removed"
            )),
        }
    }
    Ok(files)
}
