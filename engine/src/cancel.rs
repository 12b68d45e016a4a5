//! Cancellation: SIGINT/SIGTERM stop new stages from starting and are forwarded, as SIGTERM
//! then SIGKILL, to the process group of every running command.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shared between the executor (which registers process groups) and the signal thread.
#[derive(Debug, Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    groups: Mutex<BTreeSet<i32>>,
}

impl Cancel {
    pub fn new() -> Arc<Cancel> {
        Arc::new(Cancel::default())
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    pub fn register(&self, pgid: i32) {
        if let Ok(mut g) = self.groups.lock() {
            g.insert(pgid);
        }
        // A signal that arrived between spawn and registration must still reach the child.
        if self.is_cancelled() {
            kill_group(pgid, rustix::process::Signal::TERM);
        }
    }

    pub fn unregister(&self, pgid: i32) {
        if let Ok(mut g) = self.groups.lock() {
            g.remove(&pgid);
        }
    }

    /// Stop: no new stages; terminate running command groups.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.signal_all(rustix::process::Signal::TERM);
    }

    fn kill_remaining(&self) {
        self.signal_all(rustix::process::Signal::KILL);
    }

    /// Sends `sig` to every registered group (a snapshot: the lock is not held while killing).
    fn signal_all(&self, sig: rustix::process::Signal) {
        let groups: Vec<i32> = self
            .groups
            .lock()
            .map(|g| g.iter().copied().collect())
            .unwrap_or_default();
        for pg in groups {
            kill_group(pg, sig);
        }
    }

    /// Install SIGINT/SIGTERM handling on a background thread.
    pub fn install_signal_handler(self: &Arc<Self>) -> std::io::Result<()> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("netsec-signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    tracing::warn!("received signal {sig}; stopping running stages");
                    me.cancel();
                    let me2 = Arc::clone(&me);
                    // Give commands a moment to exit cleanly, then make sure they are gone.
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(3));
                        me2.kill_remaining();
                    });
                }
            })?;
        Ok(())
    }
}

/// SIGTERM to a process group (`queue kill`: the group of an experiment's `repro`, which then
/// stops its stages as on Ctrl-C).
pub fn terminate_group(pgid: i32) {
    kill_group(pgid, rustix::process::Signal::TERM);
}

fn kill_group(pgid: i32, sig: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(pid, sig);
    }
}
