//! Request guards against other web pages: the `Host` header must name this server (a page on
//! a rebound DNS name cannot reach it), and a state-changing request (any method but GET, HEAD
//! and OPTIONS) that carries an `Origin` must come from this server's own origin or one allowed
//! with `--cors-origin`. A `text/plain` form post from another site thus never starts anything.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Middleware: 421 for a foreign `Host`, 403 for a foreign `Origin` on a state change.
pub async fn check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()));
    if let Some(host) = &host {
        if !host_allowed(host, &state.config.allowed_hosts) {
            return ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "the Host header does not name this server: pass `--allowed-host NAME` to serve under that name",
            )
            .with_field("host")
            .into_response();
        }
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        if let Some(origin) = req.headers().get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            let same = host
                .as_deref()
                .is_some_and(|h| origin == format!("http://{h}"));
            let listed = state.config.cors_origins.iter().any(|o| o == origin);
            if !same && !listed {
                return ApiError::new(
                    StatusCode::FORBIDDEN,
                    "cross-origin request refused: this origin is not allowed (`--cors-origin`)",
                )
                .with_field("origin")
                .into_response();
            }
        }
    }
    next.run(req).await
}

/// Whether `host` (`name[:port]`) may address this server: an IP literal (rebinding needs a
/// DNS name), `localhost`, or a name given with `--allowed-host` (`*` allows any).
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = strip_port(host);
    if name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
        || name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .is_some_and(|n| n.parse::<std::net::Ipv6Addr>().is_ok())
    {
        return true;
    }
    allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(name) || a.eq_ignore_ascii_case(host))
}

/// `name` of `name:port`, `[v6]` of `[v6]:port`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(i) => &host[..=i],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_and_localhost_pass_names_need_listing() {
        let none: Vec<String> = Vec::new();
        assert!(host_allowed("127.0.0.1:8000", &none));
        assert!(host_allowed("[::1]:8000", &none));
        assert!(host_allowed("LocalHost:80", &none));
        assert!(host_allowed("10.1.2.3", &none));
        assert!(!host_allowed("evil.example:8000", &none));
        assert!(!host_allowed("127.0.0.1.evil.example", &none));
        let listed = vec!["netsec.internal".to_string()];
        assert!(host_allowed("netsec.internal:8000", &listed));
        assert!(!host_allowed("other.internal", &listed));
        assert!(host_allowed("any.name", &["*".to_string()]));
    }
}
