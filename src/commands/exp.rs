//! `netsec exp run|show|remove|diff|apply|branch` (and `push|pull`, in `exp_share`): experiments. Records, sweeps, workspaces and the queue runner
//! live in `netsec_engine::exp`; this file parses arguments, and reads params and metrics of a
//! finished workspace (the binary knows the metric formats, through netsec-tracking).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use netsec_engine::exp::runner::{Collected, RunnerEvent, RunnerOptions};
use netsec_engine::exp::{names, record::now_ms, ExpRecord, ExpStatus, Store};
use netsec_engine::params_edit::Override;
use netsec_engine::plan::Selection;
use netsec_engine::{find_root, Cancel, Error, Repo, RepoLock, ReproOptions};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Set params (-S), run the pipeline, record the experiment; or queue a sweep.
    Run(RunArgs),
    /// Experiments, the workspace and HEAD side by side: params and metrics.
    Show(super::exp_show::ShowArgs),
    /// Delete experiments (their records and logs).
    Remove(RemoveArgs),
    /// Params and metrics that differ between two rows of `exp show` (default: HEAD and the
    /// workspace; one name: HEAD and it).
    Diff {
        a: Option<String>,
        b: Option<String>,
        /// Also what did not change.
        #[arg(long)]
        all: bool,
        /// A JSON list of `{kind, key, old, new, delta}`.
        #[arg(long)]
        json: bool,
    },
    /// Put an experiment's params, outs (from the cache) and lock entries into the workspace,
    /// running nothing.
    Apply { name: String },
    /// Create a git branch whose commit holds the experiment's params, lock and metrics.
    Branch { name: String, branch: String },
    /// Send finished experiments (records, their outs' objects, their run-cache entries) to a
    /// remote, each record after its data.
    Push(super::exp_share::ShareArgs),
    /// Fetch experiments from a remote (every record checked, objects verified), for
    /// `exp show` and `exp apply`.
    Pull(super::exp_share::ShareArgs),
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Stages to reproduce (with their upstream); all when none.
    stages: Vec<String>,
    /// KEY=VALUE: a param (`train.lr`, `params.yaml:train.lr`) and its TOML value; with
    /// `--queue`, `1,2,3` or `range(start, stop, step)` sweep it. Repeat for several.
    #[arg(short = 'S', long = "set-param", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The experiment's name (default: a generated adjective-noun).
    #[arg(short, long)]
    name: Option<String>,
    /// Queue the experiment(s) instead of running now (required for a sweep of several points).
    #[arg(long)]
    queue: bool,
    /// Run every queued experiment, each in an isolated workspace.
    #[arg(long)]
    run_all: bool,
    /// Experiments run at a time with `--run-all` (default 1).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// With `--run-all`: the executor each experiment's `repro` uses (`local`, `slurm`;
    /// default: as `netsec repro`).
    #[arg(long, value_name = "NAME")]
    executor: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// Experiments to delete.
    names: Vec<String>,
    /// Every queued experiment.
    #[arg(long, conflicts_with = "all")]
    queued: bool,
    /// Every experiment.
    #[arg(long)]
    all: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    match args.action {
        Action::Run(a) => run_exp(ui, cwd, a),
        Action::Show(a) => super::exp_show::run(ui, cwd, a),
        Action::Remove(a) => remove(ui, cwd, a),
        Action::Diff { a, b, all, json } => diff(ui, cwd, a, b, all, json),
        Action::Apply { name } => apply(ui, cwd, &name),
        Action::Push(a) => super::exp_share::push(ui, cwd, a),
        Action::Pull(a) => super::exp_share::pull(ui, cwd, a),
        Action::Branch { name, branch } => {
            let (_, store) = store_of(cwd)?;
            let rec = store.load(&name)?;
            let repo = super::open(ui, cwd)?;
            let commit = netsec_engine::exp::branch::create(&repo, &rec, &branch)?;
            ui.status(
                "Branched",
                "32",
                &format!(
                    "`{name}` as `{branch}` ({})",
                    &commit[..commit.len().min(7)]
                ),
            );
            Ok(0)
        }
    }
}

