//! `Repo`: one opened workspace — root, validated pipeline, cache, memo and environment.
//! Everything ambient (env, cwd) enters here, once, so the rest of the engine stays pure.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::builtin::BuiltinRegistry;
use crate::cache::Cache;
use crate::error::Error;
use crate::extensions::Extensions;
use crate::memo::Memo;
use crate::pipeline::{Pipeline, Warning};
use crate::remote::RemoteBackends;

pub const MANIFEST: &str = "pipeline.toml";
pub const DOT_DIR: &str = ".netsec";

/// An opened repository.
#[derive(Debug)]
pub struct Repo {
    pub root: PathBuf,
    pub dot: PathBuf,
    pub pipeline: Pipeline,
    pub cache: Cache,
    pub memo: Memo,
    pub registry: BuiltinRegistry,
    /// Remote backends by URL scheme (the directory remote needs none).
    pub backends: RemoteBackends,
    /// The process environment, snapshotted by the caller.
    pub env: BTreeMap<String, String>,
    /// The lock as read while the pipeline was parsed (see [`Repo::load_lock`]).
    preloaded: crate::lock_preload::Preloaded,
    /// This process's log of the commands it runs here (see `orphans`).
    pub(crate) running: crate::orphans::Log,
    /// The claims log, read on first use (see `claims`).
    pub(crate) claims: crate::claims::Index,
}

/// The nearest ancestor of `start` (inclusive) holding `pipeline.toml`.
pub fn find_root(start: &Path) -> Result<PathBuf, Error> {
    let mut cur = Some(start);
    while let Some(dir) = cur {
        // Any entry named pipeline.toml (a FIFO or a directory too: loading it then says what
        // is wrong with it rather than "not found").
        if std::fs::symlink_metadata(dir.join(MANIFEST)).is_ok() {
            return Ok(dir.to_path_buf());
        }
        cur = dir.parent();
    }
    Err(Error::NoPipeline {
        start: start.to_path_buf(),
    })
}

impl Repo {
    /// Open the repository rooted at `root` (which holds `pipeline.toml`).
    pub fn open(
        root: &Path,
        ext: Extensions,
        env: BTreeMap<String, String>,
    ) -> Result<(Repo, Vec<Warning>), Error> {
        let root = std::fs::canonicalize(root).map_err(|e| Error::io("open", root, e))?;
        let dot = root.join(DOT_DIR);
        // The lock and the memo are read on a second thread while pipeline.toml is parsed: at
        // 10,000 stages each is tens of milliseconds that need not be spent one after the other.
        let (parsed, (memo, preloaded)) = std::thread::scope(|s| {
            let side = s.spawn(|| {
                let memo = Memo::load(&dot.join("state").join("memo-v3"));
                (memo, crate::lock_preload::Preloaded::read(&root))
            });
            let parsed = Pipeline::load(&root.join(MANIFEST), &ext);
            let side = side.join().unwrap_or_else(|_| {
                (
                    Memo::load(&dot.join("state").join("memo-v3")),
                    crate::lock_preload::Preloaded::default(),
                )
            });
            (parsed, side)
        });
        let (pipeline, warnings) = parsed?;
        // The previous format's memo is never read again (a failure to remove it is harmless).
        let _ = std::fs::remove_file(dot.join("state").join("memo-v2"));
        Ok((
            Repo {
                cache: Cache::new(&dot),
                root,
                dot,
                pipeline,
                memo,
                registry: ext.builtins,
                backends: ext.remotes,
                env,
                preloaded,
                running: crate::orphans::Log::default(),
                claims: crate::claims::Index::default(),
            },
            warnings,
        ))
    }

    /// `netsec.lock` with its journal folded in: the copy read when the repository was opened
    /// if neither file has changed since (same inode, size and mtime), else read now. The
    /// first call may take the preloaded copy; later calls read the files.
    pub fn load_lock(&self) -> Result<crate::lock::Lockfile, crate::lock::LockError> {
        self.preloaded.take(&self.root)
    }

    /// The lock read ahead lacks an entry for some stage of the pipeline: a run of the whole
    /// pipeline will run something. A hint (`false` when unknown), never a verdict.
    pub fn lock_lacks_a_stage(&self) -> bool {
        self.preloaded.lacks_any(self.pipeline.stages.keys())
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.dot.join("tmp")
    }

    /// A per-stage state file under `.netsec/state/KIND/`, named by a hash of the stage name
    /// (names may be long or hold characters a file name should not).
    pub fn stage_state(&self, kind: &str, stage: &str) -> PathBuf {
        let name = &blake3::hash(stage.as_bytes()).to_hex()[..16];
        self.dot
            .join("state")
            .join(kind)
            .join(format!("{name}.json"))
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.dot.join("cache").join("runs-v1")
    }

    /// Persist the hash memo (best effort: it is only an accelerator).
    pub fn save_memo(&self) {
        if let Err(e) = self.memo.save() {
            tracing::debug!("could not save the hash memo: {e}");
        }
    }

    /// Stage names given on the command line, checked: the name of a `foreach`/`matrix`
    /// definition stands for all its members. In the order given, each stage once.
    pub fn resolve_stage_names(&self, names: &[String]) -> Result<Vec<String>, Error> {
        let p = &self.pipeline;
        let mut out = Vec::with_capacity(names.len());
        let mut seen = std::collections::HashSet::new();
        for n in names {
            let members = if p.stages.contains_key(n) {
                std::slice::from_ref(n)
            } else if let Some(m) = p.groups.get(n) {
                m.as_slice()
            } else {
                return Err(self.unknown_stage(n));
            };
            for m in members {
                if seen.insert(m.as_str()) {
                    out.push(m.clone());
                }
            }
        }
        Ok(out)
    }

    /// Check stage names given on the command line (group names included); callers that go
    /// on to use the names take [`Self::resolve_stage_names`] instead.
    pub fn check_stage_names(&self, names: &[String]) -> Result<(), Error> {
        self.resolve_stage_names(names).map(|_| ())
    }

    /// "unknown stage", naming the stages and groups (not every member of a large group).
    fn unknown_stage(&self, name: &str) -> Error {
        let p = &self.pipeline;
        let mut known: Vec<&str> = p
            .stages
            .keys()
            .filter(|s| !s.contains('@'))
            .chain(p.groups.keys())
            .map(String::as_str)
            .collect();
        known.sort_unstable();
        let listed: Vec<String> = known
            .iter()
            .map(|k| match p.groups.get(*k) {
                Some(m) => format!("{k} ({} members {k}@…)", m.len()),
                None => (*k).to_string(),
            })
            .collect();
        let candidates = known
            .iter()
            .copied()
            .chain(p.stages.keys().map(String::as_str));
        let hint = match crate::suggest::closest(name, candidates) {
            Some(s) => format!("did you mean `{s}`? stages: {}", listed.join(", ")),
            None => format!("stages: {}", listed.join(", ")),
        };
        Error::Usage {
            message: format!("unknown stage `{name}`"),
            hint: Some(hint),
        }
    }
}
