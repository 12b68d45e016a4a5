//! Where and how to track: `MLFLOW_TRACKING_URI` (env, wins) or `[tracking]` in pipeline.toml
//! (`uri`, `experiment`, `required`), and the credentials from `MLFLOW_TRACKING_USERNAME` /
//! `MLFLOW_TRACKING_PASSWORD` (basic) or `MLFLOW_TRACKING_TOKEN` (bearer).

use std::collections::BTreeMap;

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

fn parse_table(v: &toml::Value) -> std::result::Result<Table, String> {
    v.clone()
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())
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

impl TrackingConfig {
    /// Checks a `[tracking]` table when pipeline.toml is loaded (unknown keys, wrong types).
    pub fn check_table(table: &toml::Value) -> std::result::Result<(), String> {
        parse_table(table).map(|_| ())
    }

    /// Resolves the settings from the `[tracking]` table (as loaded with the pipeline) and the
    /// environment. `Ok(None)` means tracking is off (no URI anywhere). Only `http(s)` URIs are
    /// supported: a local `file:` store or `databricks` profile is an error naming the key.
    pub fn resolve(
        table: Option<&toml::Value>,
        env: &BTreeMap<String, String>,
    ) -> Result<Option<Self>> {
        let pipeline = std::path::PathBuf::from("pipeline.toml");
        let table: Table = match table {
            Some(v) => parse_table(v).map_err(|message| TrackingError::Config {
                file: pipeline.clone(),
                key: "tracking".into(),
                message,
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
        let table = |text: &str| -> Option<toml::Value> {
            let t: toml::Table = toml::from_str(text).unwrap();
            t.get("tracking").cloned()
        };
        let t = table("[tracking]\nuri = \"http://a:1\"\nexperiment = \"exp\"\nrequired = true\n");
        let c = TrackingConfig::resolve(t.as_ref(), &env(&[]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.uri.as_str(), c.experiment.as_str(), c.required),
            ("http://a:1", "exp", true)
        );
        let c =
            TrackingConfig::resolve(t.as_ref(), &env(&[("MLFLOW_TRACKING_URI", "http://b:2/")]))
                .unwrap()
                .unwrap();
        assert_eq!(c.uri, "http://b:2");
        let t = table("[tracking]\nuri = \"file:./mlruns\"\n");
        let e = TrackingConfig::resolve(t.as_ref(), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tracking.uri"), "{e}");
        let t = table("[tracking]\nurl = \"http://x\"\n");
        let e = TrackingConfig::check_table(t.as_ref().unwrap()).unwrap_err();
        assert!(e.contains("url"), "{e}");
        assert!(TrackingConfig::resolve(None, &env(&[])).unwrap().is_none());
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
