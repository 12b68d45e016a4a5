//! `ServeConfig`: everything `netsec serve` needs, clap-free so the CLI and tests build it alike.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The server's configuration. `ServeConfig::new(root, exe)` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to bind; default `127.0.0.1:8000` (loopback: exposing it is an explicit choice).
    pub addr: SocketAddr,
    /// Repository root (holds `pipeline.toml`); `/train` runs `repro` here.
    pub root: PathBuf,
    /// The model bundle directory; default `ROOT/final_model` (its `bundle.json` is loaded).
    pub model_dir: PathBuf,
    /// The netsec executable run as `EXE repro --json` by `/train` (`std::env::current_exe()`).
    pub exe: PathBuf,
    /// Bearer token required by `POST /train` and `GET /tasks/{id}`. Never logged. Without
    /// one, `/train` is refused unless `allow_open_train` is set.
    pub token: Option<String>,
    /// Let `/train` and `/tasks/{id}` run without a token (`--allow-open-train`; warned at start).
    pub allow_open_train: bool,
    /// Host names accepted in the `Host` header besides the bound address and `localhost`
    /// (DNS-rebinding defence); `*` accepts any.
    pub allowed_hosts: Vec<String>,
    /// Origins allowed by CORS; empty = CORS off (no `Access-Control-*` headers).
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes; default 10 MiB (larger → 413).
    pub body_limit: usize,
    /// Time a client has to send a request's headers, and the longest a keep-alive connection
    /// may sit idle between requests; default 10 s.
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once its headers are in; default 30 s (→ 408).
    pub body_timeout: Duration,
    /// Concurrent connections; default 4096, lowered to stay 64 below the open-file limit.
    /// Connections beyond it get a 503 and are closed.
    pub max_connections: usize,
    /// Rows accepted in one `/predict` body; default 100,000 (more → 413).
    pub max_rows: usize,
    /// How often `bundle.json` is polled for a change on disk; default 2 s.
    pub reload_interval: Duration,
    /// Lines of the training subprocess's stderr kept per task; default 200.
    pub log_tail_lines: usize,
    /// Finished tasks remembered for `GET /tasks/{id}`; default 64 (oldest dropped first).
    pub max_tasks: usize,
    /// Longest `GET /experiments` waits for `EXE exp show --json` (including another request's
    /// run); default 30 s (then 504, the child killed).
    pub exp_show_timeout: Duration,
    /// Most bytes of `exp show --json` output `GET /experiments` reads; default 16 MiB (more →
    /// 500, the child killed).
    pub exp_show_max_bytes: usize,
}

impl ServeConfig {
    /// The defaults for a repository at `root`, training with the executable `exe`.
    pub fn new(root: impl Into<PathBuf>, exe: impl Into<PathBuf>) -> ServeConfig {
        let root = root.into();
        ServeConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            model_dir: root.join("final_model"),
            root,
            exe: exe.into(),
            token: None,
            allow_open_train: false,
            allowed_hosts: Vec::new(),
            cors_origins: Vec::new(),
            body_limit: 10 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 4096,
            max_rows: 100_000,
            reload_interval: Duration::from_secs(2),
            log_tail_lines: 200,
            max_tasks: 64,
            exp_show_timeout: Duration::from_secs(30),
            exp_show_max_bytes: 16 * 1024 * 1024,
        }
    }

    /// The bundle file watched and loaded.
    pub fn bundle_path(&self) -> PathBuf {
        self.model_dir.join("bundle.json")
    }
}
