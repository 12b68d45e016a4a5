//! Params: keys a stage tracks, looked up in `[params]` of pipeline.toml or in a TOML/YAML/JSON
//! file (`"params.yaml:train.lr"`). Only the **values** of tracked keys enter a fingerprint.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::repo_path::RepoPath;

/// A tracked key: a dotted path, optionally in another params file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParamKey {
    /// `None`: the `[params]` table of pipeline.toml.
    pub file: Option<RepoPath>,
    pub key: String,
}

impl ParamKey {
    /// `"train.c"` or `"params.yaml:train.c"`.
    pub fn parse(raw: &str) -> Result<ParamKey, String> {
        let raw = raw.trim();
        if let Some((file, key)) = raw.split_once(':') {
            let f = RepoPath::parse(file).map_err(|e| e.to_string())?;
            if key.is_empty() {
                return Err(format!("param `{raw}` names a file but no key"));
            }
            return Ok(ParamKey {
                file: Some(f),
                key: key.to_string(),
            });
        }
        if raw.is_empty() {
            return Err("empty param key".into());
        }
        Ok(ParamKey {
            file: None,
            key: raw.to_string(),
        })
    }

    /// Display form of a (possibly deeper) key in the same file.
    pub fn display_sub(&self, sub: &str) -> String {
        match &self.file {
            None => sub.to_string(),
            Some(f) => format!("{f}:{sub}"),
        }
    }
}

impl fmt::Display for ParamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_sub(&self.key))
    }
}

/// Why a params lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    #[error("cannot read params file `{path}`: {message}")]
    Read { path: PathBuf, message: String },
    #[error("param `{key}` does not exist")]
    Missing { key: String },
}

/// Deepest nesting of a params file (the same bound as pipeline.toml's).
const MAX_DEPTH: usize = crate::manifest::MAX_DEPTH;
/// Largest params file read (a FIFO or a device named as one is refused, not read forever).
const MAX_PARAMS_BYTES: u64 = 64 << 20;

/// Loaded params sources, each converted to JSON values once.
#[derive(Debug, Default)]
pub struct ParamStore {
    root: PathBuf,
    default: Value,
    files: BTreeMap<RepoPath, Value>,
}

impl ParamStore {
    pub fn new(root: &Path, default: Option<&toml::Table>) -> ParamStore {
        ParamStore {
            root: root.to_path_buf(),
            default: default.map_or(Value::Object(Default::default()), |t| {
                toml_to_json(&toml::Value::Table(t.clone()))
            }),
            files: BTreeMap::new(),
        }
    }

    fn source(&mut self, file: Option<&RepoPath>) -> Result<&Value, ParamsError> {
        let Some(file) = file else {
            return Ok(&self.default);
        };
        if !self.files.contains_key(file) {
            let path = file.to_path(&self.root);
            let err = |message: String| ParamsError::Read {
                path: path.clone(),
                message,
            };
            let text = netsec_common::read_regular_string(&path, Some(MAX_PARAMS_BYTES))
                .map_err(|e| err(e.to_string()))?;
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            // The TOML and YAML parsers recurse per level of nesting: a file nested 100,000
            // deep is refused before either runs (serde_json stops at 128 levels itself).
            let deep = match ext {
                "toml" => crate::manifest::too_deep(&text)
                    .map(|(span, depth)| (text[..span.start].matches('\n').count() + 1, depth)),
                "json" => None,
                _ => netsec_common::yaml_too_deep(&text, MAX_DEPTH),
            };
            if let Some((line, depth)) = deep {
                return Err(err(format!(
                    "line {line}: nested {depth} levels deep; at most {MAX_DEPTH} are allowed"
                )));
            }
            let value = match ext {
                "toml" => toml::from_str::<toml::Table>(&text)
                    .map(|t| toml_to_json(&toml::Value::Table(t)))
                    .map_err(|e| err(e.to_string()))?,
                "json" => serde_json::from_str(&text).map_err(|e| err(e.to_string()))?,
                _ => serde_norway::from_str(&text).map_err(|e| err(e.to_string()))?,
            };
            self.files.insert(file.clone(), value);
        }
        Ok(&self.files[file])
    }

