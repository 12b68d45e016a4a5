//! The two output channels. stdout carries data (`--json`, `dag`, `status`): every
//! machine-readable payload is a `netsec-protocol` type serialized here. stderr carries status
//! lines (`progress::line` writes through [`err`]).
//!
//! Nothing here panics when a channel fails (`println!` would: `netsec status | head -1`,
//! `2>/dev/full`). The first failure is remembered, later writes are skipped, a running `repro`
//! is stopped like Ctrl-C (so the repository lock is released promptly), and the process exit
//! code says what happened: a closed pipe (EPIPE) ends the command quietly with its own code,
//! any other write error (a full disk) exits 5.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use serde::Serialize;

const OK: u8 = 0;
const BROKEN_PIPE: u8 = 1;
const FAILED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(OK);
static ON_FAILURE: OnceLock<Box<dyn Fn() + Send + Sync>> = OnceLock::new();

/// Called once when an output channel fails (`repro` cancels its run).
pub fn on_failure(f: impl Fn() + Send + Sync + 'static) {
    let _ = ON_FAILURE.set(Box::new(f));
}

fn write(mut w: impl Write, args: fmt::Arguments<'_>) {
    if STATE.load(Ordering::Relaxed) != OK {
        return;
    }
    // Formatted first and written whole: stderr is unbuffered, and `write_fmt` would make one
    // system call per piece (a status line and its newline: two).
    let written = match args.as_str() {
        Some(s) => w.write_all(s.as_bytes()),
        None => w.write_all(fmt::format(args).as_bytes()),
    };
    if let Err(e) = written.and_then(|()| w.flush()) {
        let state = if e.kind() == std::io::ErrorKind::BrokenPipe {
            BROKEN_PIPE
        } else {
            FAILED
        };
        if STATE
            .compare_exchange(OK, state, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            tracing::debug!("output failed: {e}");
            if let Some(f) = ON_FAILURE.get() {
                f();
            }
        }
    }
}

/// Writes to stdout.
pub fn out(args: fmt::Arguments<'_>) {
    write(std::io::stdout().lock(), args);
}

/// Writes to stderr.
pub fn err(args: fmt::Arguments<'_>) {
    write(std::io::stderr().lock(), args);
}

/// The exit code of a command that returned `code`, given what happened to its output.
pub fn exit_code(code: i32) -> i32 {
    match STATE.load(Ordering::SeqCst) {
        FAILED => netsec_engine::exit::IO,
        _ => code,
    }
}

/// `println!` on stdout, without the panic.
#[macro_export]
macro_rules! outln {
    () => { $crate::output::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` on stdout, without the panic.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::out(format_args!($($arg)*)) };
}

/// `eprintln!`, without the panic.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::output::err(format_args!("{}\n", format_args!($($arg)*))) };
}

/// One compact JSON line on stdout (a reader of `repro --json` sees each event as it happens).
pub fn json_line<T: Serialize>(value: &T) {
    if let Ok(text) = serde_json::to_string(value) {
        outln!("{text}");
    }
}
