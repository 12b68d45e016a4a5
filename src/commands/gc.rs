//! `netsec gc`: delete unreferenced cache objects; `--remote`: on a remote instead.

use std::path::Path;

use netsec_engine::{Error, Lockfile, RepoLock};

use crate::remotes::{human_bytes, open_named, Lines};
use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only say what would be removed.
    #[arg(long)]
    dry_run: bool,
    /// Collect garbage on a remote (the default one, or NAME): its `files/` objects and `runs/`
    /// entries that netsec.lock does not reference. Snapshots are kept.
    #[arg(short = 'r', long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    remote: Option<String>,
    /// A JSON summary on stdout (with `--remote`).
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = Lockfile::load(&repo.root)?;
    let verb = if args.dry_run {
        "Would remove"
    } else {
        "Removed"
    };
    if let Some(name) = &args.remote {
        let name = (!name.is_empty()).then_some(name.as_str());
        let named = open_named(&repo, name)?;
        let r = netsec_engine::remote::gc(&repo, &named, &lock, args.dry_run, &Lines::new(ui))?;
        ui.status(
            verb,
            "32",
            &format!(
                "{} objects ({}) and {} run-cache entries from {}; kept {} objects, {} entries and every snapshot",
                r.removed_objects,
                human_bytes(r.removed_bytes),
                r.removed_runs,
                named.name,
                r.kept_objects,
                r.kept_runs
            ),
        );
        if args.json {
            crate::output::json_line(&netsec_protocol::RemoteGcJson {
                remote: named.name.clone(),
                dry_run: args.dry_run,
                removed_objects: r.removed_objects,
                removed_bytes: r.removed_bytes,
                removed_runs: r.removed_runs,
                kept_objects: r.kept_objects,
                kept_runs: r.kept_runs,
            });
        }
        return Ok(0);
    }
    let r = netsec_engine::gc::gc(&repo, &lock, args.dry_run)?;
    ui.status(
        verb,
        "32",
        &format!("{} objects ({} bytes); kept {}", r.removed, r.bytes, r.kept),
    );
    Ok(0)
}
