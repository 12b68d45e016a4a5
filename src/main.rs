//! `netsec`: the command-line front end. Parses arguments, opens the repository, runs one
//! command from `commands/`, and maps errors to the documented exit codes.

mod builtins;
mod commands;
mod memory;
mod output;
mod progress;
mod remotes;
mod render;
mod revision_files;
mod tracking;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A DVC-like pipeline orchestrator with a content-hashed artifact cache.
#[derive(Debug, Parser)]
#[command(name = "netsec", version, about)]
struct Cli {
    /// Run as if started in DIR (the repository is the nearest ancestor with pipeline.toml).
    #[arg(short = 'C', global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// More log output (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on stderr (`status -q`: no output at all, exit 1 when anything is stale).
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create pipeline.toml, .netsec/, .dvcignore and a .gitignore entry.
    Init(commands::init::Args),
    /// Run stale stages in dependency order, in parallel.
    Repro(commands::repro::Args),
    /// List every stale stage with all its reasons.
    Status(commands::status::Args),
    /// Show a stage's fingerprint diff against netsec.lock.
    Explain(commands::explain::Args),
    /// Print the stage graph (ASCII, Graphviz dot, Mermaid or JSON).
    Dag(commands::dag::Args),
    /// Track raw data no stage produces: cache it, record it in netsec.lock, git-ignore it.
    Add(commands::add::Args),
    /// Stop tracking data added with `netsec add` (the files stay).
    Remove(commands::add::RemoveArgs),
    /// Restore outs from the cache as recorded in netsec.lock.
    Checkout(commands::checkout::Args),
    /// Record the outs now in the workspace as stages' results, without running them.
    Commit(commands::commit::Args),
    /// Remove cache objects that no lock entry or run-cache entry references.
    Gc(commands::gc::Args),
    /// List the built-in stages this binary provides.
    Builtins,
    /// Predict a CSV with a promoted model bundle (e.g. final_model/).
    Predict(commands::predict::Args),
    /// Show the metric outs of the lock, or diff them against a git revision.
    Metrics(commands::metrics::Args),
    /// Draw the declared plots into one HTML page, or overlay them across git revisions.
    Plots(commands::plots::Args),
    /// Write artifacts/report/index.html: metrics, plots, drift, model card, timings.
    Report(commands::report::Args),
    /// Serve predictions, the web page and background training over HTTP.
    Serve(commands::serve::Args),
    /// MongoDB helpers: `db load` puts a CSV into a collection for `ingest.source = "mongodb"`.
    Db(commands::db::Args),
    /// Upload the cached outs of netsec.lock to a remote, then a timestamped snapshot.
    Push(commands::push::Args),
    /// Fetch from a remote, then check the outs out.
    Pull(commands::pull::PullArgs),
    /// Download the objects netsec.lock needs from a remote into the cache (verified).
    Fetch(commands::fetch::Args),
    /// The remotes declared in pipeline.toml.
    Remote(commands::remote::Args),
    /// The timestamped snapshots on a remote.
    Snapshots(commands::snapshots::Args),
    /// Run one stage for a coordinating `netsec repro` (a Slurm job); internal.
    #[command(name = "__run-stage", hide = true)]
    RunStage(commands::run_stage::Args),
    /// Experiments: run with changed params, queue sweeps, compare, apply.
    Exp(commands::exp::Args),
    /// The experiments queue: start, status, logs, kill.
    Queue(commands::queue::Args),
    /// Tracked param values that differ between the workspace and a revision, or two revisions.
    Params(commands::params::Args),
}

fn main() -> ExitCode {
    // `netsec __guard` (started by the first guarded spawn, see the engine's `exec/guard.rs`):
    // before anything else, the guard needs no arguments, logging or repository.
    use netsec_engine::exec::guard;
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == guard::SUBCOMMAND)
    {
        return guard::serve();
    }
    guard::enable();
    memory::init();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                netsec_engine::exit::USAGE
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    render::init_logging(cli.verbose, cli.quiet);
    let ui = render::Ui::new(cli.verbose, cli.quiet);
    // `--json` anywhere means machine-readable stdout: progress then goes to stderr as lines.
    let json = std::env::args_os().any(|a| a == "--json");
    progress::install(progress::Mode::detect(cli.quiet, json));
    let cwd = match &cli.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    let result = match cli.command {
        Command::Init(a) => commands::init::run(&ui, &cwd, a),
        Command::Repro(a) => commands::repro::run(&ui, &cwd, a),
        Command::Status(a) => commands::status::run(&ui, &cwd, a),
        Command::Explain(a) => commands::explain::run(&ui, &cwd, a),
        Command::Dag(a) => commands::dag::run(&ui, &cwd, a),
        Command::Add(a) => commands::add::run(&ui, &cwd, a),
        Command::Remove(a) => commands::add::run_remove(&ui, &cwd, a),
        Command::Checkout(a) => commands::checkout::run(&ui, &cwd, a),
        Command::Commit(a) => commands::commit::run(&ui, &cwd, a),
        Command::Gc(a) => commands::gc::run(&ui, &cwd, a),
        Command::Builtins => commands::builtins_cmd::run(&ui),
        Command::Predict(a) => commands::predict::run(&ui, &cwd, a),
        Command::Metrics(a) => commands::metrics::run(&ui, &cwd, a),
        Command::Plots(a) => commands::plots::run(&ui, &cwd, a),
        Command::Report(a) => commands::report::run(&ui, &cwd, a),
        Command::Serve(a) => commands::serve::run(&ui, &cwd, a),
        Command::Push(a) => commands::push::run(&ui, &cwd, a),
        Command::Pull(a) => commands::pull::run(&ui, &cwd, a),
        Command::Fetch(a) => commands::fetch::run(&ui, &cwd, a),
        Command::Remote(a) => commands::remote::run(&ui, &cwd, a),
        Command::Snapshots(a) => commands::snapshots::run(&ui, &cwd, a),
        Command::RunStage(a) => commands::run_stage::run(&ui, &cwd, a),
        Command::Exp(a) => commands::exp::run(&ui, &cwd, a),
        Command::Queue(a) => commands::queue::run(&ui, &cwd, a),
        Command::Params(a) => commands::params::run(&ui, &cwd, a),
        Command::Db(a) => commands::db::run(&ui, &cwd, a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            ui.error(&e);
            e.exit_code()
        }
    };
    ExitCode::from(output::exit_code(code) as u8)
}
