//! One file per subcommand: clap `Args` plus a short `run` calling the engine.

pub mod add;
pub mod builtins_cmd;
pub mod checkout;
pub mod commit;
pub mod dag;
pub mod db;
pub mod exp;
pub mod exp_share;
pub mod exp_show;
pub mod explain;
pub mod fetch;
pub mod gc;
pub mod init;
pub mod metrics;
pub mod params;
pub mod plots;
pub mod predict;
pub mod pull;
pub mod push;
pub mod queue;
pub mod remote;
pub mod report;
pub mod repro;
pub mod run_stage;
pub mod serve;
pub mod snapshots;
pub mod status;

use std::path::Path;

use netsec_engine::{find_root, Error, Repo};

use crate::render::Ui;

/// What this binary adds to the engine: built-in stages, remote backends, config tables.
pub fn extensions() -> netsec_engine::Extensions {
    netsec_engine::Extensions {
        builtins: crate::builtins::registry(),
        remotes: crate::remotes::backends(),
        tables: [
            (
                "tracking",
                (|v: &toml::Value| {
                    netsec_tracking::TrackingConfig::check_table(v)
                        .map_err(netsec_engine::extensions::TableError::from)
                }) as netsec_engine::extensions::TableCheck,
            ),
            (
                "plots",
                plots::check_table as netsec_engine::extensions::TableCheck,
            ),
        ]
        .into(),
    }
}

/// Find and open the repository around `cwd`, printing pipeline warnings.
pub fn open(ui: &Ui, cwd: &Path) -> Result<Repo, Error> {
    open_noting_warnings(ui, cwd).map(|(repo, _)| repo)
}

/// [`open`], and whether pipeline.toml loaded without a warning (only such a pipeline is
/// sealed fresh: the shortcut would not repeat its warnings).
pub fn open_noting_warnings(ui: &Ui, cwd: &Path) -> Result<(Repo, bool), Error> {
    let root = find_root(cwd)?;
    let env = std::env::vars().collect();
    let (repo, warnings) = Repo::open(&root, extensions(), env)?;
    let clean = warnings.is_empty();
    for w in warnings {
        match &w.location {
            Some(l) => ui.warn(&format!("{l}: {}", w.message)),
            None => ui.warn(&format!("pipeline.toml: {}", w.message)),
        }
    }
    Ok((repo, clean))
}