fn store_of(cwd: &Path) -> Result<(std::path::PathBuf, Store), Error> {
    let root = find_root(cwd)?;
    let root = std::fs::canonicalize(&root).map_err(|e| Error::io("open", &root, e))?;
    let store = Store::new(&root.join(netsec_engine::workspace::DOT_DIR));
    Ok((root, store))
}

fn run_exp(ui: &Ui, cwd: &Path, a: RunArgs) -> Result<i32, Error> {
    let (root, store) = store_of(cwd)?;
    if a.set.is_empty() && a.run_all && !a.queue {
        return run_queue(ui, cwd, a.jobs.unwrap_or(1), a.executor.as_deref());
    }
    let points = netsec_engine::exp::sweep::points(&a.set)?;
    if points.len() > 1 && !a.queue {
        return Err(Error::Usage {
            message: format!("the -S values make {} experiments", points.len()),
            hint: Some("add `--queue` to queue them, then `netsec exp run --run-all -j N`".into()),
        });
    }
    if let Some(n) = &a.name {
        names::check(n)?;
        if points.len() > 1 {
            return Err(Error::Usage {
                message: "`-n` names one experiment, and this sweep makes several".into(),
                hint: Some("leave the names to netsec".into()),
            });
        }
        if store.exists(n) {
            return Err(Error::Usage {
                message: format!("an experiment named `{n}` already exists"),
                hint: Some(format!("choose another name, or `netsec exp remove {n}`")),
            });
        }
    }
    if a.queue {
        let code = queue(ui, &root, &store, &a, &points)?;
        if code != 0 || !a.run_all {
            return Ok(code);
        }
        return run_queue(ui, cwd, a.jobs.unwrap_or(1), a.executor.as_deref());
    }
    run_here(
        ui,
        cwd,
        &root,
        &store,
        &a,
        points.into_iter().next().unwrap_or_default(),
    )
}

fn overrides_map(points: &[Override]) -> BTreeMap<String, serde_json::Value> {
    points
        .iter()
        .map(|o| (o.key.to_string(), o.value.clone()))
        .collect()
}

fn new_name(store: &Store, given: Option<&str>, salt: usize) -> String {
    match given {
        Some(n) => n.to_string(),
        None => names::generate(
            format!("{}-{}-{salt}", now_ms(), std::process::id()).as_bytes(),
            &|n| store.exists(n),
        ),
    }
}

/// `exp run --queue`: check every key against the current params, then write queued records.
fn queue(
    ui: &Ui,
    root: &Path,
    store: &Store,
    a: &RunArgs,
    points: &[Vec<Override>],
) -> Result<i32, Error> {
    let Some(base) = netsec_common::git::commit(root) else {
        return Err(Error::Usage {
            message: "queued experiments start from a git commit, and there is none here".into(),
            hint: Some("commit the pipeline (`git add -A && git commit`), then queue".into()),
        });
    };
    // The keys must exist now (exit 3 naming the first that does not).
    for p in points {
        netsec_engine::params_edit::plan(root, p)?;
    }
    // The stage names too.
    let repo = super::open(ui, root)?;
    repo.check_stage_names(&a.stages)?;
    for (i, p) in points.iter().enumerate() {
        let name = new_name(store, a.name.as_deref(), i);
        let mut rec = ExpRecord::new(name.clone(), Some(base.clone()), overrides_map(p));
        rec.targets = a.stages.clone();
        store.save(&rec)?;
        let shown: Vec<String> = p.iter().map(Override::display).collect();
        ui.status("Queued", "36", &format!("`{name}` {}", shown.join(" ")));
    }
    Ok(0)
}

