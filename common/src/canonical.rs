//! Canonical JSON: the one encoding netsec hashes and writes.
//!
//! Object keys are sorted (by their UTF-8 bytes) at every depth, integers print as integers,
//! floats as their shortest round-trip form (`-0.0` as `0.0`), strings with serde_json's escapes.
//! The bytes depend on the value only, never on how the binary was built: serde_json's
//! `preserve_order` feature (switched on for the whole build by `bson`) changes the order of its
//! `Map`, so nothing here relies on that order. Changing this encoding changes every fingerprint
//! (the lock format version must be bumped with it; a test in the engine pins one).

use serde::Serialize;
use serde_json::{Number, Value};

/// Compact canonical bytes of `value` (no whitespace, no trailing newline).
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let v = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, &v, None, 0);
    Ok(out)
}

/// Pretty canonical text of `value`: two-space indent, sorted keys, a final newline.
pub fn to_vec_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let v = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(1024);
    write_value(&mut out, &v, Some(2), 0);
    out.push(b'\n');
    Ok(out)
}

/// [`to_vec_pretty`] as a `String`.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    // The writer only emits UTF-8 (keys and strings come from `String`s).
    to_vec_pretty(value).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// [`to_vec`] as a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    to_vec(value).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn newline(out: &mut Vec<u8>, indent: Option<usize>, depth: usize) {
    if let Some(step) = indent {
        out.push(b'\n');
        out.resize(out.len() + step * depth, b' ');
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's string escaping is the same in every feature set.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(u) = n.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        let f = if f == 0.0 { 0.0 } else { f };
        match Number::from_f64(f) {
            Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value, indent: Option<usize>, depth: usize) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.extend_from_slice(b"[]");
                return;
            }
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, indent, depth + 1);
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(b']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.extend_from_slice(b"{}");
                return;
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                newline(out, indent, depth + 1);
                write_str(out, k);
                out.push(b':');
                if indent.is_some() {
                    out.push(b' ');
                }
                write_value(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sorted_at_every_depth_whatever_the_insertion_order() {
        let mut a = serde_json::Map::new();
        a.insert("z".into(), json!([{"b": 1, "a": 2}]));
        a.insert("a".into(), json!({"y": 1.5, "x": -0.0}));
        let text = to_string(&Value::Object(a)).unwrap();
        assert_eq!(text, r#"{"a":{"x":0.0,"y":1.5},"z":[{"a":2,"b":1}]}"#);
    }

    #[test]
    fn pretty_form_is_stable() {
        let text = to_string_pretty(&json!({"b": [], "a": {"c": "é\n"}, "n": 1e300})).unwrap();
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"c\": \"é\\n\"\n  },\n  \"b\": [],\n  \"n\": 1e+300\n}\n"
        );
    }

    #[test]
    fn integers_stay_integers_and_floats_round_trip() {
        let text = to_string(&json!([1, 1.0, u64::MAX, i64::MIN, 0.1])).unwrap();
        assert_eq!(
            text,
            "[1,1.0,18446744073709551615,-9223372036854775808,0.1]"
        );
    }
}
