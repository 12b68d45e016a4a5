//! A blocking client for the MLflow 2.x/3.x tracking REST API (`/api/2.0/mlflow/…`) and the
//! server's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/…`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::config::{Auth, TrackingConfig};
use netsec_common::redact::{redact_uri as redact, redact_uris_in};

use crate::error::{Result, TrackingError};

/// MLflow's per-request limits of `runs/log-batch`.
const MAX_PARAMS: usize = 100;
const MAX_TAGS: usize = 100;
const MAX_METRICS: usize = 1000;

/// One metric value of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub step: i64,
}

/// The MLflow server at `uri`.
pub struct MlflowClient {
    uri: String,
    auth: Auth,
    agent: ureq::Agent,
}

impl std::fmt::Debug for MlflowClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MlflowClient")
            .field("uri", &redact(&self.uri))
            .field("auth", &self.auth)
            .finish()
    }
}

/// A created run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunHandle {
    pub experiment_id: String,
    pub run_id: String,
    /// `<experiment_id>/<run_id>/artifacts` under the artifact proxy.
    pub artifact_root: String,
}

impl MlflowClient {
    pub fn new(cfg: &TrackingConfig) -> Self {
        MlflowClient {
            uri: cfg.uri.trim_end_matches('/').to_string(),
            auth: cfg.auth.clone(),
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(5))
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    fn request(&self, method: &str, endpoint: &str) -> ureq::Request {
        let req = self
            .agent
            .request(method, &format!("{}{endpoint}", self.uri));
        match self.auth.header() {
            Some(h) => req.set("Authorization", &h),
            None => req,
        }
    }

    /// Sends and parses a JSON answer; maps transport and status errors without leaking secrets.
    fn send(
        &self,
        endpoint: &str,
        call: impl FnOnce() -> Result<ureq::Response, Box<ureq::Error>>,
    ) -> Result<Value> {
        let uri = redact(&self.uri);
        match call().map_err(|e| *e) {
            Ok(resp) => {
                let text = resp.into_string().map_err(|e| TrackingError::Protocol {
                    uri: uri.clone(),
                    endpoint: endpoint.into(),
                    message: e.to_string(),
                })?;
                if text.trim().is_empty() {
                    return Ok(json!({}));
                }
                serde_json::from_str(&text).map_err(|e| TrackingError::Protocol {
                    uri,
                    endpoint: endpoint.into(),
                    message: format!("not JSON: {e}"),
                })
            }
            Err(ureq::Error::Status(status, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                let message = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| {
                        let code = v.get("error_code")?.as_str()?.to_string();
                        let msg = v.get("message").and_then(Value::as_str).unwrap_or("");
                        Some(format!("{code}: {msg}"))
                    })
                    .unwrap_or_else(|| body.chars().take(300).collect());
                Err(TrackingError::Http {
                    uri,
                    endpoint: endpoint.into(),
                    status,
                    message,
                })
            }
            Err(ureq::Error::Transport(t)) => Err(TrackingError::Unreachable {
                uri,
                endpoint: endpoint.into(),
                // The transport message may repeat the URL; redact any userinfo in it.
                message: redact_uris_in(&t.to_string()),
            }),
        }
    }

    fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Result<Value> {
        self.send(endpoint, || {
            let mut req = self.request("GET", endpoint);
            for (k, v) in query {
                req = req.query(k, v);
            }
            req.call().map_err(Box::new)
        })
    }

    fn post(&self, endpoint: &str, body: &Value) -> Result<Value> {
        self.send(endpoint, || {
            self.request("POST", endpoint)
                .set("Content-Type", "application/json")
                .send_string(&body.to_string())
                .map_err(Box::new)
        })
    }

    /// The id of experiment `name`, created when missing.
    pub fn experiment_id(&self, name: &str) -> Result<String> {
        const GET: &str = "/api/2.0/mlflow/experiments/get-by-name";
        match self.get(GET, &[("experiment_name", name)]) {
            Ok(v) => return str_at(&v, &["experiment", "experiment_id"], &self.uri, GET),
            Err(TrackingError::Http { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
        const CREATE: &str = "/api/2.0/mlflow/experiments/create";
        let v = self.post(CREATE, &json!({ "name": name }))?;
        str_at(&v, &["experiment_id"], &self.uri, CREATE)
    }

    /// Creates a run in `experiment_id`.
    pub fn create_run(
        &self,
        experiment_id: &str,
        run_name: &str,
        start_ms: i64,
    ) -> Result<RunHandle> {
        const EP: &str = "/api/2.0/mlflow/runs/create";
        let v = self.post(
            EP,
            &json!({
                "experiment_id": experiment_id,
                "run_name": run_name,
                "start_time": start_ms,
                "tags": [{"key": "mlflow.runName", "value": run_name}],
            }),
        )?;
        let run_id = str_at(&v, &["run", "info", "run_id"], &self.uri, EP)?;
        let artifact_uri = v
            .pointer("/run/info/artifact_uri")
            .and_then(Value::as_str)
            .unwrap_or("");
        Ok(RunHandle {
            experiment_id: experiment_id.to_string(),
            artifact_root: proxy_root(artifact_uri)
                .unwrap_or_else(|| format!("{experiment_id}/{run_id}/artifacts")),
            run_id,
        })
    }

    /// Logs params, metrics and tags, split into batches within MLflow's limits.
    pub fn log_batch(
        &self,
        run_id: &str,
        params: &[(String, String)],
        metrics: &[Metric],
        tags: &[(String, String)],
        timestamp_ms: i64,
    ) -> Result<()> {
        const EP: &str = "/api/2.0/mlflow/runs/log-batch";
        let kv = |(k, v): &(String, String)| json!({"key": k, "value": v});
        for chunk in params.chunks(MAX_PARAMS) {
            self.post(
                EP,
                &json!({"run_id": run_id, "params": chunk.iter().map(kv).collect::<Vec<_>>()}),
            )?;
        }
        for chunk in tags.chunks(MAX_TAGS) {
            self.post(
                EP,
                &json!({"run_id": run_id, "tags": chunk.iter().map(kv).collect::<Vec<_>>()}),
            )?;
        }
        for chunk in metrics.chunks(MAX_METRICS) {
            let ms: Vec<Value> = chunk
                .iter()
                .filter(|m| m.value.is_finite())
                .map(|m| json!({"key": m.key, "value": m.value, "timestamp": timestamp_ms, "step": m.step}))
                .collect();
            self.post(EP, &json!({"run_id": run_id, "metrics": ms}))?;
        }
        Ok(())
    }

    /// Uploads one artifact to `<artifact_root>/<rel>` through the artifact proxy.
    pub fn put_artifact(&self, run: &RunHandle, rel: &str, bytes: &[u8]) -> Result<()> {
        let endpoint = format!(
            "/api/2.0/mlflow-artifacts/artifacts/{}/{}",
            run.artifact_root,
            rel.trim_start_matches('/')
        );
        self.send(&endpoint, || {
            self.request("PUT", &endpoint)
                .set("Content-Type", "application/octet-stream")
                .send_bytes(bytes)
                .map_err(Box::new)
        })?;
        Ok(())
    }

    /// Marks the run finished (or failed).
    pub fn finish_run(&self, run_id: &str, ok: bool, end_ms: i64) -> Result<()> {
        self.post(
            "/api/2.0/mlflow/runs/update",
            &json!({"run_id": run_id, "status": if ok {"FINISHED"} else {"FAILED"}, "end_time": end_ms}),
        )?;
        Ok(())
    }

    /// The run as the server stores it (`{"run": {...}}`).
    pub fn get_run(&self, run_id: &str) -> Result<Value> {
        self.get("/api/2.0/mlflow/runs/get", &[("run_id", run_id)])
    }

    /// Every logged value of `key` as `(step, value)`, sorted by step.
    pub fn metric_history(&self, run_id: &str, key: &str) -> Result<Vec<(i64, f64)>> {
        let v = self.get(
            "/api/2.0/mlflow/metrics/get-history",
            &[("run_id", run_id), ("metric_key", key)],
        )?;
        let mut out: Vec<(i64, f64)> = v
            .get("metrics")
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .filter_map(|m| {
                        let step = m.get("step").and_then(|s| {
                            s.as_i64()
                                .or_else(|| s.as_str().and_then(|x| x.parse().ok()))
                        })?;
                        Some((step, m.get("value")?.as_f64()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by_key(|m| m.0);
        Ok(out)
    }

    /// Artifact paths of a run directory (`path` relative to the run's artifact root).
    pub fn list_artifacts(&self, run_id: &str, path: &str) -> Result<Vec<String>> {
        let v = self.get(
            "/api/2.0/mlflow/artifacts/list",
            &[("run_id", run_id), ("path", path)],
        )?;
        Ok(v.get("files")
            .and_then(Value::as_array)
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| f.get("path").and_then(Value::as_str).map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// `mlflow-artifacts:/1/abc/artifacts` (optionally with `//host`) → `1/abc/artifacts`.
fn proxy_root(artifact_uri: &str) -> Option<String> {
    let rest = artifact_uri.strip_prefix("mlflow-artifacts:")?;
    let rest = match rest.strip_prefix("//") {
        Some(r) => &r[r.find('/')?..],
        None => rest,
    };
    let p = rest.trim_matches('/');
    (!p.is_empty()).then(|| p.to_string())
}

fn str_at(v: &Value, path: &[&str], uri: &str, endpoint: &str) -> Result<String> {
    let mut cur = v;
    for k in path {
        cur = cur.get(k).unwrap_or(&Value::Null);
    }
    cur.as_str()
        .map(String::from)
        .ok_or_else(|| TrackingError::Protocol {
            uri: redact(uri),
            endpoint: endpoint.into(),
            message: format!("no `{}` in the answer", path.join(".")),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::proxy_root;

    #[test]
    fn artifact_roots() {
        assert_eq!(
            proxy_root("mlflow-artifacts:/1/ab/artifacts").unwrap(),
            "1/ab/artifacts"
        );
        assert_eq!(
            proxy_root("mlflow-artifacts://h:5000/1/ab/artifacts").unwrap(),
            "1/ab/artifacts"
        );
        assert_eq!(proxy_root("s3://bucket/1"), None);
    }
}
