//! `netsec gc`: delete cache objects that no lock of the chosen scope references (`--remote`:
//! on a remote instead). A scope is required, and deleting asks first unless `--force`.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use netsec_engine::gc::GcOptions;
use netsec_engine::history::{locks, Scope};
use netsec_engine::{Error, RepoLock};
use netsec_protocol::GcJson;

use crate::remotes::{human_bytes, open_named, Lines};
use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep what the workspace's netsec.lock references.
    #[arg(short = 'w', long)]
    workspace: bool,
    /// Keep what the netsec.lock of every git branch head references.
    #[arg(short = 'a', long)]
    all_branches: bool,
    /// Keep what the netsec.lock of every git tag references.
    #[arg(short = 'T', long)]
    all_tags: bool,
    /// Keep what the netsec.lock of every git commit references.
    #[arg(short = 'A', long)]
    all_commits: bool,
    /// Delete without asking.
    #[arg(short, long)]
    force: bool,
    /// Only say what would be removed.
    #[arg(long)]
    dry_run: bool,
    /// Keep at most N run-cache entries per stage (newest first).
    #[arg(long, value_name = "N")]
    run_cache_keep: Option<usize>,
    /// Drop run-cache entries older than DURATION (`30d`, `12h`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    run_cache_older_than: Option<std::time::Duration>,
    /// Collect garbage on a remote (the default one, or NAME): its `files/` objects and `runs/`
    /// entries that the scope's locks do not reference. Snapshots are kept.
    #[arg(short = 'r', long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
    remote: Option<String>,
    /// A JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

impl Args {
    fn scope(&self) -> Scope {
        Scope {
            workspace: self.workspace,
            all_branches: self.all_branches,
            all_tags: self.all_tags,
            all_commits: self.all_commits,
        }
    }

    fn scope_names(&self) -> Vec<String> {
        [
            (self.workspace, "workspace"),
            (self.all_branches, "all-branches"),
            (self.all_tags, "all-tags"),
            (self.all_commits, "all-commits"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n.to_string())
        .collect()
    }
}

/// Asks on the terminal; refuses when there is none to ask.
fn confirm(what: &str) -> Result<bool, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage {
            message: format!("gc would delete {what} and cannot ask for confirmation here"),
            hint: Some("pass `--force` to delete, or `--dry-run` to look first".into()),
        });
    }
    crate::errln!("gc will delete {what}. Continue? [y/N]");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let scope = args.scope();
    if scope.is_empty() {
        return Err(Error::Usage {
            message: "gc needs a scope: which locks' objects to keep".into(),
            hint: Some(
                "-w/--workspace (this workspace's netsec.lock), -a/--all-branches, -T/--all-tags, \
                 -A/--all-commits (the netsec.lock of every such git revision); they combine. \
                 Everything else in the cache is deleted"
                    .into(),
            ),
        });
    }
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let kept_locks = locks(&repo.root, scope)?;
    let mut json = GcJson {
        scope: args.scope_names(),
        locks: kept_locks.len(),
        dry_run: args.dry_run,
        ..GcJson::default()
    };
    if let Some(name) = &args.remote {
        let name = (!name.is_empty()).then_some(name.as_str());
        let named = open_named(&repo, name)?;
        let obs = Lines::new(ui);
        let mut dry_run = args.dry_run || !args.force;
        let extra = [crate::remotes::FINAL_MODEL_PREFIX];
        let mut r = netsec_engine::remote::gc(&repo, &named, &kept_locks, &extra, dry_run, &obs)?;
        let what = format!(
            "{} objects ({}), {} run-cache entries, {} keys of unfinished snapshots and {} unfinished uploads on `{}`",
            r.removed_objects,
            human_bytes(r.removed_bytes),
            r.removed_runs,
            r.removed_unfinished,
            r.aborted_uploads,
            named.name
        );
        let doomed = r.removed_objects + r.removed_runs + r.removed_unfinished + r.aborted_uploads;
        if !args.dry_run && !args.force && doomed > 0 && confirm(&what)? {
            dry_run = false;
            r = netsec_engine::remote::gc(&repo, &named, &kept_locks, &extra, false, &obs)?;
        }
        ui.status(
            if dry_run { "Would remove" } else { "Removed" },
            "32",
            &format!(
                "{} objects ({}) and {} run-cache entries from {}; kept {} objects, {} entries ({} experiments) and every snapshot",
                r.removed_objects,
                human_bytes(r.removed_bytes),
                r.removed_runs,
                named.name,
                r.kept_objects,
                r.kept_runs,
                r.experiments
            ),
        );
        if r.removed_unfinished + r.aborted_uploads > 0 {
            ui.status(
                if dry_run { "Would remove" } else { "Removed" },
                "32",
                &format!(
                    "{} keys ({}) of unfinished snapshots and {} unfinished uploads older than {}",
                    r.removed_unfinished,
                    human_bytes(r.removed_unfinished_bytes),
                    r.aborted_uploads,
                    humantime::format_duration(named.stale_after)
                ),
            );
        }
        if args.json {
            crate::output::json_line(&GcJson {
                remote: Some(named.name.clone()),
                dry_run,
                removed_objects: r.removed_objects,
                removed_bytes: r.removed_bytes,
                removed_runs: r.removed_runs,
                kept_objects: r.kept_objects,
                kept_runs: r.kept_runs,
                removed_unfinished: r.removed_unfinished,
                removed_unfinished_bytes: r.removed_unfinished_bytes,
                aborted_uploads: r.aborted_uploads,
                experiments: r.experiments as usize,
                ..json
            });
        }
        return Ok(0);
    }
    let mut opts = GcOptions {
        dry_run: true,
        run_cache_keep: args.run_cache_keep,
        run_cache_older_than: args.run_cache_older_than,
    };
    let mut r = netsec_engine::gc::gc(&repo, &kept_locks, &opts)?;
    let what = format!(
        "{} objects ({}) and {} run-cache entries",
        r.removed_objects,
        human_bytes(r.removed_bytes),
        r.removed_runs
    );
    let go =
        !args.dry_run && r.removed_objects + r.removed_runs > 0 && (args.force || confirm(&what)?);
    if go {
        opts.dry_run = false;
        r = netsec_engine::gc::gc(&repo, &kept_locks, &opts)?;
    }
    ui.status(
        if go { "Removed" } else { "Would remove" },
        "32",
        &format!(
            "{} objects ({}) and {} run-cache entries; kept {} objects and {} entries ({} locks, {} experiments)",
            r.removed_objects,
            human_bytes(r.removed_bytes),
            r.removed_runs,
            r.kept_objects,
            r.kept_runs,
            kept_locks.len(),
            r.experiments
        ),
    );
    if args.json {
        json.dry_run = !go;
        json.removed_objects = r.removed_objects;
        json.removed_bytes = r.removed_bytes;
        json.kept_objects = r.kept_objects;
        json.removed_runs = r.removed_runs;
        json.kept_runs = r.kept_runs;
        json.experiments = r.experiments;
        crate::output::json_line(&json);
    }
    Ok(0)
}
