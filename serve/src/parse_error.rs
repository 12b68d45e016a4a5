//! Bodies for the replies hyper writes by itself. When a request cannot be parsed (a malformed
//! request line or header: 400; a target longer than hyper's buffer: 414; headers over it: 431)
//! hyper answers with a bare head (`content-length: 0`, no content type) and closes the
//! connection; no handler ever sees the request. [`ErrorBodies`] wraps each connection's socket
//! and replaces exactly such a head with the same status carrying the documented JSON error
//! (`{"error":{"message"}}`). Every reply of the application has a content type, so no other
//! reply matches. The request could not be read, so it cannot be classified as a browser's: the
//! body is always JSON.
//!
//! The wrapper reports itself as not vectored, so hyper flattens each reply into one buffer and
//! its error head arrives in a single write, alone.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;

/// A connection's socket whose bare parse-error replies get a JSON body.
#[derive(Debug)]
pub struct ErrorBodies<T> {
    inner: T,
    /// A rewritten reply still to send, and how much of it was sent.
    pending: Vec<u8>,
    sent: usize,
}

impl<T> ErrorBodies<T> {
    pub fn new(inner: T) -> ErrorBodies<T> {
        ErrorBodies {
            inner,
            pending: Vec::new(),
            sent: 0,
        }
    }
}

/// The message of a status hyper produces on a parse failure.
fn message(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "malformed request: the request line or a header could not be parsed",
        414 => "the request target (path and query) is too long",
        431 => "the request line and headers are too large",
        _ => return None,
    })
}

/// The JSON reply replacing `head` when it is one of hyper's own bare error replies.
pub fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != head.len() {
        return None; // a body follows: not hyper's bare reply
    }
    let text = std::str::from_utf8(&head[..end]).ok()?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let code: u16 = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))?
        .get(..3)?
        .parse()
        .ok()?;
    let msg = message(code)?;
    let mut kept = Vec::new();
    let mut empty = false;
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-type:") {
            return None; // the application's reply
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            empty = v.trim() == "0";
            continue;
        }
        if lower.starts_with("connection:") {
            continue;
        }
        kept.push(line);
    }
    if !empty {
        return None;
    }
    let status = StatusCode::from_u16(code).ok()?;
    let body = ApiError::new(status, msg).to_json();
    let mut out = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for line in kept {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

impl<T: AsyncWrite + Unpin> ErrorBodies<T> {
    /// Sends what is left of a rewritten reply.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = std::task::ready!(
                Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ErrorBodies<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ErrorBodies<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.drive(cx))?;
        if buf.starts_with(b"HTTP/1.") {
            if let Some(reply) = rewrite(buf) {
                this.pending = reply;
                this.sent = 0;
                // Accepted whole; what the socket does not take now goes out on flush.
                if let Poll::Ready(Err(e)) = this.drive(cx) {
                    return Poll::Ready(Err(e));
                }
                return Poll::Ready(Ok(buf.len()));
            }
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        std::task::ready!(this.drive(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        std::task::ready!(this.drive(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_parse_error_heads_are_rewritten() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Thu, 03 Dec 2026 12:29:50 GMT\r\n\r\n";
        let out = String::from_utf8(rewrite(bare).expect("rewritten")).expect("utf-8");
        let (head, body) = out.split_once("\r\n\r\n").expect("head end");
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("date: Thu"));
        let v: serde_json::Value = serde_json::from_str(body).expect("json");
        assert!(v["error"]["message"]
            .as_str()
            .expect("message")
            .contains("too large"));
        // The application's own 400 has a content type and a body.
        let app = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(rewrite(app).is_none());
        assert!(rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}").is_none());
        assert!(rewrite(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(rewrite(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n").is_none());
    }
}
