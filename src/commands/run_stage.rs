//! `netsec __run-stage STAGE` (hidden): run one stage as a batch job or child process asked by
//! a coordinating `netsec repro` (see netsec_engine::exec::job). No repository lock: the
//! coordinator holds it and alone records the outs.

use std::path::Path;

use netsec_engine::{Cancel, Error};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stage the coordinator wrote a job spec for.
    stage: String,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let cancel = Cancel::new();
    // scancel (SIGTERM) reaches the stage's command group through this handler.
    if let Err(e) = cancel.install_signal_handler() {
        tracing::warn!("cannot install signal handlers: {e}");
    }
    Ok(netsec_engine::exec::job::run(&repo, &args.stage, &cancel))
}
