//! `netsec repro`: run stale stages; human lines on stderr, `--json` events on stdout.

use std::path::Path;

use netsec_engine::plan::Selection;
use netsec_engine::{Cancel, Error, Event, Outcome, RepoLock, ReproOptions};
use netsec_protocol::ReproLine;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stages to reproduce (with their upstream); all when none.
    stages: Vec<String>,
    /// Run even fresh stages (and skip the run-cache).
    #[arg(short, long)]
    force: bool,
    /// Only the named stages, not their upstream.
    #[arg(short = 's', long = "single-item")]
    single_item: bool,
    /// The named stages and everything downstream of them.
    #[arg(long, conflicts_with = "single_item")]
    downstream: bool,
    /// Say what would run, run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep running independent stages after a failure.
    #[arg(short, long)]
    keep_going: bool,
    /// Parallel workers (default: number of cores).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// JSON Lines events on stdout.
    #[arg(long)]
    json: bool,
    /// Never restore from the run-cache.
    #[arg(long)]
    no_run_cache: bool,
    /// Before running a stage, look for its result on the default remote (its run-cache, or
    /// the outs netsec.lock records) and restore from there.
    #[arg(long, conflicts_with = "no_run_cache")]
    pull: bool,
    /// The remote `--pull` reads (a name from pipeline.toml, or a URL); default: the default remote.
    #[arg(short, long, value_name = "NAME", requires = "pull")]
    remote: Option<String>,
    /// Where stages run: `local` (child processes) or `slurm` (one batch job per stage);
    /// default: `[executor] kind` of pipeline.toml / .netsec/config.local.toml, else local.
    #[arg(long, value_name = "KIND", value_parser = ["local", "slurm"])]
    executor: Option<String>,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    // A plain `repro` of everything may be answered by the fresh seal: nothing to run.
    let whole =
        args.stages.is_empty() && !args.force && !args.dry_run && !args.pull && ui.verbose == 0;
    if whole {
        if let Some(code) = sealed_noop(ui, cwd, args.json)? {
            return Ok(code);
        }
    }
    // Never freed, as in `status`: the process exits right after.
    let (repo, clean) = super::open_noting_warnings(ui, cwd)?;
    let repo = std::mem::ManuallyDrop::new(repo);
    let _lock = RepoLock::acquire(&repo.dot)?;
    // Stamped before anything is evaluated; sealed only if every stage turns out fresh.
    let seal = (whole && clean)
        .then(|| netsec_engine::fresh_seal::Pending::collect(&repo))
        .flatten();
    // Leftovers of a killed run (staging dirs, half-moved trash) are garbage once we hold the
    // repository lock: nobody else can be using them.
    let _ = netsec_engine::restore::remove_path(&repo.tmp_dir());
    let cancel = Cancel::new();
    if let Err(e) = cancel.install_signal_handler() {
        tracing::warn!("cannot install signal handlers: {e}");
    }
    // Output that cannot be written (a closed pipe, a full disk) stops the run like Ctrl-C.
    let on_output_failure = std::sync::Arc::clone(&cancel);
    crate::output::on_failure(move || on_output_failure.cancel());
    let opts = ReproOptions {
        targets: args.stages,
        selection: Selection {
            single_item: args.single_item,
            downstream: args.downstream,
        },
        force: args.force,
        dry_run: args.dry_run,
        keep_going: args.keep_going,
        jobs: args.jobs.unwrap_or(0),
        no_run_cache: args.no_run_cache,
        remote: if args.pull {
            Some(crate::remotes::open_named(&repo, args.remote.as_deref())?)
        } else {
            None
        },
        executor: args
            .executor
            .as_deref()
            .and_then(netsec_engine::run_settings::ExecutorKind::parse),
    };
    let json = args.json;
    let sink = |ev: Event<'_>| {
        ui.event(ev);
        if json {
            if let Event::Finished(r) = ev {
                crate::output::json_line(&ReproLine::Stage(r.clone()));
            }
        }
    };
    let result = netsec_engine::repro(&repo, &opts, &cancel, &sink)?;
    if !args.dry_run {
        crate::tracking::record_timings(ui, &repo, &result);
    }
    if json {
        crate::output::json_line(&ReproLine::Summary(result.summary()));
    }
    let changed = result
        .reports
        .iter()
        .any(|r| !matches!(r.outcome, Outcome::Skipped | Outcome::Frozen));
    if !changed && result.exit_code == 0 {
        if let Some(seal) = seal {
            let all_skipped = result.reports.iter().all(|r| r.outcome == Outcome::Skipped);
            if all_skipped {
                let order: Vec<String> = result.reports.iter().map(|r| r.stage.clone()).collect();
                if let Ok(lock) = repo.load_lock() {
                    seal.commit(&repo, &lock, &order, true);
                }
            }
        }
        ui.status("Fresh", "32", "Pipeline is up to date.");
    }
    if result.exit_code == 0 && !args.dry_run {
        // MLflow: a warning on failure, exit 5 only with `tracking.required = true`.
        return Ok(crate::tracking::track(ui, &repo, &result));
    }
    Ok(result.exit_code)
}

/// `repro` when the fresh seal holds (checked under the repository lock, so no run is half
/// way): every stage is reported skipped, as a full evaluation would, without parsing
/// pipeline.toml or the lock. `None`: no valid seal, evaluate normally.
fn sealed_noop(ui: &Ui, cwd: &Path, json: bool) -> Result<Option<i32>, Error> {
    let root = netsec_engine::find_root(cwd)?;
    let dot = root.join(netsec_engine::workspace::DOT_DIR);
    let lock = RepoLock::acquire(&dot)?;
    let Some(sealed) = netsec_engine::fresh_seal::check(&root, true) else {
        drop(lock);
        return Ok(None);
    };
    let _ = netsec_engine::restore::remove_path(&dot.join("tmp"));
    let reports: Vec<netsec_engine::StageReport> = sealed
        .stages
        .into_iter()
        .map(|stage| netsec_engine::StageReport::skipped(stage, 0))
        .collect();
    ui.skipped_all(&reports);
    let result = netsec_engine::ReproResult {
        reports,
        exit_code: 0,
    };
    if json {
        for r in &result.reports {
            crate::output::json_line(&ReproLine::Stage(r.clone()));
        }
        crate::output::json_line(&ReproLine::Summary(result.summary()));
    }
    ui.status("Fresh", "32", "Pipeline is up to date.");
    Ok(Some(0))
}
