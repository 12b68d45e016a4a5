//! Commands never outlive a killed netsec. Every child netsec starts for a stage (a command, a
//! child `netsec __run-stage`, an experiment's `repro`) is spawned here: in a process group of
//! its own (timeouts and Ctrl-C kill the group) and registered with the run's guard.
//!
//! The guard is one small `/bin/sh` process per netsec process, started on the first spawn, in
//! a process group of its own (a `kill -9` of netsec's group does not reach it). Its stdin is
//! the read end of a pipe whose write end only netsec holds (close-on-exec: no child inherits
//! it). netsec writes one line per event: `s` before a spawn, `+PGID` once it started (or `f`
//! if it failed), `-PGID` when the command ended. When netsec dies, even by `kill -9`, the
//! kernel closes the pipe and the guard reads end-of-file: it kills every group still
//! registered and, if a spawn was under way (killed between the spawn and its `+PGID`), every
//! process whose environment carries this guard's token (`NETSEC_GUARD`, set for every guarded
//! child). After a normal exit nothing is registered and the guard just ends.
//!
//! Children are started without a `pre_exec` hook, so the standard library uses `posix_spawn`
//! (a `vfork`-like clone) instead of `fork`: forking a large multi-threaded netsec copied its
//! page tables for every command. The shell is `/bin/sh`, not looked up in `PATH`.
//!
//! If the guard cannot be started or dies, the `.netsec/state/running/` records
//! (`crate::orphans`) are the fallback: the next run kills what is left before running the stage.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The shell every stage command runs in, by absolute path (no `PATH` search per command).
pub const SHELL: &str = "/bin/sh";

/// The variable that marks a guarded child and its descendants (the guard's pid and a dot).
pub const TOKEN_VAR: &str = "NETSEC_GUARD";

/// The guard's program, run by [`SHELL`]. `$g` holds the registered groups between spaces,
/// `$n` the spawns under way. Parameter expansion only: no fork per line.
const SCRIPT: &str = r#"trap '' HUP INT
g=' ' n=0
while read -r l; do
  case $l in
    s) n=$((n + 1)) ;;
    f) n=$((n - 1)) ;;
    +*) n=$((n - 1)); g="$g${l#+} " ;;
    -*) p=${l#-}; case $g in *" $p "*) g="${g%% $p *} ${g#* $p }" ;; esac ;;
  esac
done
for p in $g; do kill -s KILL -- "-$p" 2>/dev/null; done
if [ "$n" -gt 0 ]; then
  for f in $(grep -lsF -e "$1=$$." /proc/[0-9]*/environ); do
    p=${f#/proc/}; kill -s KILL "${p%/environ}" 2>/dev/null
  done
fi
"#;

struct Guard {
    pipe: std::io::PipeWriter,
    token: String,
}

static GUARD: OnceLock<Option<Guard>> = OnceLock::new();

fn start() -> std::io::Result<Guard> {
    let (read, write) = std::io::pipe()?;
    let child = Command::new(SHELL)
        .arg("-c")
        .arg(SCRIPT)
        .arg("netsec-guard")
        .arg(TOKEN_VAR)
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
        .get_or_init(|| match start() {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::warn!(
                    "cannot start the guard that kills commands if netsec is killed: {e}; \
                     commands left running by a killed netsec are killed by the next run"
                );
                None
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

    #[test]
    fn a_closed_pipe_kills_registered_groups_and_spares_ended_ones() {
        let g = start().expect("guard");
        let mut registered = sleeper(None);
        let mut ended_one = sleeper(None);
        for c in [&registered, &ended_one] {
            tell(&g, "s\n");
            tell(&g, &format!("+{}\n", c.id()));
        }
        tell(&g, &format!("-{}\n", ended_one.id()));
        drop(g);
        let s = ended(&mut registered).expect("the registered group was killed");
        assert_eq!(s.signal(), Some(9));
        assert!(ended_one.try_wait().expect("try_wait").is_none());
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_raw(ended_one.id() as i32).expect("pid"),
            rustix::process::Signal::KILL,
        );
        let _ = ended_one.wait();
    }

    #[test]
    fn a_spawn_cut_off_before_its_registration_is_found_by_its_token() {
        let g = start().expect("guard");
        tell(&g, "s\n");
        let mut child = sleeper(Some(&g.token));
        let mut other = sleeper(Some("1."));
        drop(g);
        let s = ended(&mut child).expect("the unregistered child was killed");
        assert_eq!(s.signal(), Some(9));
        assert!(other.try_wait().expect("try_wait").is_none());
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_raw(other.id() as i32).expect("pid"),
            rustix::process::Signal::KILL,
        );
        let _ = other.wait();
    }
}
