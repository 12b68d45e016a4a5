//! `AppState`: what every handler shares — the configuration, the model slot and the tasks.

use std::sync::Arc;

use crate::config::ServeConfig;
use crate::slot::ModelSlot;
use crate::tasks::{Tasks, TrainCommand};

/// Cheap to clone (all `Arc`s).
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub slot: Arc<ModelSlot>,
    pub tasks: Arc<Tasks>,
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
        AppState {
            config: Arc::new(config),
            slot,
            tasks,
        }
    }
}
