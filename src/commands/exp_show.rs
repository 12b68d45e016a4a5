//! `netsec exp show`: the workspace, `HEAD` and every experiment as rows of params and
//! metrics; a terminal table that fits the width, CSV, Markdown, or `--json` (`ExpRow`s).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use netsec_common::printable;
use netsec_engine::exp::{queue, Store};
use netsec_engine::{Error, Lockfile};
use netsec_protocol::{ExpKind, ExpRow};
use serde_json::Value;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A JSON list of rows on stdout.
    #[arg(long, conflicts_with_all = ["csv", "md"])]
    json: bool,
    /// CSV on stdout.
    #[arg(long, conflicts_with = "md")]
    csv: bool,
    /// A Markdown table on stdout.
    #[arg(long)]
    md: bool,
    /// Sort the experiments by this param or metric (a full key, or its end: `test.f1`).
    #[arg(long, value_name = "KEY")]
    sort_by: Option<String>,
    /// Sort order.
    #[arg(long, value_parser = ["asc", "desc"], default_value = "asc")]
    sort_order: String,
    /// Only the params and metrics whose values differ between rows.
    #[arg(long)]
    only_changed: bool,
    /// Show only these params (full key or its end; repeatable).
    #[arg(long = "param", value_name = "KEY")]
    params: Vec<String>,
    /// Show only these metrics (full `file:key` or its end; repeatable).
    #[arg(long = "metric", value_name = "KEY")]
    metrics: Vec<String>,
}

fn flat_metrics(files: BTreeMap<String, BTreeMap<String, f64>>) -> BTreeMap<String, f64> {
    files
        .into_iter()
        .flat_map(|(f, m)| m.into_iter().map(move |(k, v)| (format!("{f}:{k}"), v)))
        .collect()
}

/// The rows, workspace and `HEAD` first, then experiments by creation.
pub fn rows(ui: &Ui, cwd: &Path) -> Result<Vec<ExpRow>, Error> {
    let repo = super::open(ui, cwd)?;
    let mut out = Vec::new();
    let c = super::exp::collect_repo(ui, &repo);
    out.push(ExpRow {
        name: "workspace".into(),
        kind: ExpKind::Workspace,
        rev: None,
        status: "-".into(),
        created_ms: None,
        duration_ms: None,
        params: c.params,
        metrics: flat_metrics(c.metrics),
        overrides: BTreeMap::new(),
        message: None,
    });
    if let Some(head) = netsec_common::git::commit(&repo.root) {
        let lock = netsec_tracking::metrics::git_show(&repo.root, "HEAD", "netsec.lock")
            .ok()
            .flatten()
            .and_then(|b| {
                Lockfile::parse(&String::from_utf8_lossy(&b), "HEAD:netsec.lock".into()).ok()
            });
        let params = lock
            .map(|l| {
                l.stages
                    .into_values()
                    .flat_map(|e| e.fingerprint.params)
                    .collect()
            })
            .unwrap_or_default();
        let metrics = super::metrics::at_revision(ui, &repo, "HEAD").unwrap_or_default();
        out.push(ExpRow {
            name: "HEAD".into(),
            kind: ExpKind::Baseline,
            rev: Some(head),
            status: "-".into(),
            created_ms: None,
            duration_ms: None,
            params,
            metrics: flat_metrics(metrics),
            overrides: BTreeMap::new(),
            message: None,
        });
    }
    let store = Store::new(&repo.dot);
    let alive = queue::runner_alive(&store);
    let (recs, warnings) = store.list();
    for w in warnings {
        ui.warn(&w);
    }
    for r in recs {
        out.push(ExpRow {
            status: queue::effective(&r, alive).as_str().into(),
            duration_ms: r.duration_ms(),
            name: r.name,
            kind: ExpKind::Experiment,
            rev: r.base,
            created_ms: Some(r.created_ms),
            params: r.params,
            metrics: flat_metrics(r.metrics),
            overrides: r.overrides,
            message: r.message,
        });
    }
    Ok(out)
}

