//! The worker pool of transfers: `jobs` scoped threads take items in order from a shared
//! index. A `Denied` failure stops everyone (every other request would be denied too); other
//! failures are collected and the rest of the work goes on, so one report lists them all.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{RemoteError, RemoteErrorKind};

/// Default number of transfer threads: 4 per core (transfers wait on I/O), at most 16.
pub fn default_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (4 * cores).clamp(1, 16)
}

/// Run `work` over `items` on up to `jobs` threads; the failures, in item order.
pub fn run<T: Sync>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> Result<(), RemoteError> + Sync,
) -> Vec<RemoteError> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let failures: Mutex<Vec<(usize, RemoteError)>> = Mutex::new(Vec::new());
    let threads = jobs.max(1).min(items.len());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if let Err(e) = work(item) {
                        if e.kind == RemoteErrorKind::Denied {
                            stop.store(true, Ordering::Relaxed);
                        }
                        if let Ok(mut f) = failures.lock() {
                            f.push((i, e));
                        }
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort_by_key(|(i, _)| *i);
    failures.into_iter().map(|(_, e)| e).collect()
}
