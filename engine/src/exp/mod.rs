//! Experiments (`netsec exp`, `netsec queue`): a run of the pipeline with some params changed,
//! recorded with its whole lock so it can be compared, applied or branched without a rerun.
//! Queued experiments run in isolated workspaces that share the repository's cache.

pub mod apply;
pub mod branch;
pub mod names;
pub mod queue;
pub mod record;
pub mod runner;
pub mod share;
pub mod sweep;
pub mod workspace;

pub use record::{ExpRecord, ExpStatus, Store};
