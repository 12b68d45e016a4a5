//! `MongoError`: every failure of the MongoDB source and loader, with the exit-code category.
//!
//! No variant holds the connection URI. Driver messages are passed through [`Scrub`] first,
//! which removes the URI, its user-info and its password wherever they appear, so an error can
//! name the database, the collection and `host:port`, never a credential.

use std::time::Duration;

use netsec_stages::{ErrorKind, StageError};

/// What went wrong talking to MongoDB.
#[derive(Debug, thiserror::Error)]
pub enum MongoError {
    #[error(
        "environment variable `{name}` is not set (it should hold the MongoDB connection URI)"
    )]
    UriMissing { name: String },

    #[error("`{name}` does not hold a valid MongoDB URI: {detail}")]
    BadUri { name: String, detail: String },

    #[error("cannot reach MongoDB at {hosts} within {} ms: {detail}", timeout.as_millis())]
    Unreachable {
        hosts: String,
        timeout: Duration,
        detail: String,
    },

    #[error("MongoDB at {hosts} refused the credentials: {detail}")]
    Auth { hosts: String, detail: String },

    #[error("MongoDB {op} on `{namespace}` at {hosts} failed: {detail}")]
    Operation {
        op: &'static str,
        namespace: String,
        hosts: String,
        detail: String,
        /// The server's error code, when it sent one (11000 = duplicate key).
        code: Option<i32>,
    },

    #[error("MongoDB {op} on `{namespace}` at {hosts} did not answer within {} s", timeout.as_secs())]
    Stalled {
        op: &'static str,
        namespace: String,
        hosts: String,
        timeout: Duration,
    },

    #[error("`{namespace}`: invalid `{key}`: {detail}")]
    Config {
        namespace: String,
        key: String,
        detail: String,
    },

    #[error("cannot start the MongoDB client runtime: {0}")]
    Runtime(std::io::Error),

    /// The collection's last `netsec db load` started and never finished (see `marker.rs`).
    #[error("`{namespace}` at {hosts} holds an unfinished load: `netsec db load` of {rows} rows started at {} did not complete, so the collection may hold only part of them", started_at(*started))]
    IncompleteLoad {
        namespace: String,
        hosts: String,
        rows: i64,
        /// Seconds since the epoch.
        started: i64,
    },
}

/// `2026-12-03T11:12:18Z` for seconds since the epoch.
fn started_at(secs: i64) -> String {
    mongodb::bson::DateTime::from_millis(secs.saturating_mul(1000))
        .try_to_rfc3339_string()
        .unwrap_or_else(|_| format!("{secs} s after the epoch"))
}

impl MongoError {
    /// Network, server and credential problems are I/O (exit 5); bad settings fail the stage.
    pub fn kind(&self) -> ErrorKind {
        match self {
            MongoError::UriMissing { .. }
            | MongoError::BadUri { .. }
            | MongoError::Config { .. } => ErrorKind::Invalid,
            MongoError::Operation { code, .. } if is_query_error(*code) => ErrorKind::Invalid,
            // Duplicate key: the collection already holds the rows (a load without --replace).
            MongoError::Operation {
                code: Some(11000), ..
            } => ErrorKind::Invalid,
            // Part of a data set is not data to train on.
            MongoError::IncompleteLoad { .. } => ErrorKind::Rejected,
            _ => ErrorKind::Io,
        }
    }

    /// A suggestion for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            MongoError::UriMissing { name } => Some(format!(
                "export {name}='mongodb://HOST:PORT/' (scripts/services.sh start mongo prints one for tests)"
            )),
            MongoError::BadUri { .. } => Some(
                "use mongodb://[user:password@]host[:port]/[?options]; percent-encode `@`, `:` and `/` in the password"
                    .into(),
            ),
            MongoError::Unreachable { .. } | MongoError::Stalled { .. } => Some(
                "check that the server is running and reachable; `timeout_ms` (at most 10000) bounds the wait"
                    .into(),
            ),
            MongoError::Auth { .. } => {
                Some("check the user, password and `authSource` in the URI".into())
            }
            MongoError::Operation {
                code: Some(11000), ..
            } => Some("the collection already holds these documents: load with `--replace`".into()),
            MongoError::IncompleteLoad { .. } => Some(
                "the load was interrupted: run `netsec db load --replace` of the same CSV again"
                    .into(),
            ),
            _ => None,
        }
    }

    /// The error as a data-stage error: I/O problems become `Read` errors of the source (exit 5),
    /// configuration problems `Config` errors (exit 1), an unfinished load `Refused` (exit 4). The hint is not kept: take it first.
    pub fn into_stage_error(self, origin: &str) -> StageError {
        let message = self.to_string();
        match self.kind() {
            ErrorKind::Invalid => StageError::Config {
                key: match &self {
                    MongoError::UriMissing { .. } | MongoError::BadUri { .. } => {
                        "ingest.mongodb.uri_env".into()
                    }
                    MongoError::Config { key, .. } => format!("ingest.mongodb.{key}"),
                    _ => "ingest.mongodb.query".into(),
                },
                message,
            },
            ErrorKind::Rejected => StageError::Refused {
                path: origin.into(),
                reason: message,
            },
            _ => StageError::Read {
                path: origin.into(),
                source: std::io::Error::other(message),
            },
        }
    }
}

