//! Flattening nested JSON values to dotted keys (`test.f1`, `models.0.name`): the one spelling
//! of a nested key that params, metrics and experiments share.

use std::collections::BTreeMap;

use serde_json::Value;

/// Every leaf of `v` (scalars, empty arrays and objects) keyed by its dotted path from `prefix`;
/// array items are keyed by index. A scalar `v` is one leaf at `prefix`.
pub fn flatten(prefix: &str, v: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    walk(prefix, v, &mut out);
    out
}

fn join(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, item) in m {
                walk(&join(prefix, k), item, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, item) in a.iter().enumerate() {
                walk(&join(prefix, &i.to_string()), item, out);
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
    }
}
