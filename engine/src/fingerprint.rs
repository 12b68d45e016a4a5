//! The fingerprint: everything that decides whether a stage reruns, stored whole in
//! `netsec.lock` so that "why" is a field-by-field diff (as cargo does), never a bare hash.
//!
//! It holds content digests and param values only: no mtimes, no absolute paths, no wall clock.
//! Its canonical JSON, hashed, is the run-cache key.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digest;
use crate::params::toml_to_json;
use crate::pipeline::{Action, Stage};
use crate::repo_path::RepoPath;

/// Bump to invalidate every stage's lock entry and run-cache entry. 2: the key is the blake3
/// of the canonical encoding (`netsec_common::canonical`), no longer of serde_json's output.
pub const FORMAT: u32 = 2;

/// What a stage does, as fingerprinted. Read through [`ActionWire`]: serde's internally tagged
/// enums buffer each value into an intermediate tree first, once per lock entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "ActionWire")]
pub enum ActionFingerprint {
    Command {
        cmd: Vec<String>,
        wdir: String,
    },
    Builtin {
        id: String,
        version: u32,
        with: Value,
    },
}

/// The fields of every kind of [`ActionFingerprint`], read in one pass.
#[derive(Deserialize)]
struct ActionWire {
    kind: String,
    cmd: Option<Vec<String>>,
    wdir: Option<String>,
    id: Option<String>,
    version: Option<u32>,
    with: Option<Value>,
}

impl TryFrom<ActionWire> for ActionFingerprint {
    type Error = String;
    fn try_from(w: ActionWire) -> Result<Self, String> {
        let ActionWire {
            kind,
            cmd,
            wdir,
            id,
            version,
            with,
        } = w;
        let missing = |f: &str| format!("missing field `{f}` in a `{kind}` action");
        match kind.as_str() {
            "command" => Ok(ActionFingerprint::Command {
                cmd: cmd.ok_or_else(|| missing("cmd"))?,
                wdir: wdir.ok_or_else(|| missing("wdir"))?,
            }),
            "builtin" => Ok(ActionFingerprint::Builtin {
                id: id.ok_or_else(|| missing("id"))?,
                version: version.ok_or_else(|| missing("version"))?,
                with: with.ok_or_else(|| missing("with"))?,
            }),
            other => Err(format!(
                "unknown action kind `{other}`, expected `command` or `builtin`"
            )),
        }
    }
}

impl ActionFingerprint {
    pub fn of(stage: &Stage) -> ActionFingerprint {
        match &stage.action {
            Action::Command(cmd) => ActionFingerprint::Command {
                cmd: cmd.clone(),
                wdir: stage.wdir.as_str().to_string(),
            },
            Action::Builtin { id, version, with } => ActionFingerprint::Builtin {
                id: id.clone(),
                version: *version,
                with: toml_to_json(&toml::Value::Table(with.clone())),
            },
        }
    }
}

/// A dep or out as recorded: digest, size, and file count for directories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathRecord {
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfiles: Option<u64>,
}

/// The full fingerprint of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub format: u32,
    pub action: ActionFingerprint,
    pub deps: BTreeMap<RepoPath, PathRecord>,
    pub params: BTreeMap<String, Value>,
    pub outs: BTreeSet<RepoPath>,
}

impl Fingerprint {
    /// The run-cache key: blake3 of the canonical JSON (keys sorted at every depth, numbers
    /// normalised, no whitespace; see `netsec_common::canonical`). No Cargo feature can change
    /// these bytes; a test below pins one key's hex, so a change to them is deliberate.
    pub fn key(&self) -> Digest {
        Digest::of_bytes(&netsec_common::canonical::to_vec(self).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_stable_and_sensitive() {
        let fp = Fingerprint {
            format: FORMAT,
            action: ActionFingerprint::Command {
                cmd: vec!["echo hi".into()],
                wdir: String::new(),
            },
            deps: BTreeMap::new(),
            params: BTreeMap::from([("train.c".to_string(), serde_json::json!(1.0))]),
            outs: BTreeSet::from([RepoPath::parse("out.txt").unwrap()]),
        };
        let mut other = fp.clone();
        assert_eq!(fp.key(), other.key());
        other
            .params
            .insert("train.c".into(), serde_json::json!(0.5));
        assert_ne!(fp.key(), other.key());
    }

    /// The encoding is part of the lock format: changing it must bump [`FORMAT`] (and this hex).
    #[test]
    fn key_hex_is_pinned() {
        let fp = Fingerprint {
            format: 2,
            action: ActionFingerprint::Builtin {
                id: "train".into(),
                version: 3,
                with: serde_json::json!({"z": [{"b": 1, "a": 2.5}], "a": "x"}),
            },
            deps: BTreeMap::from([(
                RepoPath::parse("data/in.csv").unwrap(),
                PathRecord {
                    digest: Digest::of_bytes(b"hello"),
                    size: 5,
                    nfiles: None,
                },
            )]),
            params: BTreeMap::from([("train.lr".to_string(), serde_json::json!(0.1))]),
            outs: BTreeSet::from([RepoPath::parse("model").unwrap()]),
        };
        assert_eq!(
            String::from_utf8(netsec_common::canonical::to_vec(&fp).unwrap()).unwrap(),
            r#"{"action":{"id":"train","kind":"builtin","version":3,"with":{"a":"x","z":[{"a":2.5,"b":1}]}},"deps":{"data/in.csv":{"digest":"ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f","size":5}},"format":2,"outs":["model"],"params":{"train.lr":0.1}}"#
        );
        assert_eq!(
            fp.key().to_hex(),
            "d991ead570b8c162ad378c990b66f21eb33735e141dd9ed34439bc630b8cad6a"
        );
    }
}
