//! `repro`: evaluate and run the selected stages in dependency order on N workers.
//!
//! A stage is *decided* only when all its selected upstreams have finished, by hashing its deps
//! as they are then. That is early cut-off: an upstream that rewrote byte-identical outs leaves
//! its downstream fresh. Lock entries are journaled one stage at a time, by the scheduler thread
//! only, after the stage's outs are in place, hashed and cached; the lock is written at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;

use crate::cancel::Cancel;
use crate::dirty_reason::DirtyReason;
use crate::error::{exit, Error};
use crate::events::{
    Event, FailureKind, Outcome, ReproResult, RestoreSource, StageFailure, StageReport,
};
use crate::lock::{LockEntry, Lockfile};
use crate::lock_journal::Journal;
use crate::pipeline::{PipelineError, Stage};
use crate::plan::{select, Selection};
use crate::run_cache;
use crate::status::evaluate;
use crate::workspace::Repo;

/// Options of `repro`.
#[derive(Debug, Clone, Default)]
pub struct ReproOptions {
    pub targets: Vec<String>,
    pub selection: Selection,
    pub force: bool,
    pub dry_run: bool,
    pub keep_going: bool,
    /// Worker count; 0 means the number of cores.
    pub jobs: usize,
    pub no_run_cache: bool,
    /// `repro --pull`: before running a stage, try the remote's run-cache (and fetch the
    /// missing outs of stages the lock already records with this fingerprint).
    pub remote: Option<crate::remote::Named>,
    /// `repro --executor`: overrides `[executor] kind` for this run.
    pub executor: Option<crate::run_settings::ExecutorKind>,
}

/// The params a stage tracks, flat (for the fingerprint) and nested (for a built-in).
struct StageParams {
    flat: BTreeMap<String, Value>,
    nested: Value,
}

struct Done {
    report: StageReport,
    entry: Option<LockEntry>,
}

/// What a worker sends back for a job.
enum FromWorker {
    Done(Box<Done>),
    /// A queued job found the run stopping (a failure without `-k`, Ctrl-C) and did not start.
    NotStarted(String),
}

