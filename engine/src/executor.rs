//! `repro`: evaluate and run the selected stages in dependency order on N workers.
//!
//! A stage is *decided* only when all its selected upstreams have finished, by hashing its deps
//! as they are then. That is early cut-off: an upstream that rewrote byte-identical outs leaves
//! its downstream fresh. Lock entries are journaled one stage at a time, by the worker that ran
//! the stage under the schedule's lock, after its outs are in place, hashed and cached; the lock
//! is written at the end. Workers schedule for themselves (see [`Sched`]): no thread in between.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
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

/// The run's schedule, shared by the workers under one lock.
struct Sched<'a> {
    /// Stages whose selected upstreams have all finished, by position in the topological order.
    ready: BTreeSet<usize>,
    /// The other undecided stages, with how many selected upstreams they still wait for.
    waiting: BTreeMap<&'a str, usize>,
    reported: BTreeSet<String>,
    res: ReproResult,
    lock: &'a mut Lockfile,
    /// Opened with the first finished stage, so a no-op run leaves none.
    journal: Option<Journal>,
    journaled: bool,
    /// Stages being run, and the `-j` slots they take.
    running: usize,
    used: usize,
    /// Workers waiting for a stage to become ready or to end.
    idle: usize,
}

/// What recording a finished stage needs besides the schedule.
struct Finish<'a> {
    repo: &'a Repo,
    opts: &'a ReproOptions,
    index: &'a BTreeMap<&'a str, usize>,
    stopping: &'a AtomicBool,
    on_event: EventSink<'a>,
}

