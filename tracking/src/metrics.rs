//! `netsec metrics show/diff`: metric files (JSON, YAML or TOML) flattened to dotted numeric
//! keys, tables of them, and deltas between two versions.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Result, TrackingError};

/// Numeric leaves of one metric file, by dotted key (`test.f1`, `cv.table.0.f1_mean`).
pub type Flat = BTreeMap<String, f64>;

/// Parses a metric file by its extension (`.json`, `.yaml`/`.yml`, `.toml`; JSON otherwise).
pub fn parse(path: &str, bytes: &[u8]) -> Result<Value> {
    let err = |message: String| TrackingError::Artifact {
        path: path.into(),
        message,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| err(format!("not UTF-8: {e}")))?;
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        serde_norway::from_str(text).map_err(|e| err(e.to_string()))
    } else if lower.ends_with(".toml") {
        let v: toml::Value = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        serde_json::to_value(v).map_err(|e| err(e.to_string()))
    } else {
        serde_json::from_str(text).map_err(|e| err(e.to_string()))
    }
}

/// Numeric (and boolean, as 0/1) leaves of `v`, keyed by dotted path; array items by index
/// (the dotted spelling of `netsec_common::dotted`).
pub fn flatten(v: &Value) -> Flat {
    netsec_common::dotted::flatten("", v)
        .into_iter()
        .filter_map(|(k, leaf)| match leaf {
            Value::Number(n) => n.as_f64().map(|f| (k, f)),
            Value::Bool(b) => Some((k, if b { 1.0 } else { 0.0 })),
            _ => None,
        })
        .collect()
}

/// One changed (or added/removed) metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffRow {
    pub path: String,
    pub key: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
    /// `new − old` when both exist.
    pub delta: Option<f64>,
}

/// Rows whose value differs between `old` and `new` (per file path), sorted by path and key.
pub fn diff(old: &BTreeMap<String, Flat>, new: &BTreeMap<String, Flat>) -> Vec<DiffRow> {
    let empty = Flat::new();
    let mut rows = Vec::new();
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in paths {
        let (o, n) = (
            old.get(path).unwrap_or(&empty),
            new.get(path).unwrap_or(&empty),
        );
        let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for key in keys {
            let (a, b) = (o.get(key).copied(), n.get(key).copied());
            if a == b {
                continue;
            }
            rows.push(DiffRow {
                path: path.clone(),
                key: key.clone(),
                old: a,
                new: b,
                delta: a.zip(b).map(|(a, b)| b - a),
            });
        }
    }
    rows
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.6}")
    }
}

/// Left-aligned text table with a header row.
pub fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect::<Vec<_>>()
            .join("  ");
        s.truncate(s.trim_end().len());
        s + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

/// `netsec metrics show` table: path, key, value.
pub fn show_table(files: &BTreeMap<String, Flat>) -> String {
    let rows: Vec<Vec<String>> = files
        .iter()
        .flat_map(|(p, flat)| {
            flat.iter()
                .map(move |(k, v)| vec![p.clone(), k.clone(), num(*v)])
        })
        .collect();
    text_table(&["Path", "Metric", "Value"], &rows)
}

/// `netsec metrics diff` table: path, key, old, new, change.
pub fn diff_table(rows: &[DiffRow]) -> String {
    let opt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "-".into());
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.path.clone(),
                r.key.clone(),
                opt(r.old),
                opt(r.new),
                r.delta
                    .map(|d| format!("{d:+.6}"))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    text_table(&["Path", "Metric", "Old", "New", "Change"], &body)
}

/// `git show REV:path` in `root`: `Ok(None)` when the path does not exist at REV; an error
/// when `root` is not a git repository or REV is unknown.
pub fn git_show(root: &Path, rev: &str, path: &str) -> Result<Option<Vec<u8>>> {
    let verify = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .map_err(|e| TrackingError::Git {
            message: format!("cannot run git: {e}"),
        })?;
    if !verify.status.success() {
        return Err(TrackingError::Git {
            message: format!(
                "`{rev}` is not a commit of a git repository at `{}`",
                root.display()
            ),
        });
    }
    // `./` makes the path relative to `root` rather than to the git top level.
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .arg("show")
        .arg(format!("{rev}:./{path}"))
        .output()
        .map_err(|e| TrackingError::Git {
            message: format!("cannot run git: {e}"),
        })?;
    Ok(out.status.success().then_some(out.stdout))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flatten_and_diff() {
        let a = flatten(
            &serde_json::json!({"test": {"f1": 0.9, "rows": 10}, "model": "x", "ok": true, "l": [1, 2]}),
        );
        assert_eq!(a.get("test.f1"), Some(&0.9));
        assert_eq!(a.get("ok"), Some(&1.0));
        assert_eq!(a.get("l.1"), Some(&2.0));
        assert!(!a.contains_key("model"));
        let b = flatten(&serde_json::json!({"test": {"f1": 0.95, "rows": 10}, "new": 1}));
        let d = diff(
            &BTreeMap::from([("m.json".to_string(), a)]),
            &BTreeMap::from([("m.json".to_string(), b)]),
        );
        let keys: Vec<&str> = d.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["l.0", "l.1", "new", "ok", "test.f1"]);
        let f1 = d.iter().find(|r| r.key == "test.f1").unwrap();
        assert!((f1.delta.unwrap() - 0.05).abs() < 1e-12);
        assert!(diff_table(&d).contains("+0.050000"));
        let y = parse("a.yaml", b"x:\n  y: 3\n").unwrap();
        assert_eq!(flatten(&y).get("x.y"), Some(&3.0));
    }
}
