//! `netsec explain STAGE --json`: a stage's state, every reason, and its fingerprint diff
//! against netsec.lock, field by field.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::reason::DirtyReason;
use crate::status::StageState;

/// One fingerprint field (dotted key, e.g. `params.train.c`, `deps.data/raw.csv.digest`) whose
/// locked and current values differ. `None` on a side = the field is absent there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub key: String,
    pub locked: Option<Value>,
    pub now: Option<Value>,
}

/// A locked out whose workspace content differs from the lock (full blake3 hex digests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutChange {
    pub path: String,
    pub locked: String,
    /// `None` when the out is missing from the workspace.
    pub now: Option<String>,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplainJson {
    pub stage: String,
    /// The command as it runs, `${…}` resolved (empty for a built-in stage).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    /// `frozen` whenever the stage is frozen (it never runs), else fresh or dirty.
    pub status: StageState,
    pub reasons: Vec<DirtyReason>,
    /// Whether netsec.lock has an entry for the stage (false: it never ran).
    pub in_lock: bool,
    /// Whether the current fingerprint could be computed (false: a dep is missing).
    pub has_fingerprint: bool,
    /// The differing fields, sorted by key (when one side is absent, every field of the other).
    pub changed: Vec<FieldChange>,
    /// How many fields are equal on both sides.
    pub unchanged: usize,
    pub outs: Vec<OutChange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let e = ExplainJson {
            stage: "train".into(),
            cmd: vec![],
            status: StageState::Dirty,
            reasons: vec![DirtyReason::ParamChanged {
                key: "train.c".into(),
                old: serde_json::json!(1.0),
                new: serde_json::json!(0.5),
            }],
            in_lock: true,
            has_fingerprint: true,
            changed: vec![FieldChange {
                key: "params.train.c".into(),
                locked: Some(serde_json::json!(1.0)),
                now: Some(serde_json::json!(0.5)),
            }],
            unchanged: 4,
            outs: vec![],
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(
            text.contains(r#""changed":[{"key":"params.train.c","locked":1.0,"now":0.5}]"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ExplainJson>(&text).unwrap(), e);
    }
}