/// Server codes that mean "your query/projection is wrong" rather than "the server failed":
/// BadValue, FailedToParse, TypeMismatch, InvalidOptions, Location codes for unknown operators.
fn is_query_error(code: Option<i32>) -> bool {
    matches!(code, Some(2 | 9 | 14 | 72 | 31253 | 31254 | 51024 | 51091))
}

/// Removes every secret-bearing part of a URI from driver messages.
#[derive(Debug, Clone, Default)]
pub struct Scrub {
    secrets: Vec<String>,
}

impl Scrub {
    /// Secrets of `uri`: the whole URI, its user-info, and the user and password (raw and
    /// percent-decoded), longest first so that a secret is never partly revealed.
    pub fn new(uri: &str) -> Scrub {
        let mut secrets = vec![uri.to_string()];
        if let Some(info) = userinfo(uri) {
            secrets.push(info.to_string());
            for part in info.splitn(2, ':') {
                secrets.push(part.to_string());
                secrets.push(percent_decode(part));
            }
        }
        secrets.retain(|s| s.len() >= 3);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Scrub { secrets }
    }

    /// `text` with every secret replaced by `***`, and any other `scheme://user:pass@` form
    /// reduced to `scheme://***@` (by `netsec_common::redact`, the one URI redactor).
    pub fn clean(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "***");
        }
        netsec_common::redact_uris_in(&out)
    }
}

/// The `user:password` part of `scheme://user:password@host/...`, if any.
fn userinfo(uri: &str) -> Option<&str> {
    let rest = &uri[uri.find("://")? + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let at = rest[..authority_end].rfind('@')?;
    Some(&rest[..at])
}

fn percent_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_uri_user_and_password() {
        let uri = "mongodb://alice:s%40cret-pw@db.example:27017/?authSource=admin";
        let s = Scrub::new(uri);
        let msg = format!(
            "failed for {uri}: SCRAM failure for user alice with s@cret-pw and s%40cret-pw; \
             other mongodb://bob:hunter22@h/"
        );
        let clean = s.clean(&msg);
        for secret in ["s@cret-pw", "s%40cret-pw", "alice", "hunter22", "bob:"] {
            assert!(!clean.contains(secret), "{secret} in {clean}");
        }
        assert!(clean.contains("mongodb://***@h/"), "{clean}");
    }

    #[test]
    fn no_userinfo_keeps_host() {
        let s = Scrub::new("mongodb://127.0.0.1:27017/?directConnection=true");
        assert_eq!(
            s.clean("Address: 127.0.0.1:27017, connection refused"),
            "Address: 127.0.0.1:27017, connection refused"
        );
        assert_eq!(userinfo("mongodb://h/?x=a@b"), None);
        assert_eq!(percent_decode("a%40b%"), "a@b%");
    }

    #[test]
    fn kinds_map_to_exit_categories() {
        let unreachable = MongoError::Unreachable {
            hosts: "127.0.0.1:1".into(),
            timeout: Duration::from_millis(5000),
            detail: "connection refused".into(),
        };
        assert_eq!(unreachable.kind(), ErrorKind::Io);
        let e = unreachable.into_stage_error("mongodb://127.0.0.1:1/db.coll");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.to_string().contains("within 5000 ms"), "{e}");
        let missing = MongoError::UriMissing {
            name: "MONGODB_URI".into(),
        };
        assert_eq!(missing.kind(), ErrorKind::Invalid);
        assert!(missing
            .into_stage_error("x")
            .to_string()
            .contains("ingest.mongodb.uri_env"));
    }
}
