//! netsec's machine-readable output, defined once. Every `--json` payload the binary prints is
//! one of these types; `netsec serve`'s task runner and the integration tests parse the same
//! types back, so a field renamed here is renamed everywhere or fails to compile.

#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

pub mod checkout;
pub mod commit;
pub mod dag;
pub mod exp;
pub mod exp_share;
pub mod explain;
pub mod gc;
pub mod init;
pub mod plots;
pub mod predict;
pub mod reason;
pub mod remote;
pub mod repro;
pub mod status;

pub use checkout::CheckoutJson;
pub use commit::{AddJson, AddedSource, CommitJson, CommittedStage};
pub use dag::DagJson;
pub use exp::{ExpKind, ExpRow, ValueDiff};
pub use exp_share::{ExpPullJson, ExpPushJson, SkippedRecord};
pub use explain::{ExplainJson, FieldChange, OutChange};
pub use gc::GcJson;
pub use init::InitJson;
pub use plots::{PlotJson, PlotSeries, PlotsJson};
pub use predict::PredictJson;
pub use reason::DirtyReason;
pub use remote::{FetchJson, PullJson, PushJson, RemoteEntry, SnapshotJson, SnapshotRef};
pub use repro::{
    FailureKind, Outcome, ReproLine, RestoreSource, StageEvent, StageFailure, Summary,
};
pub use status::{SourceState, SourceStatus, StageState, StageStatus, StatusJson};
