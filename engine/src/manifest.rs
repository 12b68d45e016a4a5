//! Raw serde model of `pipeline.toml`, with source spans kept so that validation errors can
//! name a line and column. Nothing here is validated; `pipeline` turns it into domain types.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// The whole file as written. Deserialized by hand (below) rather than with
/// `#[serde(flatten)]`, which would buffer the whole document into an intermediate tree before
/// reading it a second time: a third of the parse of a 10,000-stage file.
#[derive(Debug, Default)]
pub struct RawManifest {
    pub params: Option<Spanned<toml::Table>>,
    pub stages: BTreeMap<Spanned<String>, Spanned<RawStage>>,
    /// `[vars]`: values for `${vars.NAME}` that are not params (see `interpolate`).
    pub vars: Option<Spanned<toml::Table>>,
    /// `[remotes.NAME]` tables, kept untyped with spans so that `remote::config` can name the
    /// line of an unknown or mistyped key (an error there, not a warning).
    pub remotes: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawRemote>>>>,
    /// `[executor]`: where stages run (see `run_settings`).
    pub executor: Option<Spanned<RawRemote>>,
    /// Every other top-level key: the tables a binary registers (`[tracking]`) are checked
    /// by their owner (`Extensions::tables`); the rest are reported as unknown.
    pub other: BTreeMap<String, toml::Value>,
}

impl<'de> Deserialize<'de> for RawManifest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawManifest;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a pipeline.toml document (`[stages.NAME]` tables)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawManifest, A::Error> {
                let mut m = RawManifest::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "params" => m.params = Some(map.next_value()?),
                        "stages" => m.stages = map.next_value()?,
                        "vars" => m.vars = Some(map.next_value()?),
                        "remotes" => m.remotes = Some(map.next_value()?),
                        "executor" => m.executor = Some(map.next_value()?),
                        _ => {
                            let value = map.next_value()?;
                            m.other.insert(key, value);
                        }
                    }
                }
                Ok(m)
            }
        }
        d.deserialize_map(V)
    }
}

/// One `[remotes.NAME]` (or `[executor]`) table: key → value, both with their spans.
pub type RawRemote = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// One `[stages.NAME]` table. Unknown keys are errors (exit 3, with a suggestion): a typo such
/// as `outz` would otherwise leave the stage silently without outs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// A list or table this definition is expanded over (see `expand`).
    pub foreach: Option<Spanned<toml::Value>>,
    /// Axes whose every combination is one stage (see `expand`).
    pub matrix: Option<Spanned<RawMatrix>>,
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
    /// Free-form metadata (as DVC's `meta`); never affects anything.
    #[serde(default)]
    pub meta: Option<toml::Value>,
    /// Run settings (`run_settings`): not fingerprinted.
    pub timeout: Option<Spanned<toml::Value>>,
    pub retries: Option<Spanned<toml::Value>>,
    pub resources: Option<Spanned<RawRemote>>,
    pub executor: Option<Spanned<String>>,
}

/// `matrix = { AXIS = [..], .. }` with its axes in declaration order (member names join the
/// values in that order, whatever the TOML map type sorts by).
#[derive(Debug, Clone)]
pub struct RawMatrix(pub Vec<(Spanned<String>, Spanned<toml::Value>)>);

impl<'de> Deserialize<'de> for RawMatrix {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawMatrix;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table of lists `{ model = [\"a\", \"b\"], seed = [1, 2] }`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<RawMatrix, A::Error> {
                let mut axes: Vec<(Spanned<String>, Spanned<toml::Value>)> = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    axes.push(entry);
                }
                // The parser's tables may be sorted by key: the keys' places give the order.
                axes.sort_by_key(|(k, _)| k.span().start);
                Ok(RawMatrix(axes))
            }
        }
        d.deserialize_map(V)
    }
}

/// `cmd = "…"` or `cmd = ["…", "…"]`.
#[derive(Debug, Clone)]
pub enum RawCmd {
    One(String),
    Many(Vec<String>),
}