/// `exp run` without `--queue`: edit the params in place, `repro` here, record the result.
fn run_here(
    ui: &Ui,
    cwd: &Path,
    root: &Path,
    store: &Store,
    a: &RunArgs,
    point: Vec<Override>,
) -> Result<i32, Error> {
    let dot = root.join(netsec_engine::workspace::DOT_DIR);
    let _lock = RepoLock::acquire(&dot)?;
    let plan = netsec_engine::params_edit::plan(root, &point)?;
    // Check the pipeline with the new params loads before anything is written.
    plan.write_checked(root, &super::extensions())?;
    let repo = super::open(ui, cwd)?;
    repo.check_stage_names(&a.stages)?;
    let _ = netsec_engine::restore::remove_path(&repo.tmp_dir());
    let cancel = Cancel::new();
    if let Err(e) = cancel.install_signal_handler() {
        tracing::warn!("cannot install signal handlers: {e}");
    }
    let opts = ReproOptions {
        targets: a.stages.clone(),
        selection: Selection::default(),
        jobs: 0,
        ..Default::default()
    };
    let name = new_name(store, a.name.as_deref(), 0);
    let mut rec = ExpRecord::new(
        name.clone(),
        netsec_common::git::commit(root),
        overrides_map(&point),
    );
    rec.targets = a.stages.clone();
    rec.in_workspace = true;
    rec.started_ms = Some(now_ms());
    let sink = |ev: netsec_engine::Event<'_>| ui.event(ev);
    let result = netsec_engine::repro(&repo, &opts, &cancel, &sink)?;
    crate::tracking::record_timings(ui, &repo, &result);
    rec.finished_ms = Some(now_ms());
    rec.exit_code = Some(result.exit_code);
    for r in &result.reports {
        rec.stages
            .insert(r.stage.clone(), r.outcome.as_str().to_string());
    }
    if let Ok(lock) = repo.load_lock() {
        rec.lock = serde_json::to_value(&lock).ok();
    }
    let c = collect_repo(ui, &repo);
    rec.params = c.params;
    rec.metrics = c.metrics;
    if result.exit_code == 0 {
        rec.status = ExpStatus::Success;
    } else {
        rec.status = ExpStatus::Failed;
        rec.message = result.reports.iter().find_map(|r| {
            r.failure
                .as_ref()
                .map(|f| format!("stage `{}` failed: {}", r.stage, f.message))
        });
    }
    store.save(&rec)?;
    ui.status(
        "Recorded",
        if result.exit_code == 0 { "32" } else { "31" },
        &format!("experiment `{name}` ({})", rec.status.as_str()),
    );
    Ok(result.exit_code)
}

/// Params (every tracked key, flat) and metrics (metric outs of the lock) of a workspace.
pub fn collect_repo(ui: &Ui, repo: &Repo) -> Collected {
    let params = super::params::tracked(&repo.pipeline);
    let lock = repo.load_lock().unwrap_or_default();
    let metrics = super::metrics::current(ui, repo, &lock);
    Collected { params, metrics }
}

/// `exp run --run-all` and `queue start`.
pub fn run_queue(ui: &Ui, cwd: &Path, jobs: usize, executor: Option<&str>) -> Result<i32, Error> {
    let (root, _) = store_of(cwd)?;
    let dot = root.join(netsec_engine::workspace::DOT_DIR);
    let exe = std::env::current_exe().map_err(|e| Error::io("find", "netsec", e))?;
    let cancel = Cancel::new();
    if let Err(e) = cancel.install_signal_handler() {
        tracing::warn!("cannot install signal handlers: {e}");
    }
    let opts = RunnerOptions {
        jobs,
        exe,
        repro_args: executor
            .map(|e| vec!["--executor".to_string(), e.to_string()])
            .unwrap_or_default(),
    };
    let quiet = Ui::new(0, true);
    let collect = |ws: &Path| -> Collected {
        match Repo::open(ws, super::extensions(), std::env::vars().collect()) {
            Ok((repo, _)) => collect_repo(&quiet, &repo),
            Err(_) => Collected::default(),
        }
    };
    let on_event = |ev: RunnerEvent<'_>| match ev {
        RunnerEvent::Recovered(names) => ui.warn(&format!(
            "queued again after an interrupted run: {}",
            names.join(", ")
        )),
        RunnerEvent::Started(r) => ui.status("Started", "32", &format!("`{}`", r.name)),
        RunnerEvent::Finished(r) => {
            let took = r
                .duration_ms()
                .map(|d| format!(" in {:.2}s", d as f64 / 1000.0))
                .unwrap_or_default();
            if r.status == ExpStatus::Success {
                ui.status("Finished", "32", &format!("`{}`{took}", r.name));
            } else {
                ui.status(
                    "Failed",
                    "31",
                    &format!(
                        "`{}`{took}: {} (netsec queue logs {})",
                        r.name,
                        r.message.as_deref().unwrap_or("failed"),
                        r.name
                    ),
                );
            }
        }
    };
    let cancel: Arc<Cancel> = cancel;
    let (ok, failed) =
        netsec_engine::exp::runner::run_all(&root, &dot, &opts, &cancel, &collect, &on_event)?;
    if ok + failed == 0 {
        ui.status("Fresh", "32", "No queued experiment.");
    } else {
        ui.status("Done", "32", &format!("{ok} succeeded, {failed} failed"));
    }
    Ok(if failed > 0 || cancel.is_cancelled() {
        1
    } else {
        0
    })
}

