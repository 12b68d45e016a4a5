//! The tracked params of the pipeline as it is at a git revision (`netsec params diff`):
//! pipeline.toml and the params files it names are read with `git show REV:PATH` into a
//! scratch directory, and the stages' `params` entries are looked up as a loaded pipeline
//! looks them up (`ParamStore`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::error::Error;
use crate::pipeline::Pipeline;

/// Every stage-tracked param of a loaded pipeline, flat; a key its source lacks is left out.
pub fn tracked(pipeline: &Pipeline) -> BTreeMap<String, Value> {
    let mut store = pipeline.param_store();
    let mut out = BTreeMap::new();
    for st in pipeline.stages.values() {
        for k in &st.params {
            if let Ok(v) = store.tracked(std::slice::from_ref(k)) {
                out.extend(v);
            }
        }
    }
    out
}

fn show(root: &Path, rev: &str, path: &str) -> Result<Option<Vec<u8>>, Error> {
    let usage = |m: String| Error::Usage {
        message: m,
        hint: Some("REV must name a commit of this git repository (default HEAD)".into()),
    };
    let verify = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| usage(format!("cannot run git: {e}")))?;
    if !verify.status.success() {
        return Err(usage(format!("`{rev}` is not a commit")));
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["show", &format!("{rev}:{path}")])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| usage(format!("cannot run git: {e}")))?;
    Ok(out.status.success().then_some(out.stdout))
}

/// The tracked params at `rev` (empty when the revision has no pipeline.toml).
pub fn at_rev(root: &Path, rev: &str) -> Result<BTreeMap<String, Value>, Error> {
    let Some(text) = show(root, rev, crate::workspace::MANIFEST)? else {
        return Ok(BTreeMap::new());
    };
    let scratch = tempfile::tempdir().map_err(|e| Error::io("create", std::env::temp_dir(), e))?;
    let text = String::from_utf8_lossy(&text).into_owned();
    // Loading a pipeline reads its params files, so they are fetched first: every `FILE:KEY`
    // entry of a stage's `params` (a bad one is reported by the parse below).
    let raw: toml::Table = toml::from_str(&text).map_err(|e| {
        Error::Pipeline(crate::pipeline::PipelineError {
            message: format!("pipeline.toml at {rev} is not valid TOML: {e}"),
            ..Default::default()
        })
    })?;
    let keys: Vec<crate::params::ParamKey> = raw
        .get("stages")
        .and_then(toml::Value::as_table)
        .into_iter()
        .flat_map(|stages| stages.values())
        .filter_map(|st| st.get("params").and_then(toml::Value::as_array))
        .flatten()
        .filter_map(toml::Value::as_str)
        .filter_map(|k| crate::params::ParamKey::parse(k).ok())
        .collect();
    let mut files: Vec<String> = keys
        .iter()
        .filter_map(|k| k.file.as_ref().map(|f| f.to_string()))
        .collect();
    files.sort();
    files.dedup();
    for f in files {
        // `f` is a RepoPath (normal, relative): it stays inside the scratch directory.
        if let Some(bytes) = show(root, rev, &f)? {
            let dest = scratch.path().join(&f);
            if let Some(d) = dest.parent() {
                std::fs::create_dir_all(d).map_err(|e| Error::io("create", d, e))?;
            }
            std::fs::write(&dest, bytes).map_err(|e| Error::io("write", &dest, e))?;
        }
    }
    // The values the stages track, read as a loaded pipeline reads them (the whole pipeline
    // is not validated here: its deps are not in the scratch directory).
    let mut store = crate::params::ParamStore::new(
        scratch.path(),
        raw.get("params").and_then(toml::Value::as_table),
    );
    let mut out = BTreeMap::new();
    for k in &keys {
        if let Ok(v) = store.tracked(std::slice::from_ref(k)) {
            out.extend(v);
        }
    }
    Ok(out)
}
