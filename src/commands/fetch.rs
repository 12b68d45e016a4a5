//! `netsec fetch`: download the objects netsec.lock needs from a remote into the local cache
//! (verified), without touching the workspace.

use std::path::Path;

use netsec_engine::remote::{FetchOptions, FetchReport, Named};
use netsec_engine::{Error, Lockfile, Repo, RepoLock};

use netsec_protocol::FetchJson;

use crate::remotes::{human_bytes, open_named, Lines};
use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these stages' outs (all when none).
    pub stages: Vec<String>,
    /// The remote (default: the one with `default = true`, or the only one).
    #[arg(short, long, value_name = "NAME")]
    pub remote: Option<String>,
    /// Transfer threads (default: 4 per core, at most 16).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// A JSON summary on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Fetch for `fetch` and `pull`; prints the summary line.
pub fn fetch(
    ui: &Ui,
    repo: &Repo,
    lock: &Lockfile,
    args: &Args,
) -> Result<(Named, FetchReport), Error> {
    let named = open_named(repo, args.remote.as_deref())?;
    let opts = FetchOptions {
        stages: args.stages.clone(),
        jobs: args.jobs.unwrap_or(0),
    };
    let report = netsec_engine::remote::fetch(repo, &named, lock, &opts, &Lines::new(ui))?;
    ui.status(
        "Fetched",
        "32",
        &format!(
            "{} objects ({}) from {}, {} already in the cache",
            report.downloaded,
            human_bytes(report.downloaded_bytes),
            named.name,
            report.present
        ),
    );
    Ok((named, report))
}

pub fn summary(named: &Named, r: &FetchReport) -> FetchJson {
    FetchJson {
        remote: named.name.clone(),
        url: named.remote.describe(),
        downloaded: r.downloaded,
        downloaded_bytes: r.downloaded_bytes,
        present: r.present,
    }
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = repo.load_lock()?;
    let (named, report) = fetch(ui, &repo, &lock, &args)?;
    if args.json {
        crate::output::json_line(&summary(&named, &report));
    }
    Ok(0)
}