fn remove(ui: &Ui, cwd: &Path, a: RemoveArgs) -> Result<i32, Error> {
    let (_, store) = store_of(cwd)?;
    let alive = netsec_engine::exp::queue::runner_alive(&store);
    let targets: Vec<ExpRecord> = if a.all || a.queued {
        let (recs, _) = store.list();
        recs.into_iter()
            .filter(|r| {
                a.all || netsec_engine::exp::queue::effective(r, alive) == ExpStatus::Queued
            })
            .collect()
    } else {
        if a.names.is_empty() {
            return Err(Error::Usage {
                message: "name the experiments to remove".into(),
                hint: Some("or `--queued`, or `--all`".into()),
            });
        }
        a.names
            .iter()
            .map(|n| store.load(n))
            .collect::<Result<_, _>>()?
    };
    for r in &targets {
        if alive && r.status == ExpStatus::Running {
            return Err(Error::Usage {
                message: format!("experiment `{}` is running", r.name),
                hint: Some(format!("`netsec queue kill {}` first", r.name)),
            });
        }
    }
    for r in &targets {
        store.remove(&r.name)?;
        ui.status("Removed", "32", &format!("`{}`", r.name));
    }
    Ok(0)
}

fn diff(
    ui: &Ui,
    cwd: &Path,
    a: Option<String>,
    b: Option<String>,
    all: bool,
    json: bool,
) -> Result<i32, Error> {
    let rows = super::exp_show::rows(ui, cwd)?;
    let (old, new) = match (a, b) {
        (None, _) => ("HEAD".to_string(), "workspace".to_string()),
        (Some(a), None) => ("HEAD".to_string(), a),
        (Some(a), Some(b)) => (a, b),
    };
    let find = |n: &str| {
        rows.iter()
            .find(|r| r.name == n)
            .ok_or_else(|| Error::Usage {
                message: format!("no experiment named `{n}`"),
                hint: Some("`netsec exp show` lists them (and `workspace`, `HEAD`)".into()),
            })
    };
    let (o, n) = (find(&old)?, find(&new)?);
    let metrics = |r: &netsec_protocol::ExpRow| -> BTreeMap<String, serde_json::Value> {
        r.metrics
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), serde_json::Number::from_f64(*v)?.into())))
            .collect()
    };
    let mut out = super::params::diff("param", &o.params, &n.params, all);
    out.extend(super::params::diff("metric", &metrics(o), &metrics(n), all));
    super::params::print(&out, &old, &new, json);
    Ok(0)
}

fn apply(ui: &Ui, cwd: &Path, name: &str) -> Result<i32, Error> {
    let (root, store) = store_of(cwd)?;
    let rec = store.load(name)?;
    if rec.status != ExpStatus::Success {
        return Err(Error::Usage {
            message: format!("experiment `{name}` is {}", rec.status.as_str()),
            hint: Some("only a successful experiment can be applied".into()),
        });
    }
    let dot = root.join(netsec_engine::workspace::DOT_DIR);
    let _lock = RepoLock::acquire(&dot)?;
    let overrides = rec.overrides()?;
    netsec_engine::params_edit::plan(&root, &overrides)?
        .write_checked(&root, &super::extensions())?;
    let repo = super::open(ui, cwd)?;
    let stages = netsec_engine::exp::apply::restore_outs(&repo, &rec)?;
    ui.status(
        "Applied",
        "32",
        &format!(
            "experiment `{name}` ({} stages restored, none run)",
            stages.len()
        ),
    );
    Ok(0)
}
