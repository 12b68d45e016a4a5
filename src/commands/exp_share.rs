//! `netsec exp push REMOTE [NAME…]` / `netsec exp pull REMOTE [NAME…]`: finished experiments
//! (records, the objects of their locks, their run-cache entries) through a remote; see
//! `netsec_engine::exp::share`.

use std::path::Path;

use netsec_engine::exp::share::{self, ShareOptions};
use netsec_engine::exp::Store;
use netsec_engine::{exit, Error, RepoLock};

use crate::remotes::{human_bytes, open_named, Lines};
use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct ShareArgs {
    /// The remote (a `[remotes.NAME]` of pipeline.toml, or a URL / directory).
    remote: String,
    /// Experiments (default: every finished one; for `pull`, every one the remote has).
    names: Vec<String>,
    /// Transfer threads (default: 4 per core, at most 16).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// A JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

impl ShareArgs {
    fn options(&self) -> ShareOptions {
        ShareOptions {
            names: self.names.clone(),
            jobs: self.jobs.unwrap_or(0),
        }
    }
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn push(ui: &Ui, cwd: &Path, args: ShareArgs) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let named = open_named(&repo, Some(&args.remote))?;
    let store = Store::new(&repo.dot);
    let r = share::push(&repo, &store, &named, &args.options(), &Lines::new(ui))?;
    if r.pushed.is_empty() && r.unchanged.is_empty() {
        ui.status("Fresh", "32", "No finished experiment to push.");
    }
    if !r.pushed.is_empty() {
        ui.status(
            "Pushed",
            "32",
            &format!(
                "{} experiment(s) to {}: {} ({} objects, {}; {} run-cache entries)",
                r.pushed.len(),
                named.name,
                list(&r.pushed),
                r.uploaded,
                human_bytes(r.uploaded_bytes),
                r.runs_uploaded
            ),
        );
    }
    if !r.unchanged.is_empty() {
        ui.status(
            "Unchanged",
            "32",
            &format!("{} already on {}", list(&r.unchanged), named.name),
        );
    }
    if args.json {
        crate::output::json_line(&r);
    }
    Ok(exit::OK)
}

pub fn pull(ui: &Ui, cwd: &Path, args: ShareArgs) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let named = open_named(&repo, Some(&args.remote))?;
    let store = Store::new(&repo.dot);
    let r = share::pull(&repo, &store, &named, &args.options(), &Lines::new(ui))?;
    if !r.pulled.is_empty() {
        ui.status(
            "Pulled",
            "32",
            &format!(
                "{} experiment(s) from {}: {} ({} objects, {}; {} run-cache entries)",
                r.pulled.len(),
                named.name,
                list(&r.pulled),
                r.downloaded,
                human_bytes(r.downloaded_bytes),
                r.runs_fetched
            ),
        );
    }
    if !r.unchanged.is_empty() {
        ui.status(
            "Unchanged",
            "32",
            &format!("{} already here", list(&r.unchanged)),
        );
    }
    if r.pulled.is_empty()
        && r.unchanged.is_empty()
        && r.skipped.is_empty()
        && r.conflicts.is_empty()
    {
        ui.status("Fresh", "32", &format!("No experiment on {}.", named.name));
    }
    for s in &r.skipped {
        ui.error_text(
            &format!(
                "skipped `{}` on remote `{}`: {}",
                s.key, named.name, s.reason
            ),
            Some("nothing of it was written here; ask whoever pushed it to push it again"),
        );
    }
    for n in &r.conflicts {
        ui.error_text(
            &format!(
                "experiment `{n}` on remote `{}` differs from the local experiment of that name; not pulled",
                named.name
            ),
            Some(&format!(
                "`netsec exp remove {n}` here to take the remote one, or leave it"
            )),
        );
    }
    if args.json {
        crate::output::json_line(&r);
    }
    Ok(if !r.skipped.is_empty() {
        exit::IO
    } else if !r.conflicts.is_empty() {
        exit::USAGE
    } else {
        exit::OK
    })
}
