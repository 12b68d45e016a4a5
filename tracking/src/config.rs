//! Where and how to track: `MLFLOW_TRACKING_URI` (env, wins) or `[tracking]` in pipeline.toml
//! (`uri`, `experiment`, `required`), and the credentials from `MLFLOW_TRACKING_USERNAME` /
//! `MLFLOW_TRACKING_PASSWORD` (basic) or `MLFLOW_TRACKING_TOKEN` (bearer).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Result, TrackingError};

/// Experiment used when neither the config nor `MLFLOW_EXPERIMENT_NAME` names one.
pub const DEFAULT_EXPERIMENT: &str = "netsec";

/// Credentials for the tracking server. `Debug` never prints the secrets.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Basic { .. } => "Auth::Basic(<redacted>)",
            Auth::Bearer(_) => "Auth::Bearer(<redacted>)",
        })
    }
}

impl Auth {
    /// The `Authorization` header value, if any.
    pub fn header(&self) -> Option<String> {
        use base64::Engine;
        match self {
            Auth::None => None,
            Auth::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
        }
    }

    /// As the MLflow client does: basic when both username and password are set, else bearer.
    pub fn from_env(env: &BTreeMap<String, String>) -> Auth {
        let get = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        match (
            get("MLFLOW_TRACKING_USERNAME"),
            get("MLFLOW_TRACKING_PASSWORD"),
            get("MLFLOW_TRACKING_TOKEN"),
        ) {
            (Some(username), Some(password), _) => Auth::Basic { username, password },
            (_, _, Some(token)) => Auth::Bearer(token),
            _ => Auth::None,
        }
    }
}

/// Resolved tracking settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingConfig {
    /// Server base URL, without a trailing `/`.
    pub uri: String,
    pub experiment: String,
    /// A failing server fails the command (exit 5) instead of warning.
    pub required: bool,
    pub auth: Auth,
}

/// The `[tracking]` table as written.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    uri: Option<String>,
    experiment: Option<String>,
    #[serde(default)]
    required: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
struct Manifest {
    #[serde(default)]
    tracking: Option<toml::Value>,
}

impl TrackingConfig {
    /// Reads `[tracking]` of `pipeline` (a pipeline.toml) and the environment. `Ok(None)`
    /// means tracking is off (no URI anywhere). Only `http(s)` URIs are supported: a local
    /// `file:` store or `databricks` profile is an error naming the key.
    pub fn resolve(pipeline: &Path, env: &BTreeMap<String, String>) -> Result<Option<Self>> {
        let text = std::fs::read_to_string(pipeline).map_err(|e| TrackingError::Read {
            path: pipeline.to_path_buf(),
            source: e,
        })?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| TrackingError::Config {
            file: pipeline.to_path_buf(),
            key: "tracking".into(),
            message: e.to_string(),
        })?;
        let table: Table = match manifest.tracking {
            Some(v) => v
                .try_into()
                .map_err(|e: toml::de::Error| TrackingError::Config {
                    file: pipeline.to_path_buf(),
                    key: "tracking".into(),
                    message: e.message().to_string(),
                })?,
            None => Table::default(),
        };
        let env_uri = env.get("MLFLOW_TRACKING_URI").filter(|v| !v.is_empty());
        let (uri, key) = match (env_uri, &table.uri) {
            (Some(u), _) => (u.clone(), "MLFLOW_TRACKING_URI"),
            (None, Some(u)) => (u.clone(), "tracking.uri"),
            (None, None) => return Ok(None),
        };
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(TrackingError::Config {
                file: pipeline.to_path_buf(),
                key: key.into(),
                message: format!(
                    "`{}` is not an http(s) URL; netsec talks to an MLflow tracking server over REST",
                    netsec_common::redact::redact_uri(&uri)
                ),
            });
        }
        let experiment = env
            .get("MLFLOW_EXPERIMENT_NAME")
            .filter(|v| !v.is_empty())
            .cloned()
            .or(table.experiment)
            .unwrap_or_else(|| DEFAULT_EXPERIMENT.to_string());
        Ok(Some(TrackingConfig {
            uri: uri.trim_end_matches('/').to_string(),
            experiment,
            required: table.required,
            auth: Auth::from_env(env),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_wins_table_supplies_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pipeline.toml");
        std::fs::write(
            &p,
            "[tracking]\nuri = \"http://a:1\"\nexperiment = \"exp\"\nrequired = true\n",
        )
        .unwrap();
        let c = TrackingConfig::resolve(&p, &env(&[])).unwrap().unwrap();
        assert_eq!(
            (c.uri.as_str(), c.experiment.as_str(), c.required),
            ("http://a:1", "exp", true)
        );
        let c = TrackingConfig::resolve(&p, &env(&[("MLFLOW_TRACKING_URI", "http://b:2/")]))
            .unwrap()
            .unwrap();
        assert_eq!(c.uri, "http://b:2");
        std::fs::write(&p, "[tracking]\nuri = \"file:./mlruns\"\n").unwrap();
        let e = TrackingConfig::resolve(&p, &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tracking.uri"), "{e}");
        std::fs::write(&p, "[tracking]\nurl = \"http://x\"\n").unwrap();
        let e = TrackingConfig::resolve(&p, &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("url"), "{e}");
        std::fs::write(&p, "[params]\n").unwrap();
        assert!(TrackingConfig::resolve(&p, &env(&[])).unwrap().is_none());
    }

    #[test]
    fn auth_precedence_and_redacted_debug() {
        let a = Auth::from_env(&env(&[
            ("MLFLOW_TRACKING_USERNAME", "u"),
            ("MLFLOW_TRACKING_PASSWORD", "p"),
            ("MLFLOW_TRACKING_TOKEN", "t"),
        ]));
        assert_eq!(a.header().unwrap(), "Basic dTpw");
        let b = Auth::from_env(&env(&[("MLFLOW_TRACKING_TOKEN", "tok")]));
        assert_eq!(b.header().unwrap(), "Bearer tok");
        assert_eq!(format!("{a:?}"), "Auth::Basic(<redacted>)");
        assert!(!format!("{b:?}").contains("tok"));
        assert_eq!(Auth::from_env(&env(&[])), Auth::None);
    }
}
