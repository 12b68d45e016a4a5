//! Bearer-token check for `POST /train` and `GET /tasks/{id}`, in constant time (no early exit
//! on the first differing byte, and the length compared in the same pass). The token is never
//! logged. Without a token these routes are refused unless the server was started with
//! `--allow-open-train`: training is never open by accident.

use axum::http::{header, HeaderMap, StatusCode};

use crate::config::ServeConfig;
use crate::error::ApiError;

/// `Ok` when the `Authorization: Bearer …` header carries the configured token, or when no
/// token is configured and open training was explicitly allowed.
pub fn check(config: &ServeConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = config.token.as_deref() else {
        if config.allow_open_train {
            return Ok(());
        }
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "training is disabled: start the server with `--token` (or NETSEC_SERVE_TOKEN) and send `Authorization: Bearer <token>`, or pass `--allow-open-train`",
        )
        .with_field("authorization"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    match given {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid bearer token")
            .with_field("authorization")),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this endpoint needs `Authorization: Bearer <token>` (the server was started with a token)",
        )
        .with_field("authorization")),
    }
}

/// Equality whose running time depends only on the lengths, not on where the bytes differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_bytes_and_lengths() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }
}
