//! Test helpers: a real model bundle trained on a slice of the bundled dataset, temp
//! repositories, in-process requests, and the path of the real `netsec` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use netsec_serve::{router, AppState, ServeConfig};
use tower::ServiceExt;

pub mod chromium;
mod fixture;
pub mod server;

pub const SAMPLE: &str = include_str!("../../../data/sample-predict-input.csv");
/// Known labels of the sample rows, in the dataset's coding (issue 3).
pub const SAMPLE_LABELS: [i64; 12] = [1, 1, -1, 1, 1, 1, 1, -1, 1, -1, 1, -1];

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Bytes of a real bundle, built once per test binary (see `fixture.rs`).
pub fn bundle_bytes(variant: u64) -> Vec<u8> {
    static CACHE: OnceLock<std::sync::Mutex<std::collections::BTreeMap<u64, Vec<u8>>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut map = cache.lock().expect("bundle cache");
    map.entry(variant)
        .or_insert_with(|| fixture::build_bundle(variant))
        .clone()
}

/// A temp repository with `final_model/bundle.json` (unless `with_model` is false).
pub fn temp_repo(with_model: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    if with_model {
        std::fs::create_dir_all(dir.path().join("final_model")).expect("mkdir");
        std::fs::write(dir.path().join("final_model/bundle.json"), bundle_bytes(0))
            .expect("write bundle");
    }
    dir
}

/// Defaults for `root`; the training executable is a path that does not exist (tests that
/// train set `cfg.exe = netsec_exe()`).
pub fn config(root: &Path) -> ServeConfig {
    let mut cfg = ServeConfig::new(root, root.join("no-such-netsec"));
    cfg.reload_interval = std::time::Duration::from_millis(200);
    cfg
}

pub fn app(cfg: ServeConfig) -> (Router, AppState) {
    let state = AppState::new(cfg);
    (router(state.clone()).expect("router"), state)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
    /// The JSON error's message (panics if the body is not an error envelope).
    pub fn error(&self) -> serde_json::Value {
        let v = self.json();
        assert!(v["error"]["message"].is_string(), "not an error body: {v}");
        v["error"].clone()
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let body = to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, Request::get(uri).body(Body::empty()).expect("request")).await
}

pub async fn post(app: &Router, uri: &str, content_type: &str, body: impl Into<Body>) -> Reply {
    let req = Request::post(uri)
        .header("content-type", content_type)
        .body(body.into())
        .expect("request");
    send(app, req).await
}

/// The real `netsec` binary of this workspace, built on demand (the server runs it for /train).
pub fn netsec_exe() -> PathBuf {
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    EXE.get_or_init(|| {
        // target/<profile>/deps/<test binary> → target/<profile>/netsec
        let test_exe = std::env::current_exe().expect("current_exe");
        let profile_dir = test_exe
            .parent()
            .and_then(Path::parent)
            .expect("target profile dir")
            .to_path_buf();
        let exe = profile_dir.join("netsec");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "-q", "-p", "netsec", "--bin", "netsec"])
            .current_dir(repo_root());
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if let Some(target_dir) = profile_dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target_dir);
        }
        let status = cmd.status().expect("run cargo build -p netsec");
        assert!(status.success(), "cargo build -p netsec failed");
        assert!(exe.exists(), "{} missing after build", exe.display());
        exe
    })
    .clone()
}