impl Finish<'_> {
    /// A stage ended: journal its lock entry, report it, and make ready what waited for it (or
    /// block everything downstream of a failure).
    fn record(&self, s: &mut Sched<'_>, mut done: Done) {
        let repo = self.repo;
        if let Some(entry) = done.entry.take() {
            let recorded = match s.journal.as_mut() {
                Some(j) => j.append(&done.report.stage, &entry),
                None => Journal::open(&repo.root)
                    .and_then(|j| s.journal.insert(j).append(&done.report.stage, &entry)),
            };
            match recorded {
                Ok(()) => {
                    s.lock.stages.insert(done.report.stage.clone(), entry);
                    s.journaled = true;
                }
                Err(e) => {
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
        }
        (self.on_event)(Event::Finished(&done.report));
        let name = done.report.stage.clone();
        let failed = done.report.outcome == Outcome::Failed;
        if let Some(f) = &done.report.failure {
            if s.res.exit_code == 0 {
                s.res.exit_code = f.exit_code;
            }
        }
        s.res.reports.push(done.report);
        let g = &repo.pipeline.graph;
        if failed {
            if !self.opts.keep_going {
                self.stopping.store(true, Ordering::SeqCst);
            }
            // Everything downstream of a failure is blocked.
            for d in g.with_descendants(std::slice::from_ref(&name)) {
                if d != name && !s.reported.contains(&d) {
                    if let Some(i) = self.index.get(d.as_str()) {
                        s.waiting.remove(d.as_str());
                        s.ready.remove(i);
                    }
                }
            }
        } else {
            for d in &g.downstream[&name] {
                if let Some(n) = s.waiting.get_mut(d.as_str()) {
                    *n -= 1;
                    if *n == 0 {
                        s.waiting.remove(d.as_str());
                        s.ready.insert(self.index[d.as_str()]);
                    }
                }
            }
        }
        s.reported.insert(name);
    }
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
    if opts.dry_run {
        let result = dry_run(repo, opts, &selected, &lock, &params, on_event);
        repo.running.close();
        repo.save_memo();
        return result;
    }
    let ran = run(repo, opts, &selected, &mut lock, &params, cancel, on_event);
    // Every command has ended: this process's log of running commands goes (see `orphans`).
    repo.running.close();
    let (mut result, journaled) = match ran {
        Ok((r, journaled)) => (Ok(r), journaled),
        Err(e) => (Err(e), false),
    };
    let pruned = matches!(&result, Ok(r) if r.exit_code == 0) && prune_orphans(repo, &mut lock);
    // The lock is written (when a stage was journaled or an entry pruned) while the
    // `.gitignore` files and the memo are brought up to date: none of the three reads what
    // another writes, and at 10,000 stages each takes tens of milliseconds.
    let saved = std::thread::scope(|s| {
        let saver = (journaled || pruned).then(|| s.spawn(|| lock.save(&repo.root)));
        crate::gitignore::sync_recorded(repo, &lock);
        repo.save_memo();
        match saver.map(|h| h.join()) {
            None => Ok(()),
            Some(Ok(saved)) => saved,
            Some(Err(_)) => Err(crate::lock::LockError::Write {
                path: Lockfile::path(&repo.root),
                source: std::io::Error::other("the thread writing the lock failed"),
            }),
        }
    });
    if let Err(e) = saved {
        result = Err(Error::Lock(e));
    }
    drop_aside(lock);
    result
}

/// Free a large lock on a thread of its own: tearing down 10,000 entries takes longer than
/// anything left to do before the process exits, which need not wait for it.
fn drop_aside(lock: Lockfile) {
    if lock.stages.len() >= 1_000 {
        // Should the thread not start, the closure is dropped here, and the lock with it.
        let _ = std::thread::Builder::new()
            .name("netsec-free".into())
            .spawn(move || drop(lock));
    }
}

/// After a successful run, drop the lock entries of stages the pipeline no longer declares
/// (a renamed or removed stage): they are never restored, and would otherwise stay forever.
/// Their results stay reachable: each cacheable entry is recorded in the run-cache first.
/// Returns whether any entry was dropped (the caller then writes the lock).
pub fn prune_orphans(repo: &Repo, lock: &mut Lockfile) -> bool {
    let orphans: Vec<String> = lock
        .stages
        .keys()
        .filter(|k| !repo.pipeline.stages.contains_key(*k))
        .cloned()
        .collect();
    if orphans.is_empty() {
        return false;
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
    true
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
) -> Result<(ReproResult, bool), Error> {
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
    let ready: BTreeSet<usize> = waiting
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
    let slots = |i: usize| execs.slots(&repo.pipeline.stages[&selected[i]], jobs);
    let sched = Mutex::new(Sched {
        ready,
        waiting,
        reported,
        res,
        lock,
        journal: None,
        journaled: false,
        running: 0,
        used: 0,
        idle: 0,
    });
    let wake = Condvar::new();
    // The run stops (a failure without `-k`): nothing more starts. Set by the worker whose
    // stage failed, at once, before it reports.
    let stopping = AtomicBool::new(false);
    let finish = Finish {
        repo,
        opts,
        index: &index,
        stopping: &stopping,
        on_event,
    };
    // Each worker schedules for itself: it records the stage it ran and takes the next ready
    // one in the same turn of the lock, so no thread in between is woken twice per stage.
    let worker = || {
        let mut s = sched.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let go = !stopping.load(Ordering::SeqCst) && !cancel.is_cancelled();
            let pick = s
                .ready
                .first()
                .copied()
                .filter(|_| go)
                .map(|i| (i, slots(i)))
                .filter(|&(_, need)| s.running == 0 || s.used + need <= jobs);
            let Some((i, need)) = pick else {
                if s.running == 0 {
                    // Nothing runs and nothing can start: the run is over for every worker.
                    wake.notify_all();
                    return;
                }
                s.idle += 1;
                s = wake.wait(s).unwrap_or_else(PoisonError::into_inner);
                s.idle -= 1;
                continue;
            };
            s.ready.remove(&i);
            s.running += 1;
            s.used += need;
            let name = &selected[i];
            let entry = s.lock.stages.get(name).cloned();
            drop(s);
            let done = process(
                repo,
                opts,
                execs,
                &repo.pipeline.stages[name],
                entry.as_ref(),
                &params[name],
                cancel,
                on_event,
            );
            if done.report.outcome == Outcome::Failed && !opts.keep_going {
                stopping.store(true, Ordering::SeqCst);
            }
            s = sched.lock().unwrap_or_else(PoisonError::into_inner);
            s.running -= 1;
            s.used = s.used.saturating_sub(need);
            finish.record(&mut s, done);
            if s.idle > 0 {
                wake.notify_all();
            }
        }
    };
    let workers = jobs.min(selected.len()).max(1);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(worker);
        }
    });
    let Sched {
        reported,
        mut res,
        journaled,
        ..
    } = sched.into_inner().unwrap_or_else(PoisonError::into_inner);

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
    // The lock is written by the caller when `journaled`.
    Ok((res, journaled))
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
    // The run-cache key, computed once for the lock, the lookup and the record.
    let key = cacheable.then(|| fp.key());
    // Another process sharing this cache (an experiment) may be computing this very
    // fingerprint: wait for it, then find its entry below (see `run_lock`). Held until the
    // stage is recorded.
    let _run_lock = key
        .as_ref()
        .and_then(|k| crate::run_lock::RunLock::acquire(repo, k));
    if let Some(key) = &key {
        if let Some(run) = run_cache::lookup_keyed(repo, &fp, key) {
            let restored_all = run.restore(repo).map_err(|e| {
                tracing::warn!(
                    "run-cache restore for `{}` failed: {e}; running the stage",
                    stage.name
                );
            });
            if restored_all.is_ok() {
                tracing::info!(stage = %stage.name, key = %key, "restored from the run-cache");
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
        Ok(()) => match crate::commit::commit_outs(repo, stage, &fp, key.as_ref()) {
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
