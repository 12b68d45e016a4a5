//! `netsec snapshots`: the timestamped pushes on a remote, oldest first.

use std::path::Path;

use netsec_engine::remote::snapshot::{self, Snapshot};
use netsec_engine::Error;
use serde_json::Value;

use netsec_protocol::SnapshotJson;

use crate::remotes::open_named;
use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The remote (default: the one with `default = true`, or the only one).
    #[arg(short, long, value_name = "NAME")]
    remote: Option<String>,
    /// JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// Numeric leaves of the metric files, at most two levels deep (`test.f1`), as headlines.
fn headlines(s: &Snapshot) -> Vec<(String, f64)> {
    fn walk(prefix: &str, v: &Value, depth: usize, out: &mut Vec<(String, f64)>) {
        match v {
            Value::Number(n) if !prefix.is_empty() => {
                if let Some(f) = n.as_f64() {
                    out.push((prefix.to_string(), f));
                }
            }
            Value::Object(m) if depth < 2 => {
                for (k, v) in m {
                    if k == "format" {
                        continue;
                    }
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, depth + 1, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for v in s.metrics.values() {
        walk("", v, 0, &mut out);
    }
    out
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let named = open_named(&repo, args.remote.as_deref())?;
    let snaps = snapshot::list(&named)?;
    if args.json {
        let list: Vec<SnapshotJson> = snaps
            .iter()
            .map(|s| SnapshotJson {
                timestamp: s.timestamp.clone(),
                git_commit: s.git_commit.clone(),
                lock_digest: s.lock_digest.clone(),
                netsec_version: s.netsec_version.clone(),
                stages: s.stages.clone(),
                keys: s.keys.len(),
                metrics: s.metrics.clone(),
            })
            .collect();
        crate::output::json_line(&list);
        return Ok(0);
    }
    if snaps.is_empty() {
        ui.status("Empty", "2", &format!("no snapshots on {}", named.name));
        return Ok(0);
    }
    for s in &snaps {
        let commit = s
            .git_commit
            .as_deref()
            .map_or("-", |c| &c[..c.len().min(10)]);
        let metrics: Vec<String> = headlines(s)
            .into_iter()
            .take(4)
            .map(|(k, v)| format!("{k}={v:.4}"))
            .collect();
        crate::outln!(
            "{}  commit {commit}  lock {}  {}",
            s.timestamp,
            &s.lock_digest[..s.lock_digest.len().min(12)],
            metrics.join(" ")
        );
    }
    Ok(0)
}
