//! The validated pipeline: `Pipeline`, `Stage`, `Action`, `Out`. Built from the raw manifest in
//! one pass; every path is a `RepoPath` and every error names file, line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::builtin::BuiltinRegistry;
use crate::extensions::Extensions;
use crate::graph::Graph;
use crate::manifest::{self, RawCmd, RawManifest, RawOut, RawStage};
use crate::out_index::{OutIndex, Overlap};
use crate::params::{ParamKey, ParamStore};
use crate::repo_path::RepoPath;

/// What a stage does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Shell commands run in order with `sh -c`.
    Command(Vec<String>),
    /// A registered built-in, with its version at load time and its `with` arguments.
    Builtin {
        id: String,
        version: u32,
        with: toml::Table,
    },
}

/// A declared out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    pub path: RepoPath,
    /// `cache = false`: hashed and recorded, never stored in the cache.
    pub cache: bool,
    /// `persist = true`: not deleted before the stage runs.
    pub persist: bool,
    pub metric: bool,
    /// `plot = true`: plot data the binary renders (`netsec plots show`).
    pub plot: bool,
}

/// One validated stage.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub action: Action,
    pub deps: Vec<RepoPath>,
    pub outs: Vec<Out>,
    pub params: Vec<ParamKey>,
    pub wdir: RepoPath,
    pub desc: Option<String>,
    pub frozen: bool,
    pub always_changed: bool,
    /// `timeout`, `retries`, `resources`, `executor`: how it runs, never fingerprinted.
    pub run: crate::run_settings::RunSettings,
}

impl Stage {
    pub fn out_paths(&self) -> Vec<RepoPath> {
        self.outs.iter().map(|o| o.path.clone()).collect()
    }
    /// Run-cache applies only to pure stages: deps known, outs all cached, nothing persisted.
    pub fn run_cacheable(&self) -> bool {
        !self.always_changed && !self.deps.is_empty() && self.outs.iter().all(|o| !o.persist)
    }
}

/// A position in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// An invalid pipeline (exit code 3).
#[derive(Debug, Clone, Default, thiserror::Error)]
#[error("{}{message}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct PipelineError {
    pub location: Option<Location>,
    pub message: String,
    pub hint: Option<String>,
    /// The source line the location points into, for rendering a snippet.
    pub source_line: Option<String>,
}

/// A non-fatal finding, such as an unknown field.
#[derive(Debug, Clone)]
pub struct Warning {
    pub location: Option<Location>,
    pub message: String,
}

/// The validated pipeline.
#[derive(Debug)]
pub struct Pipeline {
    pub root: PathBuf,
    pub manifest: PathBuf,
    pub stages: BTreeMap<String, Stage>,
    pub params_table: Option<toml::Table>,
    pub graph: Graph,
    /// `[remotes.NAME]` tables, validated (see `remote::config`).
    pub remotes: BTreeMap<String, crate::remote::RemoteConfig>,
    /// Top-level tables owned by the binary (`Extensions::tables`), checked by their owner.
    pub tables: BTreeMap<String, toml::Value>,
    /// `foreach`/`matrix` definitions: group name → member stage names (`fit` → `fit@a`, …).
    pub groups: BTreeMap<String, Vec<String>>,
    /// `[executor]`, with `.netsec/config.local.toml`'s laid over it.
    pub executor: crate::run_settings::ExecutorConfig,
}

/// A file's text and display name, to build errors at a byte span.
pub(crate) struct Ctx<'a> {
    pub(crate) src: &'a str,
    pub(crate) file: PathBuf,
}

impl Ctx<'_> {
    fn loc(&self, span: Range<usize>) -> Location {
        let (line, col) = manifest::line_col(self.src, span.start);
        Location {
            file: self.file.clone(),
            line,
            col,
        }
    }
    pub(crate) fn err(&self, span: Range<usize>, message: impl Into<String>) -> PipelineError {
        let location = self.loc(span);
        let source_line = self.src.lines().nth(location.line - 1).map(str::to_string);
        PipelineError {
            location: Some(location),
            message: message.into(),
            hint: None,
            source_line,
        }
    }
}

