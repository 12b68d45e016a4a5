//! `netsec queue start|status|logs|kill`: the experiments queue (see `netsec exp run --queue`).

use std::path::Path;

use netsec_engine::exp::{queue, runner, ExpStatus, Store};
use netsec_engine::{find_root, Error};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Run the queued experiments (as `netsec exp run --run-all`).
    Start {
        /// Experiments at a time.
        #[arg(short, long, value_name = "N", default_value_t = 1)]
        jobs: usize,
        /// The executor each experiment's `repro` uses (`local`, `slurm`).
        #[arg(long, value_name = "NAME")]
        executor: Option<String>,
    },
    /// Every experiment of the queue with its status.
    Status,
    /// The output of an experiment's run (`repro`'s stderr and its commands').
    Logs {
        name: String,
        /// Only the last N lines.
        #[arg(short = 'n', long, value_name = "N")]
        tail: Option<usize>,
    },
    /// Stop a running experiment (it is recorded `failed`), or drop a queued one.
    Kill { names: Vec<String> },
}

fn store(cwd: &Path) -> Result<Store, Error> {
    let root = find_root(cwd)?;
    Ok(Store::new(&root.join(netsec_engine::workspace::DOT_DIR)))
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    match args.action {
        Action::Start { jobs, executor } => {
            super::exp::run_queue(ui, cwd, jobs, executor.as_deref())
        }
        Action::Status => {
            let store = store(cwd)?;
            let alive = queue::runner_alive(&store);
            let (recs, warnings) = store.list();
            for w in warnings {
                ui.warn(&w);
            }
            let recs: Vec<_> = recs.into_iter().filter(|r| !r.in_workspace).collect();
            if recs.is_empty() {
                crate::outln!("No queued experiment.");
                return Ok(0);
            }
            crate::outln!(
                "{:<24} {:<8} {:>9}  message",
                "experiment",
                "status",
                "duration"
            );
            for r in &recs {
                let d = r
                    .duration_ms()
                    .map_or("-".into(), |d| format!("{:.1}s", d as f64 / 1000.0));
                crate::outln!(
                    "{:<24} {:<8} {:>9}  {}",
                    r.name,
                    queue::effective(r, alive).as_str(),
                    d,
                    r.message.as_deref().unwrap_or("")
                );
            }
            crate::outln!(
                "{}",
                if alive {
                    "A runner is working on the queue."
                } else {
                    "No runner is working on the queue."
                }
            );
            Ok(0)
        }
        Action::Logs { name, tail } => {
            let store = store(cwd)?;
            store.load(&name)?;
            let path = store.log_path(&name);
            let text = match netsec_common::read_regular(&path, Some(1 << 30)) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) if e.is_not_found() => {
                    ui.warn(&format!(
                        "experiment `{name}` has no log yet (it has not run)"
                    ));
                    return Ok(0);
                }
                Err(e) => {
                    return Err(Error::io(
                        "read",
                        &path,
                        std::io::Error::other(e.to_string()),
                    ))
                }
            };
            let lines: Vec<&str> = text.lines().collect();
            let from = tail.map_or(0, |n| lines.len().saturating_sub(n));
            for l in &lines[from..] {
                crate::outln!("{l}");
            }
            Ok(0)
        }
        Action::Kill { names } => {
            let store = store(cwd)?;
            let alive = queue::runner_alive(&store);
            for name in &names {
                let mut rec = store.load(name)?;
                match queue::effective(&rec, alive) {
                    ExpStatus::Running => {
                        let _ = std::fs::create_dir_all(store.dir.join("logs"));
                        std::fs::write(runner::killed_marker(&store, name), b"").map_err(|e| {
                            Error::io("write", runner::killed_marker(&store, name), e)
                        })?;
                        if let Some(pg) = rec.pgid.and_then(rustix_pid) {
                            netsec_engine::cancel::terminate_group(pg);
                        }
                        ui.status("Killed", "33", &format!("`{name}`"));
                    }
                    ExpStatus::Queued => {
                        rec.status = ExpStatus::Failed;
                        rec.pgid = None;
                        rec.message = Some("killed before it ran (`netsec queue kill`)".into());
                        store.save(&rec)?;
                        ui.status("Killed", "33", &format!("`{name}` (it had not started)"));
                    }
                    s => ui.warn(&format!(
                        "experiment `{name}` is not running ({})",
                        s.as_str()
                    )),
                }
            }
            Ok(0)
        }
    }
}

fn rustix_pid(pg: i32) -> Option<i32> {
    (pg > 1).then_some(pg)
}
