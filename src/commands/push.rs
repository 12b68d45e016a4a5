//! `netsec push`: upload the lock's cached objects to a remote, then write a timestamped
//! snapshot (`artifact/<ts>/…`, `final_model/<ts>/…`, `snapshots/<ts>.json`).

use std::path::Path;

use netsec_engine::remote::{snapshot, PushOptions, SnapshotOptions};
use netsec_engine::{Error, RepoLock};

use netsec_protocol::{PushJson, SnapshotRef};

use crate::remotes::{human_bytes, model_copies, open_named, Lines};
use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these stages' outs (all when none).
    stages: Vec<String>,
    /// The remote (default: the one with `default = true`, or the only one).
    #[arg(short, long, value_name = "NAME")]
    remote: Option<String>,
    /// Transfer threads (default: 4 per core, at most 16).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Also upload the run-cache entries of these stages.
    #[arg(long)]
    run_cache: bool,
    /// Do not write a timestamped snapshot.
    #[arg(long)]
    no_snapshot: bool,
    /// A JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let _lock = RepoLock::acquire(&repo.dot)?;
    let lock = repo.load_lock()?;
    let named = open_named(&repo, args.remote.as_deref())?;
    let obs = Lines::new(ui);
    let opts = PushOptions {
        stages: args.stages.clone(),
        jobs: args.jobs.unwrap_or(0),
        run_cache: args.run_cache,
    };
    let report = netsec_engine::remote::push(&repo, &named, &lock, &opts, &obs)?;
    repo.save_memo();
    ui.status(
        "Pushed",
        "32",
        &format!(
            "{} objects ({}), {} already on {}",
            report.uploaded,
            human_bytes(report.uploaded_bytes),
            report.present,
            named.name
        ),
    );
    if report.aborted_uploads > 0 {
        ui.status(
            "Aborted",
            "32",
            &format!(
                "{} unfinished uploads older than {} on {}",
                report.aborted_uploads,
                humantime::format_duration(named.stale_after),
                named.name
            ),
        );
    }
    if args.run_cache {
        ui.status(
            "Pushed",
            "32",
            &format!(
                "{} run-cache entries, {} already on {}",
                report.runs_uploaded, report.runs_present, named.name
            ),
        );
    }
    let snap = if args.no_snapshot {
        None
    } else {
        let sopts = SnapshotOptions {
            stages: args.stages,
            extra_copies: model_copies(&repo),
            git_commit: netsec_common::git::commit(&repo.root),
            jobs: args.jobs.unwrap_or(0),
        };
        let s = snapshot::write(&repo, &named, &lock, &sopts, &obs)?;
        ui.status(
            "Snapshot",
            "32",
            &format!("{} ({} keys) on {}", s.timestamp, s.keys.len(), named.name),
        );
        Some(s)
    };
    if args.json {
        crate::output::json_line(&PushJson {
            remote: named.name.clone(),
            url: named.remote.describe(),
            uploaded: report.uploaded,
            uploaded_bytes: report.uploaded_bytes,
            present: report.present,
            present_bytes: report.present_bytes,
            runs_uploaded: report.runs_uploaded,
            runs_present: report.runs_present,
            aborted_uploads: report.aborted_uploads,
            snapshot: snap.map(|s| SnapshotRef {
                manifest: format!(
                    "{}{}.json",
                    netsec_engine::remote::SNAPSHOTS_PREFIX,
                    s.timestamp
                ),
                timestamp: s.timestamp,
                keys: s.keys,
            }),
        });
    }
    Ok(0)
}