    /// The value at `key`, or an error naming the missing key.
    pub fn lookup(&mut self, key: &ParamKey) -> Result<Value, ParamsError> {
        let src = self.source(key.file.as_ref())?;
        let mut cur = src;
        for part in key.key.split('.') {
            cur = match cur {
                Value::Object(m) => m.get(part),
                Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            }
            .ok_or_else(|| ParamsError::Missing {
                key: key.to_string(),
            })?;
        }
        Ok(cur.clone())
    }

    /// The tracked keys' values, flattened to leaf keys (`params = ["train"]` yields
    /// `train.c`, `train.folds`, …) so a change is reported at the key that changed.
    pub fn tracked(&mut self, keys: &[ParamKey]) -> Result<BTreeMap<String, Value>, ParamsError> {
        let mut out = BTreeMap::new();
        for k in keys {
            let v = self.lookup(k)?;
            flatten(k, &k.key, &v, &mut out);
        }
        Ok(out)
    }

    /// The tracked keys nested by their dotted path, as a built-in stage sees them.
    pub fn nested(&mut self, keys: &[ParamKey]) -> Result<Value, ParamsError> {
        let mut root = Value::Object(Default::default());
        for k in keys {
            let v = self.lookup(k)?;
            let mut cur = &mut root;
            let parts: Vec<&str> = k.key.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                let Value::Object(map) = cur else { break };
                if i + 1 == parts.len() {
                    map.insert((*part).to_string(), v.clone());
                    break;
                }
                cur = map
                    .entry((*part).to_string())
                    .or_insert_with(|| Value::Object(Default::default()));
            }
        }
        Ok(root)
    }
}

/// The leaves of a tracked value under `path`, keyed as `status` names them. A list is one
/// value (changing it is one `param changed`), a table is opened to its keys.
fn flatten(k: &ParamKey, path: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    use netsec_common::dotted::{flatten_with, Arrays};
    for (sub, val) in flatten_with(path, v, Arrays::Leaf) {
        out.insert(k.display_sub(&sub), val);
    }
}

/// Convert TOML to JSON; datetimes become their RFC 3339 text.
pub fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or_else(|| Value::String(f.to_string()), Value::Number),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> ParamStore {
        let t: toml::Table =
            toml::from_str("[train]\nc = 1.0\nfolds = 5\n[ingest]\nseed = 42\n").unwrap();
        ParamStore::new(Path::new("/nonexistent"), Some(&t))
    }

    #[test]
    fn tracks_only_listed_values_flattened() {
        let mut s = store();
        let keys = vec![ParamKey::parse("train").unwrap()];
        let t = s.tracked(&keys).unwrap();
        assert_eq!(
            t.keys().cloned().collect::<Vec<_>>(),
            vec!["train.c", "train.folds"]
        );
        assert_eq!(t["train.c"].to_string(), "1.0");
        let missing = s.lookup(&ParamKey::parse("train.nope").unwrap());
        assert!(matches!(missing, Err(ParamsError::Missing { .. })));
    }

    #[test]
    fn deep_params_files_are_refused_before_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let deep = "[".repeat(100_000);
        std::fs::write(dir.path().join("p.yaml"), format!("a:\n  b: {deep}")).unwrap();
        std::fs::write(dir.path().join("p.toml"), format!("a = {deep}")).unwrap();
        std::fs::write(dir.path().join("p.json"), format!("{{\"a\": {deep}")).unwrap();
        let mut s = ParamStore::new(dir.path(), None);
        for (f, line) in [
            ("p.yaml", Some("line 2")),
            ("p.toml", Some("line 1")),
            ("p.json", None),
        ] {
            let started = std::time::Instant::now();
            let e = s
                .lookup(&ParamKey::parse(&format!("{f}:a")).unwrap())
                .expect_err(f)
                .to_string();
            assert!(started.elapsed().as_secs() < 2, "{f}");
            if let Some(line) = line {
                assert!(e.contains(line) && e.contains("at most 64"), "{f}: {e}");
            }
        }
    }

    #[test]
    fn nested_view_for_builtins() {
        let mut s = store();
        let keys = vec![ParamKey::parse("ingest.seed").unwrap()];
        assert_eq!(
            s.nested(&keys).unwrap(),
            serde_json::json!({"ingest": {"seed": 42}})
        );
        let k = ParamKey::parse("params.yaml:train.lr").unwrap();
        assert_eq!(k.to_string(), "params.yaml:train.lr");
    }
}