// By hand rather than `untagged` (which buffers every value to try each variant in turn).
impl<'de> Deserialize<'de> for RawCmd {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawCmd;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a command string or a list of command strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawCmd, E> {
                Ok(RawCmd::One(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<RawCmd, E> {
                Ok(RawCmd::One(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawCmd, A::Error> {
                let mut cmds = Vec::new();
                while let Some(c) = seq.next_element::<String>()? {
                    cmds.push(c);
                }
                Ok(RawCmd::Many(cmds))
            }
        }
        d.deserialize_any(V)
    }
}

/// `"path"` or `{ path = "…", cache = false, persist = true, metric = true, plot = true }`.
#[derive(Debug, Clone)]
pub enum RawOut {
    Path(String),
    Table(RawOutTable),
}

// By hand rather than `untagged`, so that an unknown key in an out table is reported as such
// (with its span) instead of "did not match any variant".
impl<'de> Deserialize<'de> for RawOut {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawOut;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path string or a table `{ path = \"…\", cache = …, persist = …, metric = …, plot = … }`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawOut, E> {
                Ok(RawOut::Path(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawOut, A::Error> {
                RawOutTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(RawOut::Table)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutTable {
    pub path: String,
    #[serde(default = "yes")]
    pub cache: bool,
    #[serde(default)]
    pub persist: bool,
    #[serde(default)]
    pub metric: bool,
    /// Plot data (CSV, TSV, JSON or JSON Lines) shown by `netsec plots show`.
    #[serde(default)]
    pub plot: bool,
    pub desc: Option<String>,
}

fn yes() -> bool {
    true
}

/// Top-level keys the engine owns; a binary adds its own tables (`Extensions::tables`,
/// e.g. `tracking`). Anything else is an error. Only keys under `[params]` are free-form.
pub const TOP_LEVEL_KEYS: &[&str] = &["params", "stages", "remotes", "executor", "vars"];

/// The hint for serde's "unknown field `x`, expected one of `a`, `b`" (from a
/// `deny_unknown_fields` struct): a suggestion, or what the key would need.
pub fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    if field == "do" {
        // DVC nests the template under `do:`; here its keys sit beside `foreach`.
        return Some(
            "write the stage's keys (`cmd`, `deps`, `outs`, …) beside `foreach`, without `do`"
                .into(),
        );
    }
    let known: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    Some(
        match crate::suggest::closest(field, known.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? known keys: {}", known.join(", ")),
            None => format!("known keys: {}", known.join(", ")),
        },
    )
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

/// Where the key `path` (from the top level) is written in `src`: the span of the deepest key
/// of the path found, `None` when not even the first one is (for errors in tables the engine
/// does not own, whose checks name a key path).
pub fn key_path_span(src: &str, path: &[&str]) -> Option<Range<usize>> {
    let doc = toml_edit::Document::parse(src).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut best = None;
    for seg in path {
        let Some((key, item)) = table.get_key_value(seg) else {
            break;
        };
        best = key.span().or_else(|| item.span()).or(best);
        match item.as_table_like() {
            Some(t) => table = t,
            None => break,
        }
    }
    best
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
"#;
        let m: RawManifest = toml::from_str(src).unwrap();
        let a = m.stages.values().next().unwrap().get_ref();
        assert!(matches!(a.cmd.as_ref().unwrap().get_ref(), RawCmd::Many(v) if v.len() == 2));
        assert!(matches!(a.outs[1].get_ref(), RawOut::Table(t) if !t.cache));
        assert_eq!(line_col(src, src.find("outs").unwrap()), (4, 1));
        let typo = toml::from_str::<RawManifest>("[stages.a]\noutz = []\n").unwrap_err();
        let hint = unknown_field_hint(typo.message()).unwrap();
        assert!(hint.starts_with("did you mean `outs`?"), "{hint}");
        let out_typo =
            toml::from_str::<RawManifest>("[stages.a]\nouts = [{ path = \"x\", cahce = false }]\n")
                .unwrap_err();
        assert!(
            out_typo.message().contains("unknown field `cahce`"),
            "{out_typo}"
        );
        assert!(unknown_field_hint(out_typo.message())
            .unwrap()
            .starts_with("did you mean `cache`?"));
    }

    #[test]
    fn key_path_span_finds_the_deepest_key() {
        let src = "[plots.roc]\nfile = \"a.csv\"\ntemplate = \"pie\"\n[plots.pr]\nx = 1\n";
        let at = |p: &[&str]| key_path_span(src, p).map(|s| line_col(src, s.start));
        assert_eq!(at(&["plots", "roc", "template"]), Some((3, 1)));
        assert_eq!(at(&["plots", "pr", "x"]), Some((5, 1)));
        // A missing key falls back to the deepest one found.
        assert_eq!(at(&["plots", "pr", "y"]).map(|l| l.0), Some(4));
        let inline = "plots = { roc = { file = \"a\", y = [1] } }\n";
        let s = key_path_span(inline, &["plots", "roc", "y"]).unwrap();
        assert_eq!(&inline[s], "y");
        assert_eq!(key_path_span(src, &["nope"]), None);
    }
}
