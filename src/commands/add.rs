//! `netsec add PATH…` (like `dvc add`): track raw data no stage produces; `netsec remove
//! PATH…` stops tracking it (the files stay).

use std::path::{Path, PathBuf};

use netsec_engine::repo_path::RepoPath;
use netsec_engine::{Error, RepoLock};
use netsec_protocol::AddJson;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (relative to the current directory).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// Sources added with `netsec add` (relative to the current directory).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let paths = workspace_paths(&repo.root, cwd, &args.paths)?;
    let added = netsec_engine::add::add(&repo, &paths)?;
    for a in &added {
        let what = match a.nfiles {
            Some(n) => format!("`{}` ({n} files)", a.path),
            None => format!("`{}`", a.path),
        };
        if a.changed {
            ui.status("Added", "32", &what);
        } else {
            ui.status("Unchanged", "32", &what);
        }
    }
    if args.json {
        crate::output::json_line(&AddJson { added });
    }
    Ok(0)
}

pub fn run_remove(ui: &Ui, cwd: &Path, args: RemoveArgs) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let paths = workspace_paths(&repo.root, cwd, &args.paths)?;
    for p in netsec_engine::add::remove(&repo, &paths)? {
        ui.status("Untracked", "32", &format!("`{p}` (the files stay)"));
    }
    Ok(0)
}

/// Command-line paths (relative to `cwd`, or absolute) as workspace paths under `root`.
fn workspace_paths(root: &Path, cwd: &Path, raw: &[PathBuf]) -> Result<Vec<RepoPath>, Error> {
    let cwd = std::fs::canonicalize(cwd).map_err(|e| Error::io("resolve", cwd, e))?;
    raw.iter()
        .map(|p| {
            let abs = cwd.join(p);
            let outside = || Error::Usage {
                message: format!(
                    "`{}` is outside the workspace `{}`",
                    p.display(),
                    root.display()
                ),
                hint: None,
            };
            let rel = abs.strip_prefix(root).map_err(|_| outside())?;
            RepoPath::parse(&rel.to_string_lossy()).map_err(|e| Error::Usage {
                message: format!("`{}`: {e}", p.display()),
                hint: None,
            })
        })
        .collect()
}
