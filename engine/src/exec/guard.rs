//! Commands never outlive a killed netsec. Every child netsec starts for a stage (a command, a
//! child `netsec __run-stage`, an experiment's `repro`) is spawned here: in a process group of
//! its own (timeouts and Ctrl-C kill the group) and registered with the run's guard.
//!
//! The guard is one small process per netsec process, the same binary run as `netsec __guard`
//! ([`SUBCOMMAND`], served by [`serve`]), started on the first spawn in a process group of its
//! own (a `kill -9` of netsec's group does not reach it). Its stdin is the read end of a pipe
//! whose write end only netsec holds (close-on-exec: no child inherits it). netsec writes one
//! line per event: `s` before a spawn, `+PGID` once it started (or `f` if it failed), `-PGID`
//! when the command ended. When netsec dies, even by `kill -9`, the kernel closes the pipe: the
//! guard kills every group still registered and, if a spawn was under way (killed between the
//! spawn and its `+PGID`), every process whose environment carries this guard's token
//! (`NETSEC_GUARD`, set for every guarded child). After a normal exit nothing is registered and
//! the guard just ends.
//!
//! The guard sleeps until the pipe closes and reads what accumulated every [`DRAIN`]: lines do
//! not wake it (it polls for hang-up only), so a stage costs netsec three small pipe writes and
//! no context switch. (The earlier guard, a `/bin/sh` loop reading line by line, was woken three
//! times per command and read a byte per system call: a fifth of a 10,000-stage run's time.)
//!
//! Children are started without a `pre_exec` hook, so the standard library uses `posix_spawn`
//! (a `vfork`-like clone) instead of `fork`: forking a large multi-threaded netsec copied its
//! page tables for every command. The shell is `/bin/sh`, not looked up in `PATH`.
//!
//! The engine starts a guard only in a binary that serves [`SUBCOMMAND`] and said so with
//! [`enable`] (the `netsec` CLI). If the guard cannot be started or dies, the
//! `.netsec/state/running/` records (`crate::orphans`) are the fallback: the next run kills what
//! is left before running the stage.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The shell every stage command runs in, by absolute path (no `PATH` search per command).
pub const SHELL: &str = "/bin/sh";

/// The variable that marks a guarded child and its descendants (the guard's pid and a dot).
pub const TOKEN_VAR: &str = "NETSEC_GUARD";

/// The hidden first argument that makes the binary a guard (`netsec __guard`).
pub const SUBCOMMAND: &str = "__guard";

/// How often the guard reads the registrations that accumulated in its pipe. The pipe holds
/// 64 KiB (thousands of lines); should it fill, a spawn waits at most this long.
pub const DRAIN: Duration = Duration::from_millis(100);

/// The longest line netsec writes (`+` and a pid) with room to spare; longer ones are ignored.
const MAX_LINE: usize = 32;

/// Set by [`enable`]: this binary serves [`SUBCOMMAND`].
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Called by a binary whose `main` hands [`SUBCOMMAND`] to [`serve`]: spawns are then guarded.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

struct Guard {
    pipe: std::io::PipeWriter,
    token: String,
}

static GUARD: OnceLock<Option<Guard>> = OnceLock::new();

fn start() -> std::io::Result<Guard> {
    let (read, write) = std::io::pipe()?;
    // `/proc/self/exe`, resolved by the spawned child: this very binary, even if the file was
    // replaced or deleted since it started.
    let child = Command::new("/proc/self/exe")
        .arg0("netsec-guard")
        .arg(SUBCOMMAND)
        .env_remove(TOKEN_VAR)
        .current_dir("/")
        .stdin(Stdio::from(read))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let token = format!("{}.", child.id());
    // Not waited for: it outlives netsec when netsec is killed, and ends by itself after.
    drop(child);
    Ok(Guard { pipe: write, token })
}

fn guard() -> Option<&'static Guard> {
    GUARD
        .get_or_init(|| {
            if !ENABLED.load(Ordering::Relaxed) {
                return None;
            }
            match start() {
                Ok(g) => Some(g),
                Err(e) => {
                    tracing::warn!(
                        "cannot start the guard that kills commands if netsec is killed: {e}; \
                         commands left running by a killed netsec are killed by the next run"
                    );
                    None
                }
            }
        })
        .as_ref()
}

fn tell(g: &Guard, line: &str) {
    // One short write: atomic on a pipe, so threads need no lock.
    if let Err(e) = (&g.pipe).write_all(line.as_bytes()) {
        tracing::debug!("cannot reach the command guard: {e}");
    }
}

