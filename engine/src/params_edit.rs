//! `netsec exp run -S KEY=VALUE`: set param values where they live (pipeline.toml `[params]`
//! or the TOML/YAML/JSON file a key names), in place, every other byte of the file kept.
//!
//! TOML is edited with `toml_edit` (comments and layout kept). YAML is edited line by line:
//! only a key whose value is a plain one-line scalar or flow list is changed, its comment
//! kept. JSON is rewritten only when the file is already in the layout netsec would write
//! (two-space pretty print), so nothing else of it moves. Every edit is checked by parsing the
//! new text: it must equal the old content with exactly the named values changed, otherwise the
//! edit is refused (exit 3) and nothing is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::Error;
use crate::params::{toml_to_json, ParamKey};
use crate::pipeline::PipelineError;
use crate::repo_path::RepoPath;
use netsec_common::atomic::{write_atomic, Durability};

/// One `-S KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub key: ParamKey,
    pub value: Value,
}

impl Override {
    /// `train.seed=3`, `params.yaml:train.lr=0.1`, `'train.models=["forest"]'`: VALUE is a
    /// TOML value, or the text itself when it is not one (`-S train.kind=forest`).
    pub fn parse(raw: &str) -> Result<Override, Error> {
        let (k, v) = raw.split_once('=').ok_or_else(|| Error::Usage {
            message: format!("`-S {raw}` is not KEY=VALUE"),
            hint: Some("for example `-S train.seed=3` or `-S params.yaml:train.lr=0.1`".into()),
        })?;
        let key = ParamKey::parse(k).map_err(|m| Error::Usage {
            message: format!("`-S {raw}`: {m}"),
            hint: None,
        })?;
        Ok(Override {
            key,
            value: parse_value(v),
        })
    }

    /// `KEY=VALUE` as the user would type it again.
    pub fn display(&self) -> String {
        format!("{}={}", self.key, self.value)
    }
}

/// A TOML value (`3`, `0.1`, `true`, `["a"]`, `"x"`), else the text as a string.
pub fn parse_value(raw: &str) -> Value {
    let raw = raw.trim();
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t.remove("v").map_or(Value::Null, |v| toml_to_json(&v)),
        Err(_) => Value::String(raw.to_string()),
    }
}

/// The new text of every file the overrides touch, checked, not yet written.
#[derive(Debug)]
pub struct Plan {
    pub files: Vec<(PathBuf, String)>,
}

/// Compute the edits of `overrides` in the workspace at `root`. An unknown key (absent from
/// its source) is exit 3 naming it, with the nearest existing key as a hint.
pub fn plan(root: &Path, overrides: &[Override]) -> Result<Plan, Error> {
    let mut by_file: BTreeMap<Option<RepoPath>, Vec<&Override>> = BTreeMap::new();
    for o in overrides {
        by_file.entry(o.key.file.clone()).or_default().push(o);
    }
    let mut files = Vec::new();
    for (file, ovs) in by_file {
        let path = match &file {
            None => root.join(crate::workspace::MANIFEST),
            Some(f) => f.to_path(root),
        };
        let display = match &file {
            None => crate::workspace::MANIFEST.to_string(),
            Some(f) => f.to_string(),
        };
        let old = netsec_common::read_regular_string(&path, Some(64 << 20))
            .map_err(|e| invalid(format!("cannot read params file `{display}`: {e}"), None))?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let new = match (&file, ext) {
            (None, _) | (Some(_), "toml") => edit_toml(&old, file.is_none(), &ovs, &display)?,
            (Some(_), "json") => edit_json(&old, &ovs, &display)?,
            _ => edit_yaml(&old, &ovs, &display)?,
        };
        if new != old {
            files.push((path, new));
        }
    }
    Ok(Plan { files })
}

impl Plan {
    /// Like [`write`](Self::write), after checking that an edited pipeline.toml still loads
    /// (a built-in may refuse the new value): exit 3 and nothing written otherwise.
    pub fn write_checked(
        &self,
        root: &Path,
        ext: &crate::extensions::Extensions,
    ) -> Result<(), Error> {
        let manifest = root.join(crate::workspace::MANIFEST);
        for (path, text) in &self.files {
            if *path == manifest {
                crate::pipeline::Pipeline::parse(text, &manifest, root, ext)?;
            }
        }
        self.write()
    }

    /// Write every edited file (each atomically).
    pub fn write(&self) -> Result<(), Error> {
        for (path, text) in &self.files {
            write_atomic(path, text.as_bytes(), Durability::Fsync)
                .map_err(|e| Error::io("write", path, e))?;
        }
        Ok(())
    }
}

