//! Flattening nested JSON values to dotted keys (`test.f1`, `models.0.name`): the one spelling
//! of a nested key that params, metrics and experiments share.

use std::collections::BTreeMap;

use serde_json::Value;

/// How arrays are flattened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrays {
    /// Items keyed by index (`models.0.name`): metrics, reports.
    Index,
    /// A whole array is one leaf: params, where a list is one value (`train.models`).
    Leaf,
}

/// Every leaf of `v` (scalars, empty arrays and objects) keyed by its dotted path from `prefix`;
/// array items are keyed by index. A scalar `v` is one leaf at `prefix`.
pub fn flatten(prefix: &str, v: &Value) -> BTreeMap<String, Value> {
    flatten_with(prefix, v, Arrays::Index)
}

/// [`flatten`], choosing how arrays are treated.
pub fn flatten_with(prefix: &str, v: &Value, arrays: Arrays) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    walk(prefix, v, arrays, &mut out);
    out
}

fn join(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

fn walk(prefix: &str, v: &Value, arrays: Arrays, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, item) in m {
                walk(&join(prefix, k), item, arrays, out);
            }
        }
        Value::Array(a) if !a.is_empty() && arrays == Arrays::Index => {
            for (i, item) in a.iter().enumerate() {
                walk(&join(prefix, &i.to_string()), item, arrays, out);
            }
        }
        leaf => {
            out.insert(prefix.to_string(), leaf.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_and_indexed() {
        let f = flatten(
            "",
            &json!({"test": {"f1": 0.9, "m": [1, {"a": true}]}, "e": {}}),
        );
        let keys: Vec<_> = f.keys().cloned().collect();
        assert_eq!(keys, ["e", "test.f1", "test.m.0", "test.m.1.a"]);
        assert_eq!(flatten("p", &json!(3))["p"], json!(3));
        let leaf = flatten_with("t", &json!({"m": [1, 2]}), Arrays::Leaf);
        assert_eq!(leaf["t.m"], json!([1, 2]));
    }
}
