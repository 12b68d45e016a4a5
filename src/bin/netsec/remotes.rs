//! The remote factory: a `[remotes.NAME]` of pipeline.toml → an opened [`Remote`]. A directory
//! URL (relative = to the repository root) is a `LocalRemote`; `s3://` is `netsec-remote-s3`.

use std::sync::Arc;

mod s3;

use netsec::remote::{LocalRemote, Named, Remote, RemoteConfig};
use netsec::{Error, Repo};

/// Open the remote `name` (else the default one) of `repo`; `name` may also be a URL or a
/// directory path, used as is.
pub fn open_remote(
    repo: &Repo,
    name: Option<&str>,
) -> Result<(RemoteConfig, Arc<dyn Remote>), Error> {
    let cfg = match name {
        // `-r s3://bucket/prefix` or `-r /srv/dir`: an ad-hoc remote (CI passes one from a secret).
        Some(n) if !repo.pipeline.remotes.contains_key(n) && is_url(n) => RemoteConfig {
            name: n.to_string(),
            url: n.to_string(),
            ..RemoteConfig::default()
        },
        _ => netsec::remote::select(&repo.pipeline.remotes, name)?.clone(),
    };
    let remote: Arc<dyn Remote> = if cfg.url.starts_with("s3://") {
        // s3: netsec-remote-s3 behind the engine's trait (see remotes/s3.rs).
        let s3 = s3::S3::open(&cfg, &repo.env).map_err(|source| Error::Remote {
            remote: cfg.name.clone(),
            url: cfg.url.clone(),
            op: "open",
            source,
        })?;
        Arc::new(s3)
    } else {
        Arc::new(LocalRemote::new(repo.root.join(&cfg.url)))
    };
    Ok((cfg, remote))
}

/// A `-r` value that is a location rather than a remote's name.
fn is_url(s: &str) -> bool {
    s.starts_with("s3://") || s.contains('/')
}

/// [`open_remote`] as the engine's handle.
pub fn open_named(repo: &Repo, name: Option<&str>) -> Result<Named, Error> {
    let (cfg, remote) = open_remote(repo, name)?;
    Ok(Named::new(cfg.name, remote))
}

/// Transfer observer: each phase is a progress task (a bar on a terminal, lines otherwise, see
/// `progress.rs`); retries become warnings; totals are printed by the command.
#[derive(Debug)]
pub struct Lines<'a> {
    pub ui: &'a crate::render::Ui,
    task: std::sync::Mutex<Option<netsec::progress::Task>>,
}

impl<'a> Lines<'a> {
    pub fn new(ui: &'a crate::render::Ui) -> Lines<'a> {
        Lines {
            ui,
            task: std::sync::Mutex::new(None),
        }
    }
}

impl netsec::remote::TransferObserver for Lines<'_> {
    fn start(&self, phase: &str, objects: u64, bytes: u64) {
        if objects == 0 {
            return;
        }
        let label = format!("{phase} {objects} objects");
        let task = netsec::progress::task(&label, bytes, netsec::progress::Unit::Bytes);
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

    fn finish(&self, _phase: &str) {
        if let Ok(mut t) = self.task.lock() {
            t.take();
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

/// The directories holding the promoted model: the `model` argument of `uses = "evaluate"`
/// stages (default `final_model`), else every out named `final_model`.
pub fn model_dirs(repo: &Repo) -> Vec<netsec::RepoPath> {
    use netsec::pipeline::Action;
    let mut dirs = Vec::new();
    for st in repo.pipeline.stages.values() {
        if let Action::Builtin { id, with, .. } = &st.action {
            if id == "evaluate" {
                let m = with
                    .get("model")
                    .and_then(|v| v.as_str())
                    .unwrap_or("final_model");
                if let Ok(p) = netsec::RepoPath::parse_in(Some(&st.wdir), m) {
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

/// `git rev-parse HEAD` in the repository, if it is a git checkout with a commit.
pub fn git_commit(root: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}
