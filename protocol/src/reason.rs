//! Why a stage is dirty: one enum, serialized for `--json` and rendered for humans here only.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One reason a stage must run. `status` reports all of them, not only the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DirtyReason {
    NeverRun,
    Forced,
    AlwaysChanged,
    CommandChanged {
        old: Vec<String>,
        new: Vec<String>,
    },
    BuiltinChanged {
        id: String,
        old_version: Option<u32>,
        new_version: u32,
    },
    ArgsChanged,
    DepChanged {
        path: String,
    },
    DepMissing {
        path: String,
    },
    DepAdded {
        path: String,
    },
    DepRemoved {
        path: String,
    },
    ParamChanged {
        key: String,
        old: Value,
        new: Value,
    },
    ParamAdded {
        key: String,
    },
    ParamRemoved {
        key: String,
    },
    OutMissing {
        path: String,
    },
    OutModified {
        path: String,
    },
    OutsChanged,
    /// Only in `repro --dry-run`: an upstream stage would run first, so this stage's deps may
    /// change (early cut-off decides at run time).
    UpstreamChanged {
        stage: String,
    },
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(39).collect::<String>())
    } else {
        s
    }
}

impl fmt::Display for DirtyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirtyReason::NeverRun => write!(f, "never run"),
            DirtyReason::Forced => write!(f, "forced"),
            DirtyReason::AlwaysChanged => write!(f, "always changed"),
            DirtyReason::CommandChanged { .. } => write!(f, "command changed"),
            DirtyReason::BuiltinChanged {
                id,
                old_version: Some(o),
                new_version,
            } => {
                write!(f, "built-in `{id}` version changed ({o} → {new_version})")
            }
            DirtyReason::BuiltinChanged {
                id,
                old_version: None,
                ..
            } => {
                write!(f, "action changed to built-in `{id}`")
            }
            DirtyReason::ArgsChanged => write!(f, "built-in arguments (`with`) changed"),
            DirtyReason::DepChanged { path } => write!(f, "dep `{path}` changed"),
            DirtyReason::DepMissing { path } => write!(f, "dep `{path}` missing"),
            DirtyReason::DepAdded { path } => write!(f, "dep `{path}` added"),
            DirtyReason::DepRemoved { path } => write!(f, "dep `{path}` removed"),
            DirtyReason::ParamChanged { key, old, new } => {
                write!(f, "param `{key}` changed ({} → {})", short(old), short(new))
            }
            DirtyReason::ParamAdded { key } => write!(f, "param `{key}` added"),
            DirtyReason::ParamRemoved { key } => write!(f, "param `{key}` removed"),
            DirtyReason::OutMissing { path } => write!(f, "out `{path}` missing"),
            DirtyReason::OutModified { path } => write!(f, "out `{path}` modified"),
            DirtyReason::OutsChanged => write!(f, "declared outs changed"),
            DirtyReason::UpstreamChanged { stage } => write!(f, "upstream `{stage}` would run"),
        }
    }
}

/// `a; b; c` as in ``Dirty `train`: param `train.c` changed (1.0 → 0.5); dep `a.txt` changed``.
pub fn join(reasons: &[DirtyReason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_shapes() {
        let r = DirtyReason::ParamChanged {
            key: "train.c".into(),
            old: serde_json::json!(1.0),
            new: serde_json::json!(0.5),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"kind":"param_changed","key":"train.c","old":1.0,"new":0.5}"#
        );
        let d = DirtyReason::DepChanged {
            path: "a.txt".into(),
        };
        assert_eq!(
            join(&[r, d]),
            "param `train.c` changed (1.0 → 0.5); dep `a.txt` changed"
        );
        assert_eq!(
            serde_json::to_string(&DirtyReason::NeverRun).unwrap(),
            r#"{"kind":"never_run"}"#
        );
    }
}