impl PipelineError {
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Longest stage name (it names files under `.netsec/`, whose components stop at 255 bytes).
pub const MAX_STAGE_NAME: usize = 128;

impl Pipeline {
    /// Read and validate `manifest` (whose directory is the repository root).
    pub fn load(
        manifest_path: &Path,
        ext: &Extensions,
    ) -> Result<(Pipeline, Vec<Warning>), PipelineError> {
        const MAX_MANIFEST_BYTES: u64 = 64 << 20;
        let bytes =
            netsec_common::read_regular(manifest_path, Some(MAX_MANIFEST_BYTES)).map_err(|e| {
                PipelineError {
                    location: None,
                    message: format!("cannot read `{}`: {e}", manifest_path.display()),
                    hint: e
                        .is_not_found()
                        .then(|| "run `netsec init` to create a pipeline".into()),
                    source_line: None,
                }
            })?;
        let src = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let good = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes());
                let (line, col) = manifest::line_col(&text, good);
                return Err(PipelineError {
                    location: Some(Location {
                        file: PathBuf::from(manifest_path.file_name().unwrap_or_default()),
                        line,
                        col,
                    }),
                    message: "invalid UTF-8 (pipeline.toml must be UTF-8 text)".into(),
                    hint: Some("re-save the file as UTF-8".into()),
                    source_line: None,
                });
            }
        };
        let root = manifest_path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let (mut pipeline, warnings) = Self::parse(&src, manifest_path, &root, ext)?;
        crate::local_config::apply(&root, &mut pipeline.remotes, &ext.remotes)?;
        crate::local_config::apply_executor(&root, &mut pipeline.executor)?;
        Ok((pipeline, warnings))
    }

    /// Validate pipeline text; `file` is used in messages, `root` to resolve paths.
    pub fn parse(
        src: &str,
        file: &Path,
        root: &Path,
        ext: &Extensions,
    ) -> Result<(Pipeline, Vec<Warning>), PipelineError> {
        let registry = &ext.builtins;
        let display_file = PathBuf::from(file.file_name().unwrap_or(file.as_os_str()));
        let cx = Ctx {
            src,
            file: display_file,
        };
        if let Some((span, depth)) = manifest::too_deep(src) {
            return Err(cx
                .err(
                    span,
                    format!(
                        "nested {depth} levels deep; pipeline.toml allows {}",
                        manifest::MAX_DEPTH
                    ),
                )
                .with_hint("flatten the table or value"));
        }
        let raw: RawManifest = toml::from_str(src).map_err(|e| {
            let msg = e.message().to_string();
            let err = match e.span() {
                Some(span) => cx.err(span, format!("invalid TOML: {msg}")),
                None => cx.err(0..0, format!("invalid TOML: {msg}")),
            };
            match manifest::unknown_field_hint(&msg) {
                Some(hint) => PipelineError {
                    message: msg.split(", expected").next().unwrap_or(&msg).to_string(),
                    ..err
                }
                .with_hint(hint),
                None => err,
            }
        })?;
        let warnings = Vec::new();
        let remotes = crate::remote::config::validate(raw.remotes, &ext.remotes, &|span, msg| {
            cx.err(span, msg)
        })?;
        let executor = match &raw.executor {
            Some(t) => {
                crate::run_settings::executor_config(t, Default::default(), &|span, msg| {
                    cx.err(span, msg)
                })?
            }
            None => Default::default(),
        };
        let mut tables = BTreeMap::new();
        for (key, value) in raw.other {
            let at = manifest::table_span(src, &key).unwrap_or(0..0);
            let Some(check) = ext.tables.get(key.as_str()) else {
                let known: Vec<&str> = manifest::TOP_LEVEL_KEYS
                    .iter()
                    .copied()
                    .chain(ext.tables.keys().copied())
                    .collect();
                let hint = match crate::suggest::closest(&key, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? known tables: {}", known.join(", ")),
                    None => format!("known tables: {}", known.join(", ")),
                };
                return Err(cx
                    .err(at, format!("unknown top-level key `{key}`"))
                    .with_hint(hint));
            };
            if let Err(e) = check(&value) {
                let path: Vec<&str> = std::iter::once(key.as_str())
                    .chain(e.at.iter().map(String::as_str))
                    .collect();
                let at = manifest::key_path_span(src, &path).unwrap_or(at);
                let err = cx.err(at, format!("[{key}]: {}", e.message));
                return Err(match e.hint {
                    Some(h) => err.with_hint(h),
                    None => err,
                });
            }
            tables.insert(key, value);
        }
        let params_table = raw.params.map(Spanned::into_inner);
        let mut store = ParamStore::new(root, params_table.as_ref());
        let vars = raw
            .vars
            .map_or(serde_json::Value::Object(Default::default()), |v| {
                crate::params::toml_to_json(&toml::Value::Table(v.into_inner()))
            });
        let mut resolver = crate::interpolate::Resolver {
            store: &mut store,
            vars,
        };
        let mut stages = BTreeMap::new();
        let mut groups = BTreeMap::new();
        let mut spans = BTreeMap::new();
        let mut path_spans = BTreeMap::new();
        for (name, stage) in raw.stages {
            let span = name.span();
            let name = name.into_inner();
            if name.is_empty()
                || name.len() > MAX_STAGE_NAME
                || name.contains(|c: char| {
                    c.is_whitespace() || c.is_control() || c == ':' || c == '/' || c == '@'
                })
            {
                let shown: String = name
                    .chars()
                    .take(40)
                    .collect::<String>()
                    .escape_debug()
                    .to_string();
                return Err(cx
                    .err(span, format!("invalid stage name `{shown}`"))
                    .with_hint(format!("stage names are 1 to {MAX_STAGE_NAME} bytes without whitespace, control characters, `:`, `/` or `@` (which names the members of a `foreach`/`matrix` stage)")));
            }
            let template = stage.into_inner();
            // A `foreach`/`matrix` definition becomes its members, each an ordinary stage.
            let expanded = match crate::expand::members(&cx, &name, &template, &mut resolver)? {
                Some(members) => {
                    groups.insert(
                        name.clone(),
                        members.iter().map(|m| m.name.clone()).collect(),
                    );
                    members
                        .into_iter()
                        .map(|m| (m.name, m.scope, template.clone()))
                        .collect()
                }
                None => vec![(name, Default::default(), template)],
            };
            for (member, scope, mut raw_stage) in expanded {
                let mut used = Vec::new();
                resolver.stage(&cx, &member, &mut raw_stage, &scope, &mut used)?;
                let mut st = validate_stage(
                    &cx,
                    &member,
                    span.clone(),
                    raw_stage,
                    registry,
                    resolver.store,
                    &mut path_spans,
                )?;
                // Params read by `${…}` are tracked, as DVC does: their values are fingerprinted.
                for k in used {
                    if !st.params.contains(&k) {
                        st.params.push(k);
                    }
                }
                spans.insert(member.clone(), span.clone());
                stages.insert(member, st);
            }
        }
        let outs = OutIndex::build(&stages).map_err(|o| overlap_error(&cx, &o, &path_spans))?;
        let graph = Graph::build(&stages, &outs).map_err(|cycle| {
            let first = cycle
                .first()
                .and_then(|s| spans.get(s))
                .cloned()
                .unwrap_or(0..0);
            cx.err(
                first,
                format!(
                    "dependency cycle between stages {}",
                    cycle
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_hint("a stage may not depend, directly or through others, on its own outs")
        })?;
        check_deps_exist(&cx, root, &stages, &outs, &path_spans)?;
        Ok((
            Pipeline {
                root: root.to_path_buf(),
                manifest: file.to_path_buf(),
                stages,
                params_table,
                graph,
                remotes,
                tables,
                groups,
                executor,
            },
            warnings,
        ))
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.get(name)
    }

    /// A fresh params store over this pipeline's sources.
    pub fn param_store(&self) -> ParamStore {
        ParamStore::new(&self.root, self.params_table.as_ref())
    }
}

fn validate_stage(
    cx: &Ctx<'_>,
    name: &str,
    span: Range<usize>,
    raw: RawStage,
    registry: &BuiltinRegistry,
    store: &mut ParamStore,
    path_spans: &mut PathSpans,
) -> Result<Stage, PipelineError> {
    let run = crate::run_settings::stage_settings(
        name,
        raw.timeout.as_ref(),
        raw.retries.as_ref(),
        raw.resources.as_ref(),
        raw.executor.as_ref(),
        &|span, msg| cx.err(span, msg),
    )?;
    let wdir = match &raw.wdir {
        Some(w) => RepoPath::parse_in(None, w.get_ref())
            .or_else(|e| {
                if w.get_ref().trim() == "." {
                    Ok(RepoPath::root())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| cx.err(w.span(), format!("stage `{name}`: wdir: {e}")))?,
        None => RepoPath::root(),
    };
    if let Some(w) = &raw.wdir {
        path_spans.insert((name.to_string(), wdir.clone()), w.span());
    }
    let action = match (raw.cmd, raw.uses) {
        (Some(_), Some(u)) => {
            return Err(cx
                .err(
                    u.span(),
                    format!("stage `{name}` has both `cmd` and `uses`"),
                )
                .with_hint("a stage runs either a shell command or a built-in, not both"))
        }
        (None, None) => {
            return Err(cx.err(span, format!("stage `{name}` has neither `cmd` nor `uses`")))
        }
        (Some(cmd), None) => {
            let cmds = match cmd.get_ref() {
                RawCmd::One(s) => vec![s.clone()],
                RawCmd::Many(v) => v.clone(),
            };
            if cmds.is_empty() || cmds.iter().any(|c| c.trim().is_empty()) {
                return Err(cx.err(cmd.span(), format!("stage `{name}`: empty command")));
            }
            if raw.with.is_some() {
                return Err(cx.err(
                    span,
                    format!("stage `{name}`: `with` is only for built-in stages"),
                ));
            }
            Action::Command(cmds)
        }
        (None, Some(uses)) => {
            let id = uses.get_ref();
            let Some(b) = registry.get(id) else {
                let known = registry.ids();
                return Err(cx
                    .err(
                        uses.span(),
                        format!("stage `{name}` uses unknown built-in `{id}`"),
                    )
                    .with_hint(if known.is_empty() {
                        "this netsec binary has no built-in stages".to_string()
                    } else {
                        format!("known built-ins: {}", known.join(", "))
                    }));
            };
            let with = raw
                .with
                .as_ref()
                .map(|w| w.get_ref().clone())
                .unwrap_or_default();
            if let Err(msg) = b.check_args(&with) {
                let at = raw.with.as_ref().map_or(uses.span(), Spanned::span);
                return Err(cx.err(at, format!("stage `{name}` (`uses = \"{id}\"`): {msg}")));
            }
            Action::Builtin {
                id: id.clone(),
                version: b.version(),
                with,
            }
        }
    };
    let path = |s: &Spanned<String>, what: &str| {
        RepoPath::parse_in(Some(&wdir), s.get_ref())
            .map_err(|e| cx.err(s.span(), format!("stage `{name}`: {what}: {e}")))
    };
    let mut deps = Vec::new();
    for d in &raw.deps {
        let p = path(d, "dep")?;
        if p.is_root() {
            return Err(cx.err(
                d.span(),
                format!("stage `{name}`: the whole workspace cannot be a dep"),
            ));
        }
        if !deps.contains(&p) {
            path_spans.insert((name.to_string(), p.clone()), d.span());
            deps.push(p);
        }
    }
    let mut outs: Vec<Out> = Vec::new();
    for o in &raw.outs {
        let (p, cache, persist, metric, plot) = match o.get_ref() {
            RawOut::Path(s) => (s.clone(), true, false, false, false),
            RawOut::Table(t) => (t.path.clone(), t.cache, t.persist, t.metric, t.plot),
        };
        let rp = RepoPath::parse_in(Some(&wdir), &p)
            .map_err(|e| cx.err(o.span(), format!("stage `{name}`: out: {e}")))?;
        let reserved = if rp.is_root() {
            Some("the workspace root")
        } else {
            rp.reserved()
        };
        if let Some(what) = reserved {
            return Err(cx
                .err(o.span(), format!("stage `{name}`: out `{p}` is {what}, not an out"))
                .with_hint("`.git`, `.netsec/`, `netsec.lock`, `pipeline.toml` and the workspace root are never outs (netsec deletes an out before its stage runs)"));
        }
        if let Some(prev) = outs.iter().find(|x| x.path.overlaps(&rp)) {
            return Err(cx.err(
                o.span(),
                format!("stage `{name}`: outs `{}` and `{rp}` overlap", prev.path),
            ));
        }
        if deps.iter().any(|d| d.overlaps(&rp)) {
            return Err(cx
                .err(
                    o.span(),
                    format!("stage `{name}`: `{rp}` is both a dep and an out"),
                )
                .with_hint(
                    "a stage cannot read what it writes; use `persist = true` for incremental outs",
                ));
        }
        path_spans.insert((name.to_string(), rp.clone()), o.span());
        outs.push(Out {
            path: rp,
            cache,
            persist,
            metric,
            plot,
        });
    }
    let mut params = Vec::new();
    for p in &raw.params {
        let key = ParamKey::parse(p.get_ref())
            .map_err(|e| cx.err(p.span(), format!("stage `{name}`: {e}")))?;
        let key = match key.file {
            Some(f) => ParamKey {
                file: Some(
                    RepoPath::parse_in(Some(&wdir), f.as_str())
                        .map_err(|e| cx.err(p.span(), e.to_string()))?,
                ),
                key: key.key,
            },
            None => key,
        };
        store.lookup(&key).map_err(|e| {
            cx.err(p.span(), format!("stage `{name}`: {e}"))
                .with_hint("params live in `[params]` of pipeline.toml, or name a file: `\"params.yaml:train.lr\"`")
        })?;
        if !params.contains(&key) {
            params.push(key);
        }
    }
    // A built-in may be always changed by its params (ingest reading a database): asked here so
    // that status, the run cache and the executor all see one `always_changed`.
    let builtin_always_changed = match &action {
        Action::Builtin { id, .. } => match registry.get(id) {
            Some(b) => {
                let nested = store
                    .nested(&params)
                    .map_err(|e| cx.err(span.clone(), format!("stage `{name}`: {e}")))?;
                // A typo in `[params.train]` fails here, before any upstream stage runs.
                if let Err(e) = b.check_params(&nested) {
                    let at = raw.params.first().map_or(span.clone(), |p| p.span());
                    return Err(cx
                        .err(at, format!("stage `{name}`: {e}"))
                        .with_hint(format!("see the params of built-in `{id}` in README.md")));
                }
                b.always_changed(&nested)
            }
            None => false,
        },
        Action::Command(_) => false,
    };
    Ok(Stage {
        name: name.to_string(),
        action,
        deps,
        outs,
        params,
        wdir,
        desc: raw.desc,
        frozen: raw.frozen,
        always_changed: raw.always_changed || builtin_always_changed,
        run,
    })
}

/// Where each stage's dep or out was written, for error locations.
type PathSpans = BTreeMap<(String, RepoPath), Range<usize>>;

fn overlap_error(cx: &Ctx<'_>, o: &Overlap, spans: &PathSpans) -> PipelineError {
    let ((sa, a), (sb, b)) = (&o.first, &o.second);
    let what = if a == b {
        "the same out"
    } else {
        "overlapping outs"
    };
    cx.err(
        spans.get(&(sb.clone(), b.clone())).cloned().unwrap_or(0..0),
        format!("stages `{sa}` and `{sb}` declare {what}: `{a}` and `{b}`"),
    )
    .with_hint("each path may be produced by one stage only")
}

fn check_deps_exist(
    cx: &Ctx<'_>,
    root: &Path,
    stages: &BTreeMap<String, Stage>,
    outs: &OutIndex,
    spans: &PathSpans,
) -> Result<(), PipelineError> {
    let mut passed = std::collections::HashSet::new();
    let mut found: std::collections::HashSet<&RepoPath> = std::collections::HashSet::new();
    let mut sources = None;
    for s in stages.values() {
        // No out and no wdir may lead outside the workspace (or into `.git`/`.netsec`) through
        // a symlink: the stage would delete, write and cache there.
        let writes = s
            .outs
            .iter()
            .map(|o| &o.path)
            .chain(std::iter::once(&s.wdir));
        for p in writes.filter(|p| !p.is_root()) {
            if let Err(e) = crate::confine::check_inside_with(root, p, &mut passed) {
                let span = spans
                    .get(&(s.name.clone(), p.clone()))
                    .cloned()
                    .unwrap_or(0..0);
                return Err(cx.err(span, format!("stage `{}`: {e}", s.name)).with_hint(
                    "point the out (or wdir) at a real directory inside the workspace",
                ));
            }
        }
        for d in &s.deps {
            // A source shared by many stages (a dataset read by 1,000 members) is looked at once.
            if !outs.is_produced(d)
                && found.insert(d)
                && std::fs::symlink_metadata(d.to_path(root)).is_err()
                && !is_tracked_source(root, d, &mut sources)
            {
                return Err(cx
                    .err(
                        spans
                            .get(&(s.name.clone(), d.clone()))
                            .cloned()
                            .unwrap_or(0..0),
                        format!(
                            "stage `{}`: dep `{d}` does not exist and no stage produces it",
                            s.name
                        ),
                    )
                    .with_hint("create the file, fix the path, or add a stage with it in `outs`"));
            }
        }
    }
    Ok(())
}

/// A missing dep is fine when it is data tracked with `netsec add` (a fresh clone before
/// `netsec pull`). The lock is read only on this rare path, once.
fn is_tracked_source(root: &Path, dep: &RepoPath, sources: &mut Option<Vec<RepoPath>>) -> bool {
    let sources = sources.get_or_insert_with(|| {
        crate::lock::Lockfile::load(root)
            .map(|l| l.sources.into_keys().collect())
            .unwrap_or_default()
    });
    sources.iter().any(|s| dep.is_within(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<(Pipeline, Vec<Warning>), PipelineError> {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("raw.txt"), "x").unwrap();
        Pipeline::parse(
            src,
            Path::new("pipeline.toml"),
            t.path(),
            &Extensions::default(),
        )
    }

    #[test]
    fn valid_pipeline_edges_and_wdir_relative_paths() {
        let (p, warnings) = parse(
            r#"
[params]
train = { c = 1.0 }
[stages.prep]
cmd = "x"
deps = ["raw.txt"]
outs = ["artifacts/prep/"]
[stages.train]
cmd = ["a", "b"]
wdir = "artifacts"
deps = ["prep/clean.csv"]
params = ["train"]
outs = [{ path = "model.bin", cache = false }]
"#,
        )
        .unwrap();
        let train = p.stage("train").unwrap();
        assert_eq!(train.deps[0].as_str(), "artifacts/prep/clean.csv");
        assert_eq!(train.outs[0].path.as_str(), "artifacts/model.bin");
        assert!(!train.outs[0].cache);
        assert_eq!(p.graph.order, vec!["prep", "train"]);
        assert!(warnings.is_empty());
        // Unknown keys are errors at their line, with a suggestion.
        let typo = parse("[stages.a]\ncmd = \"x\"\noutz = [\"o\"]\n").unwrap_err();
        assert_eq!(typo.location.as_ref().map(|l| l.line), Some(3));
        assert_eq!(typo.message, "unknown field `outz`");
        assert!(typo
            .hint
            .as_deref()
            .unwrap_or("")
            .starts_with("did you mean `outs`?"));
        let top = parse("[stage.a]\ncmd = \"x\"\n").unwrap_err();
        assert!(
            top.hint
                .as_deref()
                .unwrap_or("")
                .contains("did you mean `stages`?"),
            "{top:?}"
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let overlap = parse(
            "[stages.a]\ncmd = \"x\"\nouts = [\"d/\"]\n[stages.b]\ncmd = \"y\"\nouts = [\"d/f.txt\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            overlap.location.as_ref().map(|l| (l.line, l.col)),
            Some((6, 9))
        );
        assert!(overlap.message.contains("overlapping outs"), "{overlap}");

        let outside = parse("[stages.a]\ncmd = \"x\"\nouts = [\"../x\"]\n").unwrap_err();
        assert!(
            outside.to_string().starts_with("pipeline.toml:3:9:"),
            "{outside}"
        );
        let absolute = parse("[stages.a]\ncmd = \"x\"\nouts = [\"/tmp/x\"]\n").unwrap_err();
        assert!(absolute.message.contains("absolute"), "{absolute}");

        let missing = parse("[stages.a]\ncmd = \"x\"\ndeps = [\"nope.txt\"]\n").unwrap_err();
        assert_eq!(missing.location.as_ref().map(|l| l.line), Some(3));

        let cycle = parse(
            "[stages.a]\ncmd = \"x\"\ndeps = [\"c\"]\nouts = [\"a\"]\n[stages.b]\ncmd = \"x\"\ndeps = [\"a\"]\nouts = [\"b\"]\n[stages.c]\ncmd = \"x\"\ndeps = [\"b\"]\nouts = [\"c\"]\n[stages.d]\ncmd = \"x\"\ndeps = [\"raw.txt\"]\nouts = [\"d\"]\n",
        )
        .unwrap_err();
        assert!(
            cycle.message.contains("`a`, `b`, `c`") && !cycle.message.contains("`d`"),
            "{cycle}"
        );

        let param =
            parse("[params]\nx = 1\n[stages.a]\ncmd = \"x\"\nparams = [\"y\"]\n").unwrap_err();
        assert!(
            param.message.contains("param `y` does not exist"),
            "{param}"
        );

        let both = parse("[stages.a]\ncmd = \"x\"\nuses = \"t\"\n").unwrap_err();
        assert!(both.message.contains("both `cmd` and `uses`"));
        let syntax = parse("[stages.a]\ncmd = \n").unwrap_err();
        assert!(syntax.message.starts_with("invalid TOML"), "{syntax}");
        assert_eq!(syntax.location.map(|l| l.line), Some(2));
    }
}
