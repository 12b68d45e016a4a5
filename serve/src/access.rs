//! The access log: one INFO line per request — method, path, status, duration, response bytes —
//! as `GET /health 200 0.41ms 37B`. The query string is never logged (a token passed as
//! `?token=…` must not reach a log file), nor are bodies or headers.

use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// The `tracing` target of access lines (`RUST_LOG=netsec_serve::access=info` shows only them).
pub const TARGET: &str = "netsec_serve::access";

/// Middleware: runs the request inside a `request{method, path}` span (so a handler's warnings
/// say which request they belong to) and logs the access line once the response is ready.
pub async fn log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let span = tracing::info_span!("request", method = %method, path = %path);
    let res = next.run(req).instrument(span).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let bytes = response_bytes(&res).map_or_else(|| "-".to_owned(), |n| format!("{n}B"));
    tracing::info!(
        target: TARGET,
        "{method} {path} {} {ms:.2}ms {bytes}",
        res.status().as_u16()
    );
    res
}

/// The body's size when known before it is sent (every buffered body: JSON, pages, CSV).
fn response_bytes(res: &Response) -> Option<u64> {
    res.body().size_hint().exact().or_else(|| {
        res.headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    })
}
