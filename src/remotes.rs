//! What the binary adds to the engine's remotes: the `s3://` backend, the transfer observer that
//! draws progress, and the promoted model's extra snapshot copy.

use netsec_engine::remote::{ExtraCopy, RemoteBackends};
use netsec_engine::Repo;

pub use netsec_engine::remote::open_named;

/// The remote backends this binary serves besides directories.
pub fn backends() -> RemoteBackends {
    let mut b = RemoteBackends::new();
    b.register(netsec_remote_s3::S3Backend);
    b
}

/// Where a push also copies the promoted model: `final_model/<ts>/…`.
pub const FINAL_MODEL_PREFIX: &str = "final_model/";

/// Transfer observer: each phase is a progress task (a bar on a terminal, lines otherwise, see
/// `progress.rs`); retries become warnings; totals are printed by the command.
#[derive(Debug)]
pub struct Lines<'a> {
    pub ui: &'a crate::render::Ui,
    task: std::sync::Mutex<Option<netsec_engine::progress::Task>>,
    /// Objects of the current phase, and how many of them were transferred.
    expected: std::sync::atomic::AtomicU64,
    done: std::sync::atomic::AtomicU64,
}

impl<'a> Lines<'a> {
    pub fn new(ui: &'a crate::render::Ui) -> Lines<'a> {
        Lines {
            ui,
            task: std::sync::Mutex::new(None),
            expected: std::sync::atomic::AtomicU64::new(0),
            done: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl netsec_engine::remote::TransferObserver for Lines<'_> {
    fn start(&self, phase: &str, objects: u64, bytes: u64) {
        if objects == 0 {
            return;
        }
        use std::sync::atomic::Ordering;
        self.expected.store(objects, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        let label = format!("{phase} {objects} objects");
        let task =
            netsec_engine::progress::task(&label, bytes, netsec_engine::progress::Unit::Bytes);
        if let Ok(mut t) = self.task.lock() {
            *t = Some(task);
        }
    }

    fn bytes(&self, n: u64) {
        if let Ok(t) = self.task.lock() {
            if let Some(t) = t.as_ref() {
                t.inc(n);
            }
        }
    }

    fn done(&self, _key: &str, _bytes: u64) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn finish(&self, _phase: &str) {
        use std::sync::atomic::Ordering;
        let complete = self.done.load(Ordering::Relaxed) >= self.expected.load(Ordering::Relaxed);
        if let Ok(mut t) = self.task.lock() {
            if let Some(task) = t.take() {
                if complete {
                    drop(task); // prints `Done …`
                } else {
                    // Some objects failed: the command reports the error; a `Done` line
                    // would say the opposite.
                    std::mem::forget(task);
                }
            }
        }
    }

    fn retry(&self, key: &str, attempt: u32, error: &str) {
        self.ui.warn(&format!(
            "`{key}`: attempt {attempt} failed ({error}); retrying"
        ));
    }
}

/// `3.1 MB`: decimal units, one decimal.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The promoted model's extra snapshot copies: the `model` argument of `uses = "evaluate"`
/// stages (default `final_model`), else every out named `final_model`, each under
/// [`FINAL_MODEL_PREFIX`].
pub fn model_copies(repo: &Repo) -> Vec<ExtraCopy> {
    model_dirs(repo)
        .into_iter()
        .map(|dir| ExtraCopy {
            dir,
            prefix: FINAL_MODEL_PREFIX.to_string(),
        })
        .collect()
}

fn model_dirs(repo: &Repo) -> Vec<netsec_engine::RepoPath> {
    use netsec_engine::pipeline::Action;
    let mut dirs = Vec::new();
    for st in repo.pipeline.stages.values() {
        if let Action::Builtin { id, with, .. } = &st.action {
            if id == "evaluate" {
                let m = with
                    .get("model")
                    .and_then(|v| v.as_str())
                    .unwrap_or("final_model");
                if let Ok(p) = netsec_engine::RepoPath::parse_in(Some(&st.wdir), m) {
                    dirs.push(p);
                }
            }
        }
    }
    if dirs.is_empty() {
        for st in repo.pipeline.stages.values() {
            for o in &st.outs {
                if o.path.as_str().rsplit('/').next() == Some("final_model") {
                    dirs.push(o.path.clone());
                }
            }
        }
    }
    dirs
}
