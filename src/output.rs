//! stdout: the data channel (`--json`, `dag`, `status`). Every machine-readable payload is a
//! `netsec-protocol` type serialized here, one line each.

use std::io::Write;

use serde::Serialize;

/// One compact JSON line on stdout, flushed (a reader of `repro --json` sees each event as it
/// happens). Write errors are ignored here: a reader that went away must not fail the run.
pub fn json_line<T: Serialize>(value: &T) {
    let Ok(text) = serde_json::to_string(value) else {
        return;
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