pub type EventSink<'a> = &'a (dyn Fn(Event<'_>) + Sync);

/// Run `repro`. The caller holds the repository lock.
pub fn repro(
    repo: &Repo,
    opts: &ReproOptions,
    cancel: &Cancel,
    on_event: EventSink<'_>,
) -> Result<ReproResult, Error> {
    let selected = select(repo, &opts.targets, opts.selection)?;
    tracing::debug!("selected stages: {}", selected.join(", "));
    let mut lock = repo.load_lock()?;
    let mut store = repo.pipeline.param_store();
    let mut params = BTreeMap::new();
    for name in &selected {
        let st = &repo.pipeline.stages[name];
        let perr = |e: crate::params::ParamsError| {
            Error::Pipeline(PipelineError {
                message: format!("stage `{name}`: {e}"),
                ..Default::default()
            })
        };
        let flat = store.tracked(&st.params).map_err(perr)?;
        let nested = store.nested(&st.params).map_err(perr)?;
        params.insert(name.clone(), StageParams { flat, nested });
    }
    let result = if opts.dry_run {
        dry_run(repo, opts, &selected, &lock, &params, on_event)
    } else {
        run(repo, opts, &selected, &mut lock, &params, cancel, on_event)
    };
    // Every command has ended: this process's log of running commands goes (see `orphans`).
    repo.running.close();
    if let Ok(r) = &result {
        if !opts.dry_run && r.exit_code == 0 {
            prune_orphans(repo, &mut lock)?;
        }
    }
    if !opts.dry_run {
        crate::gitignore::sync_recorded(repo, &lock);
    }
    repo.save_memo();
    result
}

/// After a successful run, drop the lock entries of stages the pipeline no longer declares
/// (a renamed or removed stage): they are never restored, and would otherwise stay forever.
/// Their results stay reachable: each cacheable entry is recorded in the run-cache first.
pub fn prune_orphans(repo: &Repo, lock: &mut Lockfile) -> Result<(), Error> {
    let orphans: Vec<String> = lock
        .stages
        .keys()
        .filter(|k| !repo.pipeline.stages.contains_key(*k))
        .cloned()
        .collect();
    if orphans.is_empty() {
        return Ok(());
    }
    for name in &orphans {
        if let Some(e) = lock.stages.remove(name) {
            // Uncached outs are kept only if the workspace still holds what the entry recorded.
            if let Some(entry) = run_cache::entry_from_workspace(repo, e.outs) {
                if let Err(err) = run_cache::record(repo, &e.fingerprint, &entry) {
                    tracing::warn!(
                        "cannot keep the result of removed stage `{name}` in the run-cache: {err}"
                    );
                }
            }
            tracing::info!("removed the lock entry of `{name}` (no longer in pipeline.toml)");
        }
    }
    lock.save(&repo.root).map_err(Error::Lock)
}

fn dry_run(
    repo: &Repo,
    opts: &ReproOptions,
    selected: &[String],
    lock: &Lockfile,
    params: &BTreeMap<String, StageParams>,
    on_event: EventSink<'_>,
) -> Result<ReproResult, Error> {
    let mut res = ReproResult::default();
    let mut would: BTreeSet<String> = BTreeSet::new();
    for name in selected {
        let stage = &repo.pipeline.stages[name];
        let ev = evaluate(repo, stage, lock.stages.get(name), &params[name].flat)?;
        let mut reasons = ev.reasons;
        let outcome = if stage.frozen {
            Outcome::Frozen
        } else {
            if opts.force {
                reasons.insert(0, DirtyReason::Forced);
            }
            for up in &repo.pipeline.graph.upstream[name] {
                if would.contains(up) {
                    reasons.push(DirtyReason::UpstreamChanged { stage: up.clone() });
                }
            }
            if reasons.is_empty() {
                Outcome::Skipped
            } else {
                would.insert(name.clone());
                Outcome::WouldRun
            }
        };
        let report = StageReport {
            stage: name.clone(),
            outcome,
            reasons,
            duration_ms: 0,
            restored_from: None,
            failure: None,
            job: None,
            attempts: None,
        };
        on_event(Event::Finished(&report));
        res.reports.push(report);
    }
    Ok(res)
}

fn run(
    repo: &Repo,
    opts: &ReproOptions,
    selected: &[String],
    lock: &mut Lockfile,
    params: &BTreeMap<String, StageParams>,
    cancel: &Cancel,
    on_event: EventSink<'_>,
) -> Result<ReproResult, Error> {
    let jobs = if opts.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.jobs
    };
    let index: BTreeMap<&str, usize> = selected
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let g = &repo.pipeline.graph;
    let mut waiting: BTreeMap<&str, usize> = selected
        .iter()
        .map(|s| {
            (
                s.as_str(),
                g.upstream[s]
                    .iter()
                    .filter(|u| index.contains_key(u.as_str()))
                    .count(),
            )
        })
        .collect();
    // Stages fresh now, whose selected upstreams are all fresh too, are decided before any worker
    // starts: nothing runs before them, so their deps cannot change. They are evaluated in
    // parallel, reported skipped and never dispatched (a no-op run of 10,000 stages costs one
    // parallel `status`, not 10,000 round trips through the workers).
    let mut res = ReproResult::default();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for report in settle_fresh(repo, opts, selected, &index, lock, params) {
        for d in &g.downstream[&report.stage] {
            if let Some(n) = waiting.get_mut(d.as_str()) {
                *n -= 1;
            }
        }
        waiting.remove(report.stage.as_str());
        on_event(Event::Finished(&report));
        reported.insert(report.stage.clone());
        res.reports.push(report);
    }
    let mut ready: BTreeSet<usize> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(s, _)| index[s])
        .collect();
    for i in &ready {
        waiting.remove(selected[*i].as_str());
    }
    let execs = crate::exec::Executors::new(repo, opts.executor);
    let execs = &execs;
    // A stage takes `cpus` of the `-j` slots on this machine (one as a batch job).
    let slots = |name: &str| execs.slots(&repo.pipeline.stages[name], jobs);

    // Each finished stage is appended to the journal (opened with the first one, so a no-op
    // run leaves none); the lock is written once, at the end.
    let mut journal: Option<Journal> = None;
    let mut journaled = false;
    let (job_tx, job_rx) = mpsc::channel::<(String, Option<LockEntry>)>();
    let job_rx = Mutex::new(job_rx);
    // The run stops (a failure without `-k`): nothing more is dispatched, and queued jobs do not
    // start. Set by the worker whose stage failed, at once, or by this thread.
    let stopping = AtomicBool::new(false);
    let stopping = &stopping;
    std::thread::scope(|scope| -> Result<(), Error> {
        let (done_tx, done_rx) = mpsc::channel::<FromWorker>();
        let workers = jobs.min(selected.len()).max(1);
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let job_rx = &job_rx;
            scope.spawn(move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((name, entry)) = job else { return };
                if stopping.load(Ordering::SeqCst) || cancel.is_cancelled() {
                    if done_tx.send(FromWorker::NotStarted(name)).is_err() {
                        return;
                    }
                    continue;
                }
                let done = process(
                    repo,
                    opts,
                    execs,
                    &repo.pipeline.stages[&name],
                    entry.as_ref(),
                    &params[&name],
                    cancel,
                    on_event,
                );
                if done.report.outcome == Outcome::Failed && !opts.keep_going {
                    stopping.store(true, Ordering::SeqCst);
                }
                if done_tx.send(FromWorker::Done(Box::new(done))).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        // Jobs in flight (running or queued) and the `-j` slots they take. A one-slot stage
        // may also be queued behind the running ones, up to one per worker, so that a worker
        // that finishes starts its next stage at once instead of waiting for this thread to
        // hear of it and answer: the queue never holds a wider stage, nothing runs beside a
        // wider stage, and a worker runs one stage at a time, so at most `-j` slots are busy.
        let mut running = 0usize;
        let mut used = 0usize;
        let mut wide = 0usize;
        loop {
            while !stopping.load(Ordering::SeqCst) && !cancel.is_cancelled() {
                let Some(&i) = ready.first() else { break };
                let need = slots(&selected[i]);
                let now = running == 0 || used + need <= jobs;
                let queued = need == 1 && wide == 0 && running < 2 * workers;
                if !now && !queued {
                    break;
                }
                ready.remove(&i);
                used += need;
                wide += usize::from(need > 1);
                let name = selected[i].clone();
                let entry = lock.stages.get(&name).cloned();
                if job_tx.send((name, entry)).is_err() {
                    break;
                }
                running += 1;
            }
            if running == 0 {
                break;
            }
            let Ok(msg) = done_rx.recv() else { break };
            running -= 1;
            let need = slots(match &msg {
                FromWorker::Done(done) => &done.report.stage,
                FromWorker::NotStarted(name) => name,
            });
            used = used.saturating_sub(need);
            wide = wide.saturating_sub(usize::from(need > 1));
            let FromWorker::Done(done) = msg else {
                continue;
            };
            let mut done = *done;
            if let Some(entry) = done.entry.take() {
                let recorded = match journal.as_mut() {
                    Some(j) => j.append(&done.report.stage, &entry),
                    None => Journal::open(&repo.root)
                        .and_then(|j| journal.insert(j).append(&done.report.stage, &entry)),
                };
                if recorded.is_ok() {
                    lock.stages.insert(done.report.stage.clone(), entry);
                    journaled = true;
                }
                if let Err(e) = recorded {
                    done.report.outcome = Outcome::Failed;
                    done.report.restored_from = None;
                    done.report.failure = Some(StageFailure::new(
                        FailureKind::Io,
                        exit::IO,
                        format!(
                            "failed to record it in `{}`: {e}",
                            crate::lock_journal::path(&repo.root).display()
                        ),
                    ));
                }
            }
            on_event(Event::Finished(&done.report));
            let name = done.report.stage.clone();
            reported.insert(name.clone());
            let failed = done.report.outcome == Outcome::Failed;
            if let Some(f) = &done.report.failure {
                if res.exit_code == 0 {
                    res.exit_code = f.exit_code;
                }
            }
            res.reports.push(done.report);
            if failed {
                if !opts.keep_going {
                    stopping.store(true, Ordering::SeqCst);
                }
                // Everything downstream of a failure is blocked.
                for d in g.with_descendants(std::slice::from_ref(&name)) {
                    if d != name && index.contains_key(d.as_str()) && !reported.contains(&d) {
                        waiting.remove(d.as_str());
                        ready.remove(&index[d.as_str()]);
                    }
                }
            } else {
                for d in &g.downstream[&name] {
                    if let Some(n) = waiting.get_mut(d.as_str()) {
                        *n -= 1;
                        if *n == 0 {
                            waiting.remove(d.as_str());
                            ready.insert(index[d.as_str()]);
                        }
                    }
                }
            }
        }
        drop(job_tx);
        Ok(())
    })?;
    if journaled {
        lock.save(&repo.root).map_err(Error::Lock)?;
    }

    for name in selected {
        if !reported.contains(name) {
            let report = StageReport {
                stage: name.clone(),
                outcome: Outcome::NotRun,
                reasons: Vec::new(),
                duration_ms: 0,
                restored_from: None,
                failure: None,
                job: None,
                attempts: None,
            };
            on_event(Event::Finished(&report));
            res.reports.push(report);
        }
    }
    if cancel.is_cancelled() && res.exit_code == 0 {
        res.exit_code = exit::STAGE_FAILED;
    }
    Ok(res)
}

/// The reports of the stages [`run`] can skip before it starts: in topological order, each
/// fresh (not forced, not frozen) with every selected upstream among them. Evaluated level by
/// level, in parallel within a level, so nothing downstream of a dirty stage is hashed twice.
fn settle_fresh(
    repo: &Repo,
    opts: &ReproOptions,
    selected: &[String],
    index: &BTreeMap<&str, usize>,
    lock: &Lockfile,
    params: &BTreeMap<String, StageParams>,
) -> Vec<StageReport> {
    use rayon::prelude::*;
    if opts.force {
        return Vec::new();
    }
    let g = &repo.pipeline.graph;
    let upstream = |i: usize| {
        g.upstream[&selected[i]]
            .iter()
            .filter_map(|u| index.get(u.as_str()).copied())
    };
    // `selected` is in topological order: a stage's level is one more than its upstreams'.
    let mut level = vec![0usize; selected.len()];
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for i in 0..selected.len() {
        level[i] = upstream(i).map(|u| level[u] + 1).max().unwrap_or(0);
        if levels.len() <= level[i] {
            levels.resize(level[i] + 1, Vec::new());
        }
        levels[level[i]].push(i);
    }
    let mut settled: Vec<Option<u64>> = vec![None; selected.len()];
    for members in levels {
        let candidates: Vec<usize> = members
            .into_iter()
            .filter(|&i| upstream(i).all(|u| settled[u].is_some()))
            .collect();
        let fresh: Vec<(usize, Option<u64>)> = candidates
            .par_iter()
            .map(|&i| {
                let start = Instant::now();
                let name = &selected[i];
                let stage = &repo.pipeline.stages[name];
                let fresh = lock
                    .stages
                    .get(name)
                    .filter(|_| !stage.frozen)
                    .and_then(|e| {
                        evaluate(repo, stage, Some(e), &params[name].flat)
                            .ok()
                            .filter(|ev| ev.is_fresh())
                    });
                (i, fresh.map(|_| start.elapsed().as_millis() as u64))
            })
            .collect();
        for (i, ms) in fresh {
            settled[i] = ms;
        }
    }
    settled
        .into_iter()
        .enumerate()
        .filter_map(|(i, ms)| {
            ms.map(|duration_ms| StageReport::skipped(selected[i].clone(), duration_ms))
        })
        .collect()
}

fn failed(stage: &Stage, reasons: Vec<DirtyReason>, start: Instant, f: StageFailure) -> Done {
    Done {
        report: StageReport {
            stage: stage.name.clone(),
            outcome: Outcome::Failed,
            reasons,
            duration_ms: start.elapsed().as_millis() as u64,
            restored_from: None,
            failure: Some(f),
            job: None,
            attempts: None,
        },
        entry: None,
    }
}

fn finished(
    stage: &Stage,
    outcome: Outcome,
    reasons: Vec<DirtyReason>,
    start: Instant,
    entry: Option<LockEntry>,
) -> Done {
    Done {
        report: StageReport {
            stage: stage.name.clone(),
            outcome,
            reasons,
            duration_ms: start.elapsed().as_millis() as u64,
            restored_from: None,
            failure: None,
            job: None,
            attempts: None,
        },
        entry,
    }
}

fn restored(
    stage: &Stage,
    from: RestoreSource,
    reasons: Vec<DirtyReason>,
    start: Instant,
    entry: LockEntry,
) -> Done {
    let mut done = finished(stage, Outcome::Restored, reasons, start, Some(entry));
    done.report.restored_from = Some(from);
    done
}

/// Decide one stage and, if dirty, restore or run it. Runs on a worker thread.
#[allow(clippy::too_many_arguments)]
fn process(
    repo: &Repo,
    opts: &ReproOptions,
    execs: &crate::exec::Executors,
    stage: &Stage,
    entry: Option<&LockEntry>,
    params: &StageParams,
    cancel: &Cancel,
    on_event: EventSink<'_>,
) -> Done {
    let start = Instant::now();
    let ev = match evaluate(repo, stage, entry, &params.flat) {
        Ok(ev) => ev,
        Err(e) => {
            return failed(
                stage,
                Vec::new(),
                start,
                StageFailure {
                    hint: e.hint(),
                    ..StageFailure::new(FailureKind::Io, e.exit_code(), e.to_string())
                },
            )
        }
    };
    let mut reasons = ev.reasons;
    tracing::debug!(
        stage = %stage.name,
        elapsed_ms = start.elapsed().as_millis() as u64,
        "evaluated: {}",
        if reasons.is_empty() { "fresh".to_string() } else { crate::dirty_reason::join(&reasons) }
    );
    if stage.frozen {
        if let Some(DirtyReason::OutMissing { path }) = reasons.first() {
            let f = StageFailure::new(
                FailureKind::Invalid,
                exit::STAGE_FAILED,
                format!("it is frozen but its out `{path}` is missing"),
            )
            .with_hint(format!(
                "unfreeze it or run `netsec checkout {}`",
                stage.name
            ));
            return failed(stage, reasons, start, f);
        }
        return finished(stage, Outcome::Frozen, reasons, start, None);
    }
    if opts.force {
        reasons.insert(0, DirtyReason::Forced);
    }
    if reasons.is_empty() {
        return finished(stage, Outcome::Skipped, reasons, start, None);
    }
    let Some(fp) = ev.fingerprint else {
        let f = StageFailure::new(
            FailureKind::Invalid,
            exit::STAGE_FAILED,
            format!(
                "cannot run, dep {} missing",
                crate::status::missing_deps(&reasons)
            ),
        )
        .with_hint("create it, or run the stage that produces it");
        return failed(stage, reasons, start, f);
    };
    let cacheable = stage.run_cacheable() && !opts.force && !opts.no_run_cache;
    // Another process sharing this cache (an experiment) may be computing this very
    // fingerprint: wait for it, then find its entry below (see `run_lock`). Held until the
    // stage is recorded.
    let _run_lock = cacheable
        .then(|| crate::run_lock::RunLock::acquire(repo, &fp.key()))
        .flatten();
    if cacheable {
        if let Some(run) = run_cache::lookup(repo, &fp) {
            let restored_all = run.restore(repo).map_err(|e| {
                tracing::warn!(
                    "run-cache restore for `{}` failed: {e}; running the stage",
                    stage.name
                );
            });
            if restored_all.is_ok() {
                tracing::info!(stage = %stage.name, key = %fp.key(), "restored from the run-cache");
                let entry = LockEntry {
                    fingerprint: fp,
                    outs: run.outs,
                };
                return restored(stage, RestoreSource::RunCache, reasons, start, entry);
            }
        }
    }
    if let Some(named) = opts.remote.as_ref().filter(|_| !opts.force) {
        if let Some(outs) = restore_from_remote(repo, named, stage, entry, &fp, cacheable, on_event)
        {
            let entry = LockEntry {
                fingerprint: fp,
                outs,
            };
            return restored(stage, RestoreSource::Remote, reasons, start, entry);
        }
    }
    // A stage deletes its outs before it runs. A file that is already there but that netsec
    // never produced (no lock entry, never claimed, no cache object holds it) is someone's
    // data: refuse instead of deleting it (see `claims.rs`). `cache = false` outs are kept in
    // git (metrics), so deleting the lock and rerunning stays possible.
    if entry.is_none() {
        let claimed = crate::claims::claimed(repo, &stage.name);
        for o in stage
            .outs
            .iter()
            .filter(|o| o.cache && !o.persist && !claimed.contains(&o.path))
        {
            if let Ok(false) = crate::checkout::recoverable(repo, &o.path) {
                let f = StageFailure::new(
                    FailureKind::Invalid,
                    exit::STAGE_FAILED,
                    format!(
                        "its out `{}` already exists and was not produced by netsec; running the stage would delete it",
                        o.path
                    ),
                )
                .with_hint(format!(
                    "to track a data file use `netsec add {}`; if the stage should recreate it, move the file away first",
                    o.path
                ));
                return failed(stage, reasons, start, f);
            }
        }
        let outs: BTreeSet<_> = stage.outs.iter().map(|o| o.path.clone()).collect();
        if claimed != outs {
            if let Err(e) = crate::claims::claim(repo, &stage.name, &outs) {
                tracing::debug!("cannot record the outs of `{}`: {e}", stage.name);
            }
        }
    }
    on_event(Event::Started {
        stage: &stage.name,
        reasons: &reasons,
    });
    let progress = |s: &str, m: &str| {
        on_event(Event::Progress {
            stage: s,
            message: m,
        })
    };
    let exec = match execs.for_stage(stage) {
        Ok(e) => e,
        Err(f) => return failed(stage, reasons, start, f),
    };
    let say = |m: &str| progress(&stage.name, m);
    let req = crate::exec::Request {
        repo,
        stage,
        params: &params.nested,
        fingerprint: &fp,
        cancel,
        say: &say,
        progress: &progress,
    };
    let ran = crate::exec::run_with_retries(exec, &req);
    let mut done = match ran.result {
        Err(f) => failed(stage, reasons, start, f),
        Ok(()) => match crate::commit::commit_outs(repo, stage, &fp, cacheable) {
            Ok(entry) => finished(stage, Outcome::Ran, reasons, start, Some(entry)),
            Err(f) => failed(stage, reasons, start, f),
        },
    };
    done.report.job = ran.job;
    done.report.attempts = (ran.attempts > 1).then_some(ran.attempts);
    done
}

/// `repro --pull`: the stage's outs from the remote, restored in the workspace, or `None`
/// (then the stage runs). Remote failures are warnings: running the stage is always an option.
fn restore_from_remote(
    repo: &Repo,
    named: &crate::remote::Named,
    stage: &Stage,
    entry: Option<&LockEntry>,
    fp: &crate::fingerprint::Fingerprint,
    cacheable: bool,
    on_event: EventSink<'_>,
) -> Option<BTreeMap<crate::repo_path::RepoPath, crate::lock::OutRecord>> {
    use crate::remote::pull_run;
    let say = |m: &str| {
        on_event(Event::Progress {
            stage: &stage.name,
            message: m,
        })
    };
    let (run, how) = if let Some(e) =
        entry.filter(|e| e.fingerprint == *fp && e.outs.values().all(|r| r.cache))
    {
        // Same fingerprint as the lock: only outs are missing here.
        match pull_run::fetch_outs(repo, named, &e.outs) {
            Ok(()) => (run_cache::RunEntry::cached(e.outs.clone()), "outs fetched"),
            Err(err) => {
                tracing::warn!("stage `{}`: cannot fetch its outs: {err}", stage.name);
                return None;
            }
        }
    } else if cacheable {
        match pull_run::fetch_run(repo, named, fp) {
            Ok(Some(run)) => (run, "run-cache entry fetched"),
            Ok(None) => return None,
            Err(err) => {
                tracing::warn!(
                    "stage `{}`: remote run-cache lookup failed: {err}",
                    stage.name
                );
                return None;
            }
        }
    } else {
        return None;
    };
    if let Err(e) = run.restore(repo) {
        tracing::warn!(
            "restore for `{}` from remote `{}` failed: {e}; running the stage",
            stage.name,
            named.name
        );
        return None;
    }
    say(&format!("{how} from remote `{}`", named.name));
    Some(run.outs)
}