fn invalid(message: String, hint: Option<String>) -> Error {
    Error::Pipeline(PipelineError {
        message,
        hint,
        ..Default::default()
    })
}

fn unknown(key: &ParamKey, file: &str, known: &[String]) -> Error {
    let sub = crate::suggest::closest(&key.key, known.iter().map(String::as_str));
    invalid(
        format!("unknown param `{key}`: `{file}` has no such key"),
        Some(match sub {
            Some(s) => format!("did you mean `{}`?", key.display_sub(s)),
            None => "`-S` changes existing values only; add the key to the file first".into(),
        }),
    )
}

fn not_editable(key: &str, file: &str, why: &str) -> Error {
    invalid(
        format!("cannot set `{key}` in `{file}` safely: {why}"),
        Some("edit the file by hand, or keep this param in pipeline.toml `[params]`".into()),
    )
}

/// Leaf keys of a JSON value (for "did you mean").
fn leaf_keys(v: &Value) -> Vec<String> {
    netsec_common::dotted::flatten("", v).into_keys().collect()
}

/// `value` with `parts` set to `new`; `None` when a part is missing.
fn set_in(value: &mut Value, parts: &[&str], new: Value) -> Option<()> {
    let (first, rest) = parts.split_first()?;
    let slot = match value {
        Value::Object(m) => m.get_mut(*first)?,
        Value::Array(a) => a.get_mut(first.parse::<usize>().ok()?)?,
        _ => return None,
    };
    if rest.is_empty() {
        *slot = new;
        Some(())
    } else {
        set_in(slot, rest, new)
    }
}

/// Parse, apply the expected changes to the old content, compare with the new parse.
fn verify(
    old: &Value,
    new: &Value,
    ovs: &[&Override],
    file: &str,
    prefix: &[&str],
) -> Result<(), Error> {
    let mut expected = old.clone();
    for o in ovs {
        let parts: Vec<&str> = prefix.iter().copied().chain(o.key.key.split('.')).collect();
        set_in(&mut expected, &parts, o.value.clone())
            .ok_or_else(|| unknown(&o.key, file, &leaf_keys(old)))?;
    }
    if &expected != new {
        let key = ovs.first().map(|o| o.key.to_string()).unwrap_or_default();
        return Err(invalid(
            format!("cannot set `{key}` in `{file}` safely: the edited file would not hold exactly the new values"),
            Some("edit the file by hand".into()),
        ));
    }
    Ok(())
}

fn edit_toml(old: &str, in_params: bool, ovs: &[&Override], file: &str) -> Result<String, Error> {
    let mut doc: toml_edit::DocumentMut = old
        .parse()
        .map_err(|e| invalid(format!("`{file}` is not valid TOML: {e}"), None))?;
    let known = || -> Vec<String> {
        let t: toml::Table = toml::from_str(old).unwrap_or_default();
        let v = toml_to_json(&toml::Value::Table(t));
        let v = if in_params {
            v.get("params").cloned().unwrap_or(Value::Null)
        } else {
            v
        };
        leaf_keys(&v)
    };
    for o in ovs {
        let mut item: &mut toml_edit::Item = doc.as_item_mut();
        let parts: Vec<&str> = in_params
            .then_some("params")
            .into_iter()
            .chain(o.key.key.split('.'))
            .collect();
        for part in &parts {
            let next = match part.parse::<usize>() {
                Ok(i) if item.is_array() => item.get_mut(i),
                _ => item.get_mut(*part),
            };
            item = match next {
                Some(n) if !n.is_none() => n,
                _ => return Err(unknown(&o.key, file, &known())),
            };
        }
        let toml_text = json_to_toml_text(&o.value)
            .ok_or_else(|| not_editable(&o.key.to_string(), file, "TOML cannot hold a null"))?;
        let mut new: toml_edit::Value = toml_text
            .parse()
            .map_err(|e| not_editable(&o.key.to_string(), file, &format!("{e}")))?;
        match item {
            toml_edit::Item::Value(v) => {
                *new.decor_mut() = v.decor().clone();
                *v = new;
            }
            _ => {
                return Err(not_editable(
                    &o.key.to_string(),
                    file,
                    "it is a table; set its keys one by one",
                ))
            }
        }
    }
    let new = doc.to_string();
    let parse = |t: &str| -> Result<Value, Error> {
        toml::from_str::<toml::Table>(t)
            .map(|t| toml_to_json(&toml::Value::Table(t)))
            .map_err(|e| invalid(format!("`{file}` is not valid TOML: {e}"), None))
    };
    let prefix: &[&str] = if in_params { &["params"] } else { &[] };
    verify(&parse(old)?, &parse(&new)?, ovs, file, prefix)?;
    Ok(new)
}

