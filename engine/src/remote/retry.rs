//! Retries with exponential backoff for transient remote failures (`Unreachable`, `Other`).
//! `Denied`, `NotFound`, `Corrupt` and `Invalid` are answers, not accidents: never retried.

use std::time::Duration;

use super::{RemoteError, RemoteErrorKind};

/// Attempts per operation (the first try included).
pub const ATTEMPTS: u32 = 3;
/// Wait before the second attempt; each later wait is four times longer (0.2 s, 0.8 s).
pub const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Whether a failure of this kind may succeed when tried again.
pub fn transient(kind: RemoteErrorKind) -> bool {
    matches!(kind, RemoteErrorKind::Unreachable | RemoteErrorKind::Other)
}

/// Run `op` up to [`ATTEMPTS`] times while it fails transiently; `on_retry(attempt, error)` is
/// told before each wait.
pub fn with_retry<T>(
    mut op: impl FnMut() -> Result<T, RemoteError>,
    on_retry: impl Fn(u32, &RemoteError),
) -> Result<T, RemoteError> {
    let mut wait = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match op() {
            Ok(v) => return Ok(v),
            Err(e) if transient(e.kind) && attempt < ATTEMPTS => {
                on_retry(attempt, &e);
                std::thread::sleep(wait);
                wait *= 4;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn retries_transient_failures_only() {
        let calls = Cell::new(0);
        let r = with_retry(
            || {
                calls.set(calls.get() + 1);
                if calls.get() < 3 {
                    Err(RemoteError::new(RemoteErrorKind::Unreachable, "down"))
                } else {
                    Ok(7)
                }
            },
            |_, _| {},
        );
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.get(), 3);
        calls.set(0);
        let r: Result<(), _> = with_retry(
            || {
                calls.set(calls.get() + 1);
                Err(RemoteError::new(RemoteErrorKind::Denied, "no"))
            },
            |_, _| {},
        );
        assert_eq!(r.unwrap_err().kind, RemoteErrorKind::Denied);
        assert_eq!(calls.get(), 1);
    }
}
