//! Transfer observer: how push, fetch and snapshot report progress (the binary prints lines
//! now; progress bars plug in here later). Every method has a no-op default.

/// Receives transfer progress. Called from worker threads, hence `Sync`.
pub trait TransferObserver: Sync {
    /// A phase begins (`upload`, `download`, `snapshot`) with this many objects and bytes to move.
    fn start(&self, _phase: &str, _objects: u64, _bytes: u64) {}
    /// `n` more bytes moved.
    fn bytes(&self, _n: u64) {}
    /// One object transferred.
    fn done(&self, _key: &str, _size: u64) {}
    /// One object not transferred because it is already there.
    fn skipped(&self, _key: &str, _size: u64) {}
    /// A retry after a transient failure.
    fn retry(&self, _key: &str, _attempt: u32, _error: &str) {}
    /// The phase ended.
    fn finish(&self, _phase: &str) {}
}

/// Observes nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl TransferObserver for Silent {}
