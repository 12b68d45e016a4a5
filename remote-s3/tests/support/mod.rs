//! Test support: the S3 server the test scripts started (scripts/services.sh start s3), a
//! unique prefix per test so tests run in parallel, and the skip/require policy.

#![allow(dead_code, clippy::unwrap_used)]

pub use netsec_engine::remote::Remote;
use netsec_remote_s3::{S3Config, S3Remote, Tuning};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The server's settings, or `None` (with a printed note) when no server was started.
/// With NETSEC_REQUIRE_SERVICES=1 a missing server fails the test instead.
pub fn server() -> Option<BTreeMap<String, String>> {
    if std::env::var("S3_ENDPOINT").map_or(true, |v| v.is_empty()) {
        if std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("S3_ENDPOINT is not set but NETSEC_REQUIRE_SERVICES=1: run `eval \"$(scripts/services.sh start s3)\"`");
        }
        eprintln!("note: S3_ENDPOINT not set; skipping (start one with `eval \"$(scripts/services.sh start s3)\"`)");
        return None;
    }
    Some(std::env::vars().collect())
}

pub fn bucket() -> String {
    std::env::var("S3_BUCKET").unwrap_or_else(|_| "netsec-test".to_string())
}

/// `s3://bucket/t-NAME-PID-NANOS`: no two tests (or runs) share objects.
pub fn unique_url(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("s3://{}/t-{name}-{}-{nanos}", bucket(), std::process::id())
}

pub fn config(url: &str) -> S3Config {
    S3Config {
        url: url.to_string(),
        ..S3Config::default()
    }
}

pub fn open(env: &BTreeMap<String, String>, name: &str) -> S3Remote {
    S3Remote::open(&config(&unique_url(name)), env).expect("open")
}

pub fn open_tuned(env: &BTreeMap<String, String>, name: &str, tuning: Tuning) -> S3Remote {
    S3Remote::open_with(&config(&unique_url(name)), env, tuning).expect("open")
}

/// Deterministic pseudo-random bytes (xorshift), so content is not trivially compressible.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