/// `netsec __guard`: keep the registrations read from stdin until every writer has closed it,
/// then kill what is still registered. SIGHUP and SIGINT (a closed terminal, Ctrl-C) do not stop
/// it: they are what it outlives netsec for.
pub fn serve() -> std::process::ExitCode {
    let ignored = std::sync::Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGHUP, signal_hook::consts::SIGINT] {
        // Without the handler the signal would end the guard; its flag is never read.
        let _ = signal_hook::flag::register(sig, ignored.clone());
    }
    let token = format!("{}.", std::process::id());
    watch(std::io::stdin().as_fd(), &token);
    std::process::ExitCode::SUCCESS
}

/// The registered process groups and the spawns under way, as told by netsec.
#[derive(Debug, Default)]
struct Registry {
    groups: std::collections::BTreeSet<i32>,
    spawning: u64,
}

impl Registry {
    fn apply(&mut self, line: &[u8]) {
        let pgid = || {
            std::str::from_utf8(&line[1..])
                .ok()
                .and_then(|s| s.parse::<i32>().ok())
                // Never 0 or 1: `kill(-1)` would signal every process.
                .filter(|p| *p > 1)
        };
        match line.first() {
            Some(b's') => self.spawning += 1,
            Some(b'f') => self.spawning = self.spawning.saturating_sub(1),
            Some(b'+') => {
                self.spawning = self.spawning.saturating_sub(1);
                if let Some(p) = pgid() {
                    self.groups.insert(p);
                }
            }
            Some(b'-') => {
                if let Some(p) = pgid() {
                    self.groups.remove(&p);
                }
            }
            _ => {}
        }
    }

    /// netsec is gone: kill every registered group, and every process carrying `token` if a
    /// spawn was cut off before its registration.
    fn kill_all(&self, token: &str) {
        use rustix::process::{kill_process, kill_process_group, Pid, Signal};
        for p in &self.groups {
            if let Some(pid) = Pid::from_raw(*p) {
                let _ = kill_process_group(pid, Signal::KILL);
            }
        }
        if self.spawning == 0 {
            return;
        }
        let needle = format!("{TOKEN_VAR}={token}");
        let me = std::process::id();
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me || pid <= 1 {
                continue;
            }
            if carries(&e.path().join("environ"), needle.as_bytes()) {
                if let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
                    let _ = kill_process(p, Signal::KILL);
                }
            }
        }
    }
}

/// Whether the environment file `environ` (NUL-separated) has the entry `needle`. Reads at most
/// 1 MiB: an environment is bounded by the kernel's argument limit.
fn carries(environ: &std::path::Path, needle: &[u8]) -> bool {
    use std::io::Read;
    let mut bytes = Vec::new();
    let read = std::fs::File::open(environ).and_then(|f| f.take(1 << 20).read_to_end(&mut bytes));
    read.is_ok() && bytes.split(|b| *b == 0).any(|entry| entry == needle)
}

/// The guard's loop on `input` (its stdin): sleep until hang-up or [`DRAIN`], read what is
/// there, and once every writer is gone kill what is still registered.
fn watch(input: BorrowedFd<'_>, token: &str) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
    if let Ok(flags) = fcntl_getfl(input) {
        let _ = fcntl_setfl(input, flags | OFlags::NONBLOCK);
    }
    let every = Timespec {
        tv_sec: DRAIN.as_secs() as i64,
        tv_nsec: i64::from(DRAIN.subsec_nanos()),
    };
    let mut registry = Registry::default();
    let mut line = Vec::with_capacity(MAX_LINE);
    let mut buf = [0u8; 8192];
    loop {
        // No events asked for: hang-up and errors are always reported, data is not.
        let mut fds = [PollFd::from_borrowed_fd(input, PollFlags::empty())];
        if let Err(e) = poll(&mut fds, Some(&every)) {
            // Never a busy loop: a poll that keeps failing still waits between reads.
            if e != rustix::io::Errno::INTR {
                std::thread::sleep(DRAIN);
            }
        }
        // Read everything there is; end-of-file means netsec (every writer) is gone.
        let ended = loop {
            match rustix::io::read(input, &mut buf) {
                Ok(0) => break true,
                Ok(n) => {
                    for &b in &buf[..n] {
                        if b == b'\n' {
                            if line.len() <= MAX_LINE {
                                registry.apply(&line);
                            }
                            line.clear();
                        } else if line.len() <= MAX_LINE {
                            line.push(b);
                        }
                    }
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => break false,
                Err(_) => break true,
            }
        };
        if ended {
            break;
        }
    }
    registry.kill_all(token);
}

/// A running guarded child's registration: dropping it tells the guard the group ended.
#[derive(Debug)]
pub struct Registration {
    pgid: i32,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(g) = guard() {
            tell(g, &format!("-{}\n", self.pgid));
        }
    }
}

