//! The remote factory: a `[remotes.NAME]` of pipeline.toml → an opened [`Remote`]. A directory
//! URL (relative = to the repository root) is a `LocalRemote`; `s3://` is `netsec-remote-s3`.

use std::sync::Arc;

use netsec::remote::{LocalRemote, Named, Remote, RemoteConfig};
use netsec::{Error, Repo};

/// Open the remote `name` (else the default one) of `repo`.
pub fn open_remote(
    repo: &Repo,
    name: Option<&str>,
) -> Result<(RemoteConfig, Arc<dyn Remote>), Error> {
    let cfg = netsec::remote::select(&repo.pipeline.remotes, name)?.clone();
    let remote: Arc<dyn Remote> = if cfg.url.starts_with("s3://") {
        // s3: replaced by the netsec-remote-s3 call (remotes/s3.rs) once that crate is wired.
        return Err(Error::Usage {
            message: format!(
                "remote `{}` ({}) is an S3 remote, which this netsec build cannot open yet",
                cfg.name, cfg.url
            ),
            hint: Some("use a directory remote (`url = \"/srv/netsec-remote\"`)".into()),
        });
    } else {
        Arc::new(LocalRemote::new(repo.root.join(&cfg.url)))
    };
    Ok((cfg, remote))
}

/// [`open_remote`] as the engine's handle.
pub fn open_named(repo: &Repo, name: Option<&str>) -> Result<Named, Error> {
    let (cfg, remote) = open_remote(repo, name)?;
    Ok(Named::new(cfg.name, remote))
}

/// Plain-line transfer observer: retries become warnings; totals are printed by the command.
/// (Progress bars will implement the same trait.)
#[derive(Debug)]
pub struct Lines<'a> {
    pub ui: &'a crate::render::Ui,
}

impl netsec::remote::TransferObserver for Lines<'_> {
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
