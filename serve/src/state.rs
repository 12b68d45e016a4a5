//! `AppState`: what every handler shares — the configuration, the model slot, the tasks and
//! the `exp show` runner.

use std::sync::Arc;

use crate::config::ServeConfig;
use crate::experiments::ExpShow;
use crate::slot::ModelSlot;
use crate::tasks::{Tasks, TrainCommand};

/// Cheap to clone (all `Arc`s).
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub slot: Arc<ModelSlot>,
    pub tasks: Arc<Tasks>,
    pub experiments: Arc<ExpShow>,
}

impl AppState {
    /// Loads the bundle if present (blocking: call before the runtime serves, or from
    /// `spawn_blocking`).
    pub fn new(config: ServeConfig) -> AppState {
        let slot = Arc::new(ModelSlot::open(config.bundle_path()));
        let tasks = Arc::new(Tasks::new(
            TrainCommand {
                exe: config.exe.clone(),
                root: config.root.clone(),
                log_tail_lines: config.log_tail_lines.max(1),
            },
            config.max_tasks,
        ));
        let experiments = Arc::new(ExpShow::new(
            config.exe.clone(),
            config.root.clone(),
            config.exp_show_timeout,
            config.exp_show_max_bytes,
        ));
        AppState {
            config: Arc::new(config),
            slot,
            tasks,
            experiments,
        }
    }
}
