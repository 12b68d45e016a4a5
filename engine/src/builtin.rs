//! Built-in stages (`uses = "ID"`): the trait the binary implements for each ML step, the
//! registry it fills, and the narrow context a built-in runs in (see docs/ARCHITECTURE.md).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::repo_path::RepoPath;

/// A stage implemented in-process. Its fingerprint's action is `{id, version, with}`.
pub trait Builtin: Send + Sync {
    fn id(&self) -> &'static str;
    /// Bump when the outputs for the same inputs would change.
    fn version(&self) -> u32;
    fn summary(&self) -> &'static str;
    /// Check `with` at parse time (exit 3 on error; the message should name the key).
    fn check_args(&self, _with: &toml::Table) -> Result<(), String> {
        Ok(())
    }
    /// Check the tracked params (nested as `BuiltinContext::params` shows them) at load time,
    /// so a bad value fails with exit 3 before any stage runs; the message names the key.
    fn check_params(&self, _params: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError>;
    /// True when, with these tracked params (nested as `BuiltinContext::params` shows them), the
    /// stage reads something that cannot be fingerprinted in advance (a database): the stage
    /// then counts as `always_changed` (it runs on every `repro`, is never served from the run
    /// cache, and `status` says `always changed`), and early cut-off skips its downstream
    /// stages when it rewrites byte-identical outs. Consulted once, when the pipeline is loaded.
    fn always_changed(&self, _params: &serde_json::Value) -> bool {
        false
    }
}

/// The built-ins known to this binary, by id.
#[derive(Clone, Default)]
pub struct BuiltinRegistry {
    map: BTreeMap<&'static str, Arc<dyn Builtin>>,
}

impl fmt::Debug for BuiltinRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.map.keys()).finish()
    }
}

impl BuiltinRegistry {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn register(&mut self, b: impl Builtin + 'static) -> &mut Self {
        self.map.insert(b.id(), Arc::new(b));
        self
    }
    pub fn get(&self, id: &str) -> Option<&Arc<dyn Builtin>> {
        self.map.get(id)
    }
    pub fn ids(&self) -> Vec<&'static str> {
        self.map.keys().copied().collect()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Builtin>> {
        self.map.values()
    }
}

/// What kind of failure a built-in reports; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinErrorKind {
    /// The stage failed (exit 1).
    Failed,
    /// Input data rejected by validation/drift (exit 4). Staged outs are still moved into
    /// place so the report can be read, but no lock entry is written.
    DataRejected,
    /// File or remote I/O (exit 5).
    Io,
}

/// A built-in's failure, with an optional hint for the user.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct BuiltinError {
    pub kind: BuiltinErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl BuiltinError {
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: BuiltinErrorKind::Failed,
            message: message.into(),
            hint: None,
        }
    }
    pub fn rejected(message: impl Into<String>) -> Self {
        Self {
            kind: BuiltinErrorKind::DataRejected,
            message: message.into(),
            hint: None,
        }
    }
    pub fn io(message: impl Into<String>) -> Self {
        Self {
            kind: BuiltinErrorKind::Io,
            message: message.into(),
            hint: None,
        }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            BuiltinErrorKind::Failed => 1,
            BuiltinErrorKind::DataRejected => 4,
            BuiltinErrorKind::Io => 5,
        }
    }
}

/// Everything a built-in may see. Paths outside its declared deps/outs are refused so that its
/// fingerprint stays honest.
pub struct BuiltinContext<'a> {
    pub(crate) stage: &'a str,
    pub(crate) args: &'a toml::Table,
    pub(crate) params: &'a serde_json::Value,
    pub(crate) root: &'a Path,
    pub(crate) deps: &'a [RepoPath],
    pub(crate) outs: &'a [RepoPath],
    pub(crate) staging: &'a Path,
    pub(crate) env: &'a BTreeMap<String, String>,
    pub(crate) progress: &'a (dyn Fn(&str, &str) + Sync),
}

impl fmt::Debug for BuiltinContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltinContext")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl<'a> BuiltinContext<'a> {
    /// Build a context by hand (the executor does this; tests of built-ins may too).
    #[expect(
        clippy::too_many_arguments,
        reason = "a plain constructor of a plain struct"
    )]
    pub fn new(
        stage: &'a str,
        args: &'a toml::Table,
        params: &'a serde_json::Value,
        root: &'a Path,
        deps: &'a [RepoPath],
        outs: &'a [RepoPath],
        staging: &'a Path,
        env: &'a BTreeMap<String, String>,
        progress: &'a (dyn Fn(&str, &str) + Sync),
    ) -> Self {
        Self {
            stage,
            args,
            params,
            root,
            deps,
            outs,
            staging,
            env,
            progress,
        }
    }

    pub fn stage(&self) -> &str {
        self.stage
    }
    pub fn args(&self) -> &toml::Table {
        self.args
    }
    /// Only the tracked keys, nested by dotted path.
    pub fn params(&self) -> &serde_json::Value {
        self.params
    }

    fn parse(&self, rel: &str) -> Result<RepoPath, BuiltinError> {
        RepoPath::parse(rel)
            .map_err(|e| BuiltinError::failed(format!("stage `{}`: {e}", self.stage)))
    }

    /// Absolute path of a declared dep (or a file under a declared dep directory).
    pub fn input(&self, rel: &str) -> Result<PathBuf, BuiltinError> {
        let p = self.parse(rel)?;
        if self.deps.iter().any(|d| p.is_within(d)) {
            Ok(p.to_path(self.root))
        } else {
            Err(BuiltinError::failed(format!(
                "stage `{}` reads `{p}`, which is not a declared dep",
                self.stage
            ))
            .with_hint(format!("add `{p}` (or a directory holding it) to `deps`")))
        }
    }

    /// Where to write a declared out (or a file under a declared out directory): a path in the
    /// stage's staging directory, moved into place after `run` returns `Ok`.
    pub fn output(&self, rel: &str) -> Result<PathBuf, BuiltinError> {
        let p = self.parse(rel)?;
        if !self.outs.iter().any(|o| p.is_within(o)) {
            return Err(BuiltinError::failed(format!(
                "stage `{}` writes `{p}`, which is not a declared out",
                self.stage
            ))
            .with_hint(format!("add `{p}` (or a directory holding it) to `outs`")));
        }
        let staged = p.to_path(self.staging);
        if let Some(parent) = staged.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                BuiltinError::io(format!("cannot create `{}`: {e}", parent.display()))
            })?;
        }
        Ok(staged)
    }

    /// The current workspace copy of a declared out, if it exists (for `persist` outs).
    pub fn current(&self, rel: &str) -> Result<Option<PathBuf>, BuiltinError> {
        let p = self.parse(rel)?;
        if !self.outs.iter().any(|o| p.is_within(o)) {
            return Err(BuiltinError::failed(format!(
                "stage `{}` asks for the current `{p}`, which is not a declared out",
                self.stage
            )));
        }
        let abs = p.to_path(self.root);
        Ok(abs.exists().then_some(abs))
    }

    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    pub fn progress(&self, msg: &str) {
        (self.progress)(self.stage, msg);
    }
}
