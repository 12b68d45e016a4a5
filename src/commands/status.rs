//! `netsec status`: every stale stage with all its reasons, on stdout. `netsec status -q` prints
//! nothing and answers with its exit code (DVC's contract): 0 up to date, 1 anything stale.

use std::path::Path;

use netsec_engine::status::status;
use netsec_engine::Error;
use netsec_protocol::repro::JobInfo;
use netsec_protocol::{SourceState, SourceStatus, StageState, StageStatus, StatusJson};

use crate::render::Ui;

/// `status -q` exit code when a stage is stale (errors keep their own codes: 2, 3, 5, …).
const STALE: i32 = 1;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these stages.
    stages: Vec<String>,
    /// One JSON object on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    // Everything fresh when last evaluated and no file since changed: answered from stamps.
    if args.stages.is_empty() && ui.verbose == 0 {
        let root = netsec_engine::find_root(cwd)?;
        if let Some(sealed) = netsec_engine::fresh_seal::check(&root, false) {
            let stages = sealed
                .stages
                .into_iter()
                .map(|stage| StageStatus {
                    stage,
                    status: StageState::Fresh,
                    reasons: Vec::new(),
                    job: None,
                })
                .collect();
            let sources = sealed
                .sources
                .into_iter()
                .map(|path| SourceStatus {
                    path,
                    state: SourceState::Fresh,
                })
                .collect();
            return Ok(print(ui, args.json, stages, sources, None));
        }
    }
    // Never freed: the process exits right after, and freeing 10,000 stages' structures one by
    // one is a tenth of a no-op `status` (the OS takes the pages back at once).
    let (repo, clean) = super::open_noting_warnings(ui, cwd)?;
    let repo = std::mem::ManuallyDrop::new(repo);
    let names = repo.resolve_stage_names(&args.stages)?;
    let only = (!names.is_empty()).then_some(names.as_slice());
    // Stamped before the lock is taken: a lock committed in between shows as a newer stamp.
    let seal = (only.is_none() && clean)
        .then(|| netsec_engine::fresh_seal::Pending::collect(&repo))
        .flatten();
    let lock = repo.load_lock()?;
    let stages = status(&repo, &lock, only)?;
    let sources = if only.is_none() {
        netsec_engine::add::sources_status(&repo, &lock)?
    } else {
        Vec::new()
    };
    repo.save_memo();
    if let Some(seal) = seal {
        if stages
            .iter()
            .all(|s| s.status == StageState::Fresh && s.reasons.is_empty())
            && sources.iter().all(|s| s.state == SourceState::Fresh)
        {
            let order: Vec<String> = stages.iter().map(|s| s.stage.clone()).collect();
            seal.commit(&repo, &lock, &order, false);
        }
    }
    let verbose = (ui.verbose > 0).then_some(&*repo);
    let jobs: Vec<(String, JobInfo)> = match verbose {
        Some(_) => stages
            .iter()
            .filter_map(|s| Some((s.stage.clone(), s.job.clone()?)))
            .collect(),
        None => Vec::new(),
    };
    let code = print(ui, args.json, stages, sources, verbose);
    if args.json || ui.quiet || verbose.is_none() {
        return Ok(code);
    }
    for (stage, job) in &jobs {
        crate::outln!(
            "Job of `{stage}`: Slurm job {} ({}), {}{}",
            job.id,
            job.name,
            job.state,
            job.node
                .as_deref()
                .map(|n| format!(" on {n}"))
                .unwrap_or_default()
        );
    }
    print_timings(&repo.root);
    Ok(code)
}

/// The answer on stdout, and the exit code (`-q`: 1 when anything is stale). `verbose`: the
/// repository whose stages' commands `-v` lists under each stage.
fn print(
    ui: &Ui,
    json: bool,
    stages: Vec<StageStatus>,
    sources: Vec<SourceStatus>,
    verbose: Option<&netsec_engine::Repo>,
) -> i32 {
    let up_to_date = stages.iter().all(|s| s.reasons.is_empty())
        && sources.iter().all(|s| s.state == SourceState::Fresh);
    // `-q` (global: only errors on stderr) also silences stdout here, and the exit code says
    // whether anything is stale; `--json -q` still prints the object it was asked for.
    let code = if ui.quiet && !up_to_date { STALE } else { 0 };
    if json {
        crate::output::json_line(&StatusJson {
            up_to_date,
            stages,
            sources,
        });
        return code;
    }
    if ui.quiet {
        return code;
    }
    let mut text = String::new();
    for s in &stages {
        let reasons = netsec_engine::dirty_reason::join(&s.reasons);
        match (s.status, s.reasons.is_empty()) {
            (StageState::Dirty, _) => text.push_str(&format!("Dirty `{}`: {reasons}\n", s.stage)),
            (StageState::Frozen, false) => {
                text.push_str(&format!("Frozen `{}`: {reasons}\n", s.stage));
            }
            (StageState::Frozen, true) if ui.verbose > 0 => {
                text.push_str(&format!("Frozen `{}`\n", s.stage));
            }
            (StageState::Fresh, _) if ui.verbose > 0 => {
                text.push_str(&format!("Fresh `{}`\n", s.stage));
            }
            _ => {}
        }
        // `-v`: each stage's command as it runs (`${…}` resolved).
        let action = verbose
            .and_then(|r| r.pipeline.stage(&s.stage))
            .map(|st| &st.action);
        if let Some(netsec_engine::pipeline::Action::Command(cmds)) = action {
            for c in cmds {
                text.push_str(&format!("    $ {c}\n"));
            }
        }
    }
    for s in &sources {
        match s.state {
            SourceState::Modified => text.push_str(&format!(
                "Modified data `{}`: changed since `netsec add` (run it again to record this version)\n",
                s.path
            )),
            SourceState::Missing => text.push_str(&format!(
                "Missing data `{}`: `netsec checkout` restores it\n",
                s.path
            )),
            SourceState::Fresh if ui.verbose > 0 => {
                text.push_str(&format!("Fresh data `{}`\n", s.path));
            }
            SourceState::Fresh => {}
        }
    }
    if up_to_date {
        text.push_str("Pipeline is up to date.\n");
    }
    crate::out!("{text}");
    code
}

/// `-v`: the stage durations of the last repro (`.netsec/state/timings.json`).
fn print_timings(root: &Path) {
    match netsec_tracking::Timings::load(root) {
        Ok(Some(t)) => {
            crate::outln!("Last repro ({}):", t.finished_at);
            for s in &t.stages {
                crate::outln!(
                    "  {:<20} {:<9} {:>9}",
                    s.stage,
                    s.outcome,
                    netsec_tracking::human_ms(s.duration_ms)
                );
            }
        }
        Ok(None) => crate::outln!("No repro timings recorded yet."),
        Err(e) => crate::errln!("warning: {e}"),
    }
}