/// `wanted` names `key` exactly, or its end after a `.` or `:`.
fn matches(key: &str, wanted: &str) -> bool {
    key == wanted
        || key
            .strip_suffix(wanted)
            .is_some_and(|head| head.ends_with('.') || head.ends_with(':'))
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn num_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        let s = format!("{f:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn time_text(ms: Option<u64>) -> String {
    ms.map(|ms| {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
        let s = humantime::format_rfc3339_seconds(t).to_string();
        s.replace('T', " ").trim_end_matches('Z').to_string()
    })
    .unwrap_or_else(|| "-".into())
}

/// A column of the table: a param or a metric.
#[derive(Debug, Clone)]
enum Col {
    Param(String),
    Metric(String),
}

impl Col {
    fn key(&self) -> &str {
        match self {
            Col::Param(k) | Col::Metric(k) => k,
        }
    }
    fn cell(&self, r: &ExpRow) -> String {
        match self {
            Col::Param(k) => r.params.get(k).map_or_else(|| "-".into(), value_text),
            Col::Metric(k) => r
                .metrics
                .get(k)
                .map_or_else(|| "-".into(), |f| num_text(*f)),
        }
    }
    fn number(&self, r: &ExpRow) -> Option<f64> {
        match self {
            Col::Param(k) => r.params.get(k).and_then(Value::as_f64),
            Col::Metric(k) => r.metrics.get(k).copied(),
        }
    }
}

pub fn run(ui: &Ui, cwd: &Path, a: ShowArgs) -> Result<i32, Error> {
    let mut rows = rows(ui, cwd)?;
    let param_keys: BTreeSet<String> = rows.iter().flat_map(|r| r.params.keys().cloned()).collect();
    let metric_keys: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| r.metrics.keys().cloned())
        .collect();
    let mut cols: Vec<Col> = param_keys
        .iter()
        .filter(|k| a.params.is_empty() || a.params.iter().any(|w| matches(k, w)))
        .map(|k| Col::Param(k.clone()))
        .chain(
            metric_keys
                .iter()
                .filter(|k| a.metrics.is_empty() || a.metrics.iter().any(|w| matches(k, w)))
                .map(|k| Col::Metric(k.clone())),
        )
        .collect();
    if a.only_changed {
        cols.retain(|c| {
            let vals: BTreeSet<String> = rows.iter().map(|r| c.cell(r)).collect();
            vals.len() > 1
        });
    }
    let sort_col = match &a.sort_by {
        None => None,
        Some(k) => {
            let all: Vec<Col> = param_keys
                .iter()
                .map(|p| Col::Param(p.clone()))
                .chain(metric_keys.iter().map(|m| Col::Metric(m.clone())))
                .collect();
            let found: Vec<&Col> = all.iter().filter(|c| matches(c.key(), k)).collect();
            match found.as_slice() {
                [one] => Some((*one).clone()),
                [] => {
                    return Err(Error::Usage {
                        message: format!("no param or metric `{k}` to sort by"),
                        hint: None,
                    })
                }
                many => {
                    return Err(Error::Usage {
                        message: format!("`{k}` names several columns"),
                        hint: Some(format!(
                            "use one of: {}",
                            many.iter().map(|c| c.key()).collect::<Vec<_>>().join(", ")
                        )),
                    })
                }
            }
        }
    };
    let desc = a.sort_order == "desc";
    if let Some(c) = &sort_col {
        let split = rows
            .iter()
            .position(|r| r.kind == ExpKind::Experiment)
            .unwrap_or(rows.len());
        rows[split..].sort_by(|x, y| {
            let (vx, vy) = (c.number(x), c.number(y));
            let ord = match (vx, vy) {
                (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(std::cmp::Ordering::Equal),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            let ord = if desc && vx.is_some() && vy.is_some() {
                ord.reverse()
            } else {
                ord
            };
            ord.then_with(|| c.cell(x).cmp(&c.cell(y)))
        });
    }
    if a.json {
        let shown: Vec<ExpRow> = rows
            .into_iter()
            .map(|mut r| {
                r.params
                    .retain(|k, _| cols.iter().any(|c| matches!(c, Col::Param(p) if p == k)));
                r.metrics
                    .retain(|k, _| cols.iter().any(|c| matches!(c, Col::Metric(m) if m == k)));
                r
            })
            .collect();
        crate::outln!("{}", serde_json::to_string(&shown).unwrap_or_default());
        return Ok(0);
    }
    let mut header: Vec<String> = ["Experiment", "rev", "status", "created", "duration"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(cols.iter().map(|c| c.key().to_string()));
    let best = sort_col.as_ref().and_then(|c| {
        let vals = rows
            .iter()
            .filter(|r| r.kind == ExpKind::Experiment)
            .filter_map(|r| c.number(r));
        if desc {
            vals.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        } else {
            vals.fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))
        }
    });
    let mut table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                r.name.clone(),
                r.rev
                    .as_deref()
                    .map_or("-".into(), |s| s.chars().take(7).collect()),
                r.status.clone(),
                time_text(r.created_ms),
                r.duration_ms
                    .map_or("-".into(), |d| format!("{:.1}s", d as f64 / 1000.0)),
            ];
            for c in &cols {
                let mut t = c.cell(r);
                let is_sort = sort_col.as_ref().is_some_and(|s| s.key() == c.key());
                if is_sort && r.kind == ExpKind::Experiment && best.is_some() && c.number(r) == best
                {
                    t.push_str(" *");
                }
                cells.push(t);
            }
            cells
        })
        .collect();
    // Names, params and statuses come from records (a pulled or hand-edited one too): escape
    // their control characters before they reach the terminal. `--json` escapes by itself.
    let escape = |s: &mut String| {
        if let Cow::Owned(e) = printable(s) {
            *s = e;
        }
    };
    header.iter_mut().for_each(escape);
    table.iter_mut().flatten().for_each(escape);
    if a.csv {
        let esc = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        for line in std::iter::once(&header).chain(table.iter()) {
            crate::outln!(
                "{}",
                line.iter().map(|c| esc(c)).collect::<Vec<_>>().join(",")
            );
        }
        return Ok(0);
    }
    if a.md {
        let esc = |s: &str| s.replace('|', "\\|");
        crate::outln!(
            "| {} |",
            header
                .iter()
                .map(|c| esc(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        crate::outln!("|{}", "---|".repeat(header.len()));
        for line in &table {
            crate::outln!(
                "| {} |",
                line.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
            );
        }
        return Ok(0);
    }
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(120)
        .max(40);
    crate::out!("{}", fit_table(&header, &table, width));
    Ok(0)
}

/// A plain table no wider than `width`: the widest columns are truncated (with `…`) down to
/// 8 characters; columns that still do not fit are left out and counted on a last line.
fn fit_table(header: &[String], rows: &[Vec<String>], width: usize) -> String {
    let len = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(&header[i])
                .chain(rows.iter().map(|r| &r[i]))
                .map(|s| len(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    // The five fixed columns (name, rev, status, created, duration) keep their width; the
    // params and metrics give way.
    while total(&widths) > width {
        let (i, w) = widths
            .iter()
            .enumerate()
            .skip(5.min(widths.len().saturating_sub(1)))
            .max_by_key(|(_, w)| **w)
            .map(|(i, w)| (i, *w))
            .unwrap_or((0, 0));
        if w <= 8 {
            break;
        }
        widths[i] -= 1;
    }
    let mut shown = widths.len();
    while shown > 1 && total(&widths[..shown]) > width {
        shown -= 1;
    }
    let clip = |s: &str, w: usize| -> String {
        if len(s) <= w {
            format!("{s:<w$}")
        } else {
            let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
            t.push('…');
            t
        }
    };
    let mut out = String::new();
    for line in std::iter::once(header).chain(rows.iter().map(|r| r.as_slice())) {
        let cells: Vec<String> = (0..shown).map(|i| clip(&line[i], widths[i])).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if shown < widths.len() {
        let note = format!("(+{} columns: --param/--metric)", widths.len() - shown);
        out.push_str(&note.chars().take(width).collect::<String>());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fit_the_width() {
        let header: Vec<String> = [
            "Experiment",
            "rev",
            "status",
            "created",
            "duration",
            "a.long.param.key",
            "metrics.json:test.f1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows = vec![[
            "brave-otter",
            "abcdef0",
            "success",
            "2026-12-03 11:38:01",
            "0.6s",
            "0.123456789",
            "0.95",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()];
        let t = fit_table(&header, &rows, 70);
        assert!(t.lines().all(|l| l.chars().count() <= 70), "{t}");
        assert!(t.contains("brave-otter"), "{t}");
        assert!(t.contains('…'));
        assert!(matches("metrics.json:test.f1", "test.f1"));
        assert!(!matches("metrics.json:test.f1", "t.f1"));
    }
}