/// Spawn `command` in a process group of its own, registered with the guard. Keep the
/// [`Registration`] until the child has been waited for (its process group id is its pid).
pub fn spawn(command: &mut Command) -> std::io::Result<(Child, Registration)> {
    command.process_group(0);
    let g = guard();
    if let Some(g) = g {
        command.env(TOKEN_VAR, &g.token);
        tell(g, "s\n");
    }
    match command.spawn() {
        Ok(child) => {
            let pgid = child.id() as i32;
            if let Some(g) = g {
                tell(g, &format!("+{pgid}\n"));
            }
            Ok((child, Registration { pgid }))
        }
        Err(e) => {
            if let Some(g) = g {
                tell(g, "f\n");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::time::{Duration, Instant};

    /// Waits up to 20 s for `child` to end; its status.
    fn ended(child: &mut Child) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        None
    }

    fn sleeper(token: Option<&str>) -> Child {
        let mut c = Command::new(SHELL);
        c.arg("-c").arg("sleep 60 & wait").process_group(0);
        if let Some(t) = token {
            c.env(TOKEN_VAR, t);
        }
        c.spawn().expect("spawn sleep")
    }

    /// Runs the guard's loop on a pipe in a thread; the writer stands for netsec.
    fn guard_on_pipe(token: &str) -> (std::io::PipeWriter, std::thread::JoinHandle<()>) {
        let (read, write) = std::io::pipe().expect("pipe");
        let token = token.to_string();
        let t = std::thread::spawn(move || watch(read.as_fd(), &token));
        (write, t)
    }

    fn kill_group(c: &mut Child) {
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_raw(c.id() as i32).expect("pid"),
            rustix::process::Signal::KILL,
        );
        let _ = c.wait();
    }

    #[test]
    fn a_closed_pipe_kills_registered_groups_and_spares_ended_ones() {
        let (mut w, t) = guard_on_pipe("test.");
        let mut registered = sleeper(None);
        let mut ended_one = sleeper(None);
        for c in [&registered, &ended_one] {
            write!(w, "s\n+{}\n", c.id()).expect("tell");
        }
        writeln!(w, "-{}", ended_one.id()).expect("tell");
        // The lines sit in the pipe (the guard sleeps) until netsec goes away.
        std::thread::sleep(DRAIN / 2);
        drop(w);
        t.join().expect("guard thread");
        let s = ended(&mut registered).expect("the registered group was killed");
        assert_eq!(s.signal(), Some(9));
        assert!(ended_one.try_wait().expect("try_wait").is_none());
        kill_group(&mut ended_one);
    }

    #[test]
    fn a_spawn_cut_off_before_its_registration_is_found_by_its_token() {
        let token = format!("{}-cut.", std::process::id());
        let (mut w, t) = guard_on_pipe(&token);
        w.write_all(b"s\n").expect("tell");
        let mut child = sleeper(Some(&token));
        // A token that merely starts like this one is someone else's.
        let mut other = sleeper(Some(&format!("{token}9.")));
        drop(w);
        t.join().expect("guard thread");
        let s = ended(&mut child).expect("the unregistered child was killed");
        assert_eq!(s.signal(), Some(9));
        assert!(other.try_wait().expect("try_wait").is_none());
        kill_group(&mut other);
    }

    #[test]
    fn registrations_that_could_signal_everything_or_are_garbage_are_ignored() {
        let mut r = Registry::default();
        for l in [&b"+1"[..], b"+0", b"+-7", b"+", b"+12x", b"x42", b""] {
            r.apply(l);
        }
        assert!(r.groups.is_empty(), "{r:?}");
        r.apply(b"s");
        r.apply(b"+4242");
        r.apply(b"f");
        assert_eq!((r.groups.len(), r.spawning), (1, 0));
        r.apply(b"-4242");
        assert!(r.groups.is_empty());
    }

    #[test]
    fn an_overlong_line_is_dropped_whole() {
        let (mut w, t) = guard_on_pipe("long.");
        let mut c = sleeper(None);
        // One line of 40 bytes that ends in this pid: not a registration.
        let pad = "0".repeat(40 - c.id().to_string().len() - 1);
        writeln!(w, "+{pad}{}", c.id()).expect("tell");
        drop(w);
        t.join().expect("guard thread");
        assert!(c.try_wait().expect("try_wait").is_none());
        kill_group(&mut c);
    }
}
