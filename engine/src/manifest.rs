//! Raw serde model of `pipeline.toml`, with source spans kept so that validation errors can
//! name a line and column. Nothing here is validated; `pipeline` turns it into domain types.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// The whole file as written.
#[derive(Debug, Deserialize)]
pub struct RawManifest {
    #[serde(default)]
    pub params: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub stages: BTreeMap<Spanned<String>, Spanned<RawStage>>,
    /// `[remotes.NAME]` tables, kept untyped with spans so that `remote::config` can name the
    /// line of an unknown or mistyped key (an error there, not a warning).
    #[serde(default)]
    pub remotes: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawRemote>>>>,
    /// Every other top-level key: the tables a binary registers (`[tracking]`) are checked
    /// by their owner (`Extensions::tables`); the rest are reported as unknown.
    #[serde(flatten)]
    pub other: BTreeMap<String, toml::Value>,
}

/// One `[remotes.NAME]` table: key → value, both with their spans.
pub type RawRemote = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// One `[stages.NAME]` table.
#[derive(Debug, Deserialize)]
pub struct RawStage {
    pub cmd: Option<Spanned<RawCmd>>,
    pub uses: Option<Spanned<String>>,
    pub with: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub deps: Vec<Spanned<String>>,
    #[serde(default)]
    pub outs: Vec<Spanned<RawOut>>,
    #[serde(default)]
    pub params: Vec<Spanned<String>>,
    pub wdir: Option<Spanned<String>>,
    pub desc: Option<String>,
    #[serde(default)]
    pub frozen: bool,
    #[serde(default)]
    pub always_changed: bool,
}

/// `cmd = "…"` or `cmd = ["…", "…"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawCmd {
    One(String),
    Many(Vec<String>),
}

/// `"path"` or `{ path = "…", cache = false, persist = true, metric = true }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawOut {
    Path(String),
    Table(RawOutTable),
}

#[derive(Debug, Deserialize)]
pub struct RawOutTable {
    pub path: String,
    #[serde(default = "yes")]
    pub cache: bool,
    #[serde(default)]
    pub persist: bool,
    #[serde(default)]
    pub metric: bool,
    pub desc: Option<String>,
}

fn yes() -> bool {
    true
}

/// Keys the engine understands, used to warn about the rest. `tracking` is read by the binary
/// (MLflow settings, `netsec-tracking`), not by the engine. `remotes` is validated strictly by
/// `remote::config` (unknown keys there are errors).
pub const TOP_LEVEL_KEYS: &[&str] = &["params", "stages", "tracking", "remotes"];
pub const STAGE_KEYS: &[&str] = &[
    "cmd",
    "uses",
    "with",
    "deps",
    "outs",
    "params",
    "wdir",
    "desc",
    "frozen",
    "always_changed",
    "meta",
];
pub const OUT_KEYS: &[&str] = &["path", "cache", "persist", "metric", "desc"];

/// An unknown key found in the file (reported as a warning, never silently dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// Dotted location, e.g. `stages.train.outz`.
    pub key: String,
    pub span: Option<Range<usize>>,
}

/// Walk a second, untyped parse of the file and list keys no struct field consumes.
pub fn unknown_keys(src: &str) -> Vec<UnknownKey> {
    type SpannedTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;
    let Ok(top) = toml::from_str::<SpannedTable>(src) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (k, v) in &top {
        if !TOP_LEVEL_KEYS.contains(&k.get_ref().as_str()) {
            found.push(UnknownKey {
                key: k.get_ref().clone(),
                span: Some(k.span()),
            });
            continue;
        }
        if k.get_ref() != "stages" {
            continue;
        }
        let Some(stages) = v.get_ref().as_table() else {
            continue;
        };
        for (name, stage) in stages {
            let Some(stage) = stage.as_table() else {
                continue;
            };
            for (field, value) in stage {
                if !STAGE_KEYS.contains(&field.as_str()) {
                    found.push(UnknownKey {
                        key: format!("stages.{name}.{field}"),
                        span: None,
                    });
                }
                if field == "outs" {
                    for out in value.as_array().into_iter().flatten() {
                        for key in out.as_table().into_iter().flat_map(|t| t.keys()) {
                            if !OUT_KEYS.contains(&key.as_str()) {
                                found.push(UnknownKey {
                                    key: format!("stages.{name}.outs.{key}"),
                                    span: None,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    found
}

/// 1-based line and column of a byte offset.
/// Deepest nesting of tables, arrays and inline tables pipeline.toml may use. The TOML parser
/// recurses per level: a file nested 100,000 deep must be refused before it is parsed.
pub const MAX_DEPTH: usize = 64;

/// The first place nested deeper than [`MAX_DEPTH`] (a dotted header such as `[a.b.c…]` or
/// brackets and braces of values), with the depth found. Strings and comments are skipped.
pub fn too_deep(src: &str) -> Option<(Range<usize>, usize)> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                let triple = bytes.get(i..i + 3) == Some(&[b, b, b][..]);
                let close: &[u8] = if triple {
                    &bytes[i..i + 3]
                } else {
                    &bytes[i..i + 1]
                };
                i += close.len();
                while i < bytes.len() && !bytes[i..].starts_with(close) {
                    if b == b'"' && bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += close.len();
                continue;
            }
            b'[' if line_start && depth == 0 => {
                // A table header: its depth is its number of dotted keys.
                let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
                let dots = src[i..end]
                    .split('#')
                    .next()
                    .unwrap_or("")
                    .matches('.')
                    .count()
                    + 1;
                if dots > MAX_DEPTH {
                    return Some((i..end, dots));
                }
                i = end;
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some((i..i + 1, depth));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        line_start = b == b'\n' || (line_start && (b == b' ' || b == b'\t'));
        i += 1;
    }
    None
}

/// The span of the first line that opens the top-level table `key` (`[key]`, `[key.…]` or
/// `key = …`), for messages about a table checked after parsing.
pub fn table_span(src: &str, key: &str) -> Option<Range<usize>> {
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let t = line.trim_start();
        let opens = t
            .strip_prefix('[')
            .map(|r| {
                r.trim_start()
                    .strip_prefix(key)
                    .is_some_and(|r| r.starts_with([']', '.']))
            })
            .unwrap_or(false)
            || t.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(['=', '.']));
        if opens {
            let start = offset + (line.len() - t.len());
            return Some(start..offset + line.trim_end().len());
        }
        offset += line.len();
    }
    None
}

pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_cmd_and_out_shapes() {
        let src = r#"
[stages.a]
cmd = ["echo 1", "echo 2"]
outs = ["x", { path = "y", cache = false }]
oops = 1
"#;
        let m: RawManifest = toml::from_str(src).unwrap();
        let a = m.stages.values().next().unwrap().get_ref();
        assert!(matches!(a.cmd.as_ref().unwrap().get_ref(), RawCmd::Many(v) if v.len() == 2));
        assert!(matches!(a.outs[1].get_ref(), RawOut::Table(t) if !t.cache));
        let unknown = unknown_keys(src);
        assert_eq!(unknown[0].key, "stages.a.oops");
        assert_eq!(line_col(src, src.find("outs").unwrap()), (4, 1));
    }
}
