//! `netsec gc`: delete unreferenced cache objects.

use std::path::Path;

use netsec::{Error, Lockfile, RepoLock};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only say what would be removed.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = Lockfile::load(&repo.root)?;
    let r = netsec::gc::gc(&repo, &lock, args.dry_run)?;
    let verb = if args.dry_run {
        "Would remove"
    } else {
        "Removed"
    };
    ui.status(
        verb,
        "32",
        &format!("{} objects ({} bytes); kept {}", r.removed, r.bytes, r.kept),
    );
    Ok(0)
}