/// A JSON value as TOML text (`None` for null, which TOML lacks).
fn json_to_toml_text(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => toml::Value::String(s.clone()).to_string(),
        Value::Array(a) => {
            let items: Option<Vec<String>> = a.iter().map(json_to_toml_text).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(m) => {
            let items: Option<Vec<String>> = m
                .iter()
                .map(|(k, v)| {
                    Some(format!(
                        "{} = {}",
                        toml::Value::String(k.clone()),
                        json_to_toml_text(v)?
                    ))
                })
                .collect();
            format!("{{ {} }}", items?.join(", "))
        }
    })
}

fn edit_json(old: &str, ovs: &[&Override], file: &str) -> Result<String, Error> {
    let parsed: Value = serde_json::from_str(old)
        .map_err(|e| invalid(format!("`{file}` is not valid JSON: {e}"), None))?;
    let pretty = serde_json::to_string_pretty(&parsed).unwrap_or_default();
    if pretty != old.trim_end_matches('\n') {
        let key = ovs.first().map(|o| o.key.to_string()).unwrap_or_default();
        return Err(not_editable(
            &key,
            file,
            "the file is not in two-space pretty-printed JSON layout, and rewriting it would change more than the value",
        ));
    }
    let mut value = parsed.clone();
    for o in ovs {
        let parts: Vec<&str> = o.key.key.split('.').collect();
        set_in(&mut value, &parts, o.value.clone())
            .ok_or_else(|| unknown(&o.key, file, &leaf_keys(&parsed)))?;
    }
    let mut new = serde_json::to_string_pretty(&value).unwrap_or_default();
    if old.ends_with('\n') {
        new.push('\n');
    }
    Ok(new)
}

fn edit_yaml(old: &str, ovs: &[&Override], file: &str) -> Result<String, Error> {
    let parse = |t: &str| -> Result<Value, Error> {
        if let Some((line, depth)) = netsec_common::yaml_too_deep(t, crate::manifest::MAX_DEPTH) {
            return Err(invalid(
                format!("`{file}` line {line}: nested {depth} levels deep"),
                None,
            ));
        }
        serde_norway::from_str(t)
            .map_err(|e| invalid(format!("`{file}` is not valid YAML: {e}"), None))
    };
    let before = parse(old)?;
    let mut text = old.to_string();
    for o in ovs {
        let parts: Vec<&str> = o.key.key.split('.').collect();
        text = yaml_set_line(&text, &parts, &o.value).map_err(|why| match why {
            YamlMiss::Missing => unknown(&o.key, file, &leaf_keys(&before)),
            YamlMiss::Unsafe(w) => not_editable(&o.key.to_string(), file, w),
        })?;
    }
    verify(&before, &parse(&text)?, ovs, file, &[])?;
    Ok(text)
}

enum YamlMiss {
    Missing,
    Unsafe(&'static str),
}

/// Replace the one-line value of the block-mapping key at `parts`, keeping its comment.
fn yaml_set_line(text: &str, parts: &[&str], value: &Value) -> Result<String, YamlMiss> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let content = body.trim_start_matches(' ');
        let indent = body.len() - content.len();
        if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        if content.starts_with('-') {
            continue; // sequence items: keys under them are not addressed here
        }
        let Some((key, rest)) = split_key(content) else {
            continue;
        };
        let depth = stack.len();
        let on_path = depth < parts.len()
            && stack.iter().zip(parts).all(|((_, k), p)| k == p)
            && key == parts[depth];
        if !on_path {
            continue;
        }
        let value_part = rest.trim_start();
        if depth + 1 < parts.len() {
            if !value_part.is_empty() && !value_part.starts_with('#') {
                return Err(YamlMiss::Unsafe("a parent key is written in flow style"));
            }
            stack.push((indent, key));
            continue;
        }
        if value_part.is_empty() || value_part.starts_with('#') {
            return Err(YamlMiss::Unsafe(
                "it is a mapping or a block value, not a one-line value",
            ));
        }
        if value_part.starts_with(['|', '>', '&', '*', '!', '{']) {
            return Err(YamlMiss::Unsafe(
                "its value is a block, anchor, alias, tag or flow mapping",
            ));
        }
        let comment = comment_start(value_part).map_or("", |i| &value_part[i..]);
        let vstart = start + indent + (content.len() - value_part.len());
        let vend = start + body.len();
        let scalar = serde_json::to_string(value).unwrap_or_default();
        let mut out = String::with_capacity(text.len() + scalar.len());
        out.push_str(&text[..vstart]);
        out.push_str(&scalar);
        if !comment.is_empty() {
            out.push(' ');
            out.push_str(comment);
        }
        out.push_str(&text[vend..]);
        return Ok(out);
    }
    Err(YamlMiss::Missing)
}

