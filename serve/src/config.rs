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
    /// Bearer token required by `POST /train` when set. Never logged.
    pub token: Option<String>,
    /// Origins allowed by CORS; empty = CORS off (no `Access-Control-*` headers).
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes; default 10 MiB (larger → 413).
    pub body_limit: usize,
    /// How often `bundle.json` is polled for a change on disk; default 2 s.
    pub reload_interval: Duration,
    /// Lines of the training subprocess's stderr kept per task; default 200.
    pub log_tail_lines: usize,
    /// Finished tasks remembered for `GET /tasks/{id}`; default 64 (oldest dropped first).
    pub max_tasks: usize,
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
            cors_origins: Vec::new(),
            body_limit: 10 * 1024 * 1024,
            reload_interval: Duration::from_secs(2),
            log_tail_lines: 200,
            max_tasks: 64,
        }
    }

    /// The bundle file watched and loaded.
    pub fn bundle_path(&self) -> PathBuf {
        self.model_dir.join("bundle.json")
    }
}
