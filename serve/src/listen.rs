//! The accept loop: HTTP/1.1 connections served by hyper with a header-read timeout (which also
//! closes idle keep-alive connections: hyper restarts it whenever it waits for the next request)
//! and a cap on concurrent connections kept below the process's open-file limit. A connection
//! beyond the cap gets a short JSON 503 and is closed at once, so a flood of silent clients
//! cannot exhaust file descriptors and stop the server answering everyone else. Hyper's own
//! replies to unparsable requests get the JSON error body (`parse_error.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// File descriptors kept free for everything that is not a client connection (the bundle,
/// the training child's pipes, logs, the listener itself).
const FD_RESERVE: usize = 64;

/// How long in-flight requests may run after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(10);

/// What the loop needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// `max_connections`, lowered to leave [`FD_RESERVE`] descriptors (more if the process
/// already holds more than half of that) under the soft open-file limit when that limit is
/// known (Linux: `/proc/self/limits`, `/proc/self/fd`).
pub fn connection_cap(max_connections: usize) -> usize {
    let reserve = FD_RESERVE.max(open_now().unwrap_or(0) + FD_RESERVE / 2);
    let cap = match open_file_limit() {
        Some(limit) => max_connections.min(limit.saturating_sub(reserve)),
        None => max_connections,
    };
    cap.max(1)
}

/// How many descriptors this process holds now, if the platform tells.
fn open_now() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

/// The soft `Max open files` limit of this process, if the platform tells.
fn open_file_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish (for
/// at most [`DRAIN`]).
pub async fn accept_loop(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let cap = connection_cap(limits.max_connections);
    tracing::debug!(
        cap,
        header_timeout = ?limits.header_timeout,
        "accepting connections"
    );
    let permits = Arc::new(Semaphore::new(cap));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // EMFILE and friends: the cap should prevent them, but never spin on them.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            // Refused here, not in a task: the descriptor is closed before the next accept, so
            // a burst beyond the cap can never hold more than one extra descriptor.
            refuse_busy(stream, cap);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        // Hyper's own parse-error replies get the JSON error body (`parse_error.rs`).
        let io = TokioIo::new(crate::parse_error::ErrorBodies::new(stream));
        let conn = builder.serve_connection(io, service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection closed: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish within {DRAIN:?}; closing them");
    }
}

/// The answer to a connection beyond the cap: a JSON 503 and close, without reading anything
/// and without waiting. The reply is far smaller than a fresh socket's send buffer, so one
/// non-blocking write sends it whole; if it does not (the peer is gone), the socket is closed
/// anyway.
fn refuse_busy(stream: TcpStream, cap: usize) {
    let body = format!(
        "{{\"error\":{{\"message\":\"the server is at its limit of {cap} open connections: retry shortly\"}}}}"
    );
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(reply.as_bytes());
    if let Ok(stream) = stream.into_std() {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
}