/// `key: rest` of a block-mapping line (plain or quoted key).
fn split_key(content: &str) -> Option<(String, &str)> {
    if let Some(q) = content.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = content[1..].find(q)? + 1;
        let rest = content[end + 1..].strip_prefix(':')?;
        return Some((content[1..end].to_string(), rest));
    }
    let bytes = content.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' ') {
            return Some((content[..i].to_string(), &content[i + 1..]));
        }
        if *b == b'#' && i > 0 && bytes[i - 1] == b' ' {
            return None;
        }
    }
    None
}

/// Byte index of a ` #` comment in a value, outside quotes.
fn comment_start(v: &str) -> Option<usize> {
    let mut quote = None;
    let bytes = v.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match (quote, *b) {
            (None, b'"' | b'\'') => quote = Some(*b),
            (Some(q), c) if c == q => quote = None,
            (None, b'#') if i > 0 && bytes[i - 1] == b' ' => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(k: &str, v: &str) -> Override {
        Override::parse(&format!("{k}={v}")).unwrap()
    }

    #[test]
    fn toml_params_keep_comments_and_inline_tables() {
        let old = "# top\n[params]\ntrain = { c = 1.0, folds = 5 } # the model\nseed = 3 # s\n";
        let o = [ov("train.c", "2.5"), ov("seed", "7")];
        let refs: Vec<&Override> = o.iter().collect();
        let new = edit_toml(old, true, &refs, "pipeline.toml").unwrap();
        assert_eq!(
            new,
            "# top\n[params]\ntrain = { c = 2.5, folds = 5 } # the model\nseed = 7 # s\n"
        );
        let bad = [ov("train.cc", "1")];
        let refs: Vec<&Override> = bad.iter().collect();
        let e = edit_toml(old, true, &refs, "pipeline.toml").unwrap_err();
        assert!(e.to_string().contains("train.cc"), "{e}");
        assert_eq!(e.exit_code(), 3);
        assert!(e.hint().unwrap().contains("train.c"));
    }

    #[test]
    fn yaml_line_edit_keeps_comments_and_refuses_blocks() {
        let old = "train:\n  lr: 0.1   # learning rate\n  name: 'a # b'\n  models: [a, b]\nother: |\n  text\n";
        let o = [ov("train.lr", "0.3"), ov("train.models", "[\"c\"]")];
        let refs: Vec<&Override> = o.iter().collect();
        let new = edit_yaml(old, &refs, "p.yaml").unwrap();
        assert_eq!(
            new,
            "train:\n  lr: 0.3 # learning rate\n  name: 'a # b'\n  models: [\"c\"]\nother: |\n  text\n"
        );
        let o = [ov("other", "1")];
        let refs: Vec<&Override> = o.iter().collect();
        assert!(edit_yaml(old, &refs, "p.yaml")
            .unwrap_err()
            .to_string()
            .contains("safely"));
        let o = [ov("train.nope", "1")];
        let refs: Vec<&Override> = o.iter().collect();
        assert!(edit_yaml(old, &refs, "p.yaml")
            .unwrap_err()
            .to_string()
            .contains("unknown param"));
    }

    #[test]
    fn json_is_edited_only_in_its_canonical_layout() {
        let old = "{\n  \"train\": {\n    \"lr\": 0.1\n  }\n}\n";
        let o = [ov("train.lr", "0.2")];
        let refs: Vec<&Override> = o.iter().collect();
        assert_eq!(
            edit_json(old, &refs, "p.json").unwrap(),
            "{\n  \"train\": {\n    \"lr\": 0.2\n  }\n}\n"
        );
        assert!(edit_json("{\"train\": {\"lr\": 0.1}}", &refs, "p.json").is_err());
    }

    #[test]
    fn values_are_toml_or_text() {
        assert_eq!(parse_value("3"), serde_json::json!(3));
        assert_eq!(parse_value("[\"a\"]"), serde_json::json!(["a"]));
        assert_eq!(parse_value("forest"), serde_json::json!("forest"));
    }
}
