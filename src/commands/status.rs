//! `netsec status`: every stale stage with all its reasons, on stdout. `netsec status -q` prints
//! nothing and answers with its exit code (DVC's contract): 0 up to date, 1 anything stale.

use std::path::Path;

use netsec_engine::status::status;
use netsec_engine::Error;
use netsec_protocol::{SourceState, StageState, StatusJson};

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
    // Never freed: the process exits right after, and freeing 10,000 stages' structures one by
    // one is a tenth of a no-op `status` (the OS takes the pages back at once).
    let repo = std::mem::ManuallyDrop::new(super::open(ui, cwd)?);
    let names = repo.resolve_stage_names(&args.stages)?;
    let lock = repo.load_lock()?;
    let only = (!names.is_empty()).then_some(names.as_slice());
    let stages = status(&repo, &lock, only)?;
    let sources = if only.is_none() {
        netsec_engine::add::sources_status(&repo, &lock)?
    } else {
        Vec::new()
    };
    repo.save_memo();
    let up_to_date = stages.iter().all(|s| s.reasons.is_empty())
        && sources.iter().all(|s| s.state == SourceState::Fresh);
    // `-q` (global: only errors on stderr) also silences stdout here, and the exit code says
    // whether anything is stale; `--json -q` still prints the object it was asked for.
    let code = if ui.quiet && !up_to_date { STALE } else { 0 };
    if args.json {
        crate::output::json_line(&StatusJson {
            up_to_date,
            stages,
            sources,
        });
        return Ok(code);
    }
    if ui.quiet {
        return Ok(code);
    }
    for s in &stages {
        let reasons = netsec_engine::dirty_reason::join(&s.reasons);
        match (s.status, s.reasons.is_empty()) {
            (StageState::Dirty, _) => crate::outln!("Dirty `{}`: {reasons}", s.stage),
            (StageState::Frozen, false) => crate::outln!("Frozen `{}`: {reasons}", s.stage),
            (StageState::Frozen, true) if ui.verbose > 0 => crate::outln!("Frozen `{}`", s.stage),
            (StageState::Fresh, _) if ui.verbose > 0 => crate::outln!("Fresh `{}`", s.stage),
            _ => {}
        }
        // `-v`: each stage's command as it runs (`${…}` resolved).
        if ui.verbose > 0 {
            let action = repo.pipeline.stage(&s.stage).map(|st| &st.action);
            if let Some(netsec_engine::pipeline::Action::Command(cmds)) = action {
                for c in cmds {
                    crate::outln!("    $ {c}");
                }
            }
        }
    }
    for s in &sources {
        match s.state {
            SourceState::Modified => crate::outln!(
                "Modified data `{}`: changed since `netsec add` (run it again to record this version)",
                s.path
            ),
            SourceState::Missing => crate::outln!(
                "Missing data `{}`: `netsec checkout` restores it",
                s.path
            ),
            SourceState::Fresh if ui.verbose > 0 => crate::outln!("Fresh data `{}`", s.path),
            SourceState::Fresh => {}
        }
    }
    if up_to_date {
        crate::outln!("Pipeline is up to date.");
    }
    if ui.verbose > 0 {
        for (s, job) in stages.iter().filter_map(|s| Some((s, s.job.as_ref()?))) {
            crate::outln!(
                "Job of `{}`: Slurm job {} ({}), {}{}",
                s.stage,
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
    }
    Ok(0)
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
