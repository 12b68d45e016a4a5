//! `MongoConfig`: `params.ingest.mongodb`, the settings of a MongoDB source.
//!
//! Only the shape and its checks live here (this crate knows no database driver); the
//! `netsec-mongo` crate reads a collection with them. The connection URI is never a param: it
//! may hold a password, and params are fingerprinted into the lock. Params name the environment
//! variable that holds it instead.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Result, StageError};

/// The longest connect / server-selection bound a pipeline may ask for.
pub const MAX_TIMEOUT_MS: u64 = 10_000;

/// `params.ingest.mongodb`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MongoConfig {
    /// The environment variable holding the connection URI.
    pub uri_env: String,
    pub database: String,
    pub collection: String,
    /// A find filter (a TOML table, converted to BSON like extended JSON).
    pub query: Option<Map<String, Value>>,
    /// A find projection; `_id` is dropped from every document whatever it says.
    pub projection: Option<Map<String, Value>>,
    /// Documents per cursor batch (getMore); bounds the memory held at once.
    pub batch_size: u32,
    /// Bound on connecting and selecting a server, in milliseconds (at most 10,000).
    pub timeout_ms: u64,
}

impl Default for MongoConfig {
    fn default() -> Self {
        MongoConfig {
            uri_env: "MONGODB_URI".into(),
            database: String::new(),
            collection: String::new(),
            query: None,
            projection: None,
            batch_size: 1000,
            timeout_ms: 5000,
        }
    }
}

impl MongoConfig {
    /// Checks what serde cannot: required names, ranges. Keys are named as in pipeline.toml.
    pub fn check(&self) -> Result<()> {
        let bad = |key: &str, message: &str| {
            Err(StageError::Config {
                key: format!("ingest.mongodb.{key}"),
                message: message.into(),
            })
        };
        if self.uri_env.trim().is_empty() {
            return bad("uri_env", "must name an environment variable");
        }
        if self.database.trim().is_empty() {
            return bad(
                "database",
                "is required (the database holding the collection)",
            );
        }
        if self.collection.trim().is_empty() {
            return bad("collection", "is required");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if self.timeout_ms == 0 || self.timeout_ms > MAX_TIMEOUT_MS {
            return bad("timeout_ms", "must be between 1 and 10000 (milliseconds)");
        }
        Ok(())
    }

    /// `database.collection`, for messages.
    pub fn namespace(&self) -> String {
        format!("{}.{}", self.database, self.collection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks_name_the_key() {
        let cfg: MongoConfig = serde_json::from_value(serde_json::json!({
            "database": "netsec", "collection": "phishing", "query": {"Redirect": 0}
        }))
        .expect("parse");
        assert_eq!(cfg.uri_env, "MONGODB_URI");
        assert_eq!(cfg.batch_size, 1000);
        assert_eq!(cfg.timeout_ms, 5000);
        cfg.check().expect("valid");
        assert_eq!(cfg.namespace(), "netsec.phishing");

        let e = MongoConfig::default().check().expect_err("no database");
        assert!(e.to_string().contains("ingest.mongodb.database"), "{e}");
        let slow = MongoConfig {
            timeout_ms: 60_000,
            ..cfg.clone()
        };
        let e = slow.check().expect_err("too slow");
        assert!(e.to_string().contains("ingest.mongodb.timeout_ms"), "{e}");
        let unknown = serde_json::from_value::<MongoConfig>(serde_json::json!({"uri": "x"}));
        assert!(unknown.is_err(), "the URI itself is not a param");
    }
}
