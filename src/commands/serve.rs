//! `netsec serve`: the prediction API, web page and background training (crate netsec-serve).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use netsec_engine::Error;
use netsec_serve::{ServeConfig, ServeError, Started};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (loopback by default; 0.0.0.0:8000 to expose it; port 0 = any free
    /// port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Bearer token required by POST /train and GET /tasks/ID (default: $NETSEC_SERVE_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// Let anyone who can reach the server start training when no token is set (refused
    /// otherwise).
    #[arg(long)]
    allow_open_train: bool,
    /// Accept requests whose Host header is NAME (repeatable; IP addresses and localhost are
    /// always accepted; `*` accepts any).
    #[arg(long = "allowed-host", value_name = "NAME")]
    allowed_hosts: Vec<String>,
    /// The model bundle directory (default: final_model/ in the repository root).
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Allow cross-origin requests from ORIGIN (repeatable); CORS is off without it.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Largest accepted request body in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    body_limit: usize,
    /// Most rows accepted in one /predict body.
    #[arg(long, value_name = "ROWS", default_value_t = 100_000)]
    max_rows: usize,
    /// Time to send a request's headers, and the longest a connection may idle between
    /// requests.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    header_timeout: Duration,
    /// Time to send a request's body.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    body_timeout: Duration,
    /// Most concurrent connections (lowered to stay 64 below the open-file limit); more get a
    /// 503.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    max_connections: usize,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let root = netsec_engine::find_root(cwd)?;
    // /train reruns the pipeline through this very binary, as a child process.
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("netsec"));
    let mut cfg = ServeConfig::new(root, exe);
    cfg.addr = args.addr;
    cfg.token = args
        .token
        .or_else(|| std::env::var("NETSEC_SERVE_TOKEN").ok())
        .filter(|t| !t.is_empty());
    if let Some(m) = args.model {
        cfg.model_dir = if m.is_absolute() { m } else { cwd.join(m) };
    }
    cfg.cors_origins = args.cors_origins;
    cfg.body_limit = args.body_limit;
    cfg.max_rows = args.max_rows.max(1);
    cfg.header_timeout = args.header_timeout;
    cfg.body_timeout = args.body_timeout;
    cfg.max_connections = args.max_connections.max(1);
    cfg.allowed_hosts = args.allowed_hosts;
    cfg.allow_open_train = args.allow_open_train && cfg.token.is_none();
    if cfg.allow_open_train {
        ui.warn(
            "POST /train is open: anyone who can reach this server can start training (--allow-open-train without a token)",
        );
    }
    let ui_start = ui.clone();
    let root_shown = cfg.root.clone();
    match netsec_serve::run_blocking(cfg, move |s| started(&ui_start, &root_shown, s)) {
        Ok(()) => Ok(netsec_engine::exit::OK),
        Err(e) => {
            let (code, hint) = match &e {
                ServeError::Bind { .. } => (
                    netsec_engine::exit::IO,
                    Some("another process holds the address: pass `--addr 127.0.0.1:PORT`"),
                ),
                ServeError::CorsOrigin { .. } => (netsec_engine::exit::USAGE, None),
                _ => (netsec_engine::exit::IO, None),
            };
            ui.error_text(&format!("failed to serve: {e}"), hint);
            Ok(code)
        }
    }
}

/// The start lines on stderr: the real URL and the model served (`-q` hides them).
fn started(ui: &Ui, root: &Path, s: &Started) {
    ui.status("Listening", "32", &format!("on {}", s.url));
    let shown = s.bundle_path.strip_prefix(root).unwrap_or(&s.bundle_path);
    match &s.model {
        Some(card) => {
            let f1 = s
                .test_f1()
                .map(|f| format!(", test F1 {f:.3}"))
                .unwrap_or_default();
            ui.status(
                "Model",
                "32",
                &format!(
                    "`{}` ({}{f1}) from `{}`",
                    card.version,
                    card.model,
                    shown.display()
                ),
            );
        }
        None if s.bundle_path.exists() => ui.status(
            "Model",
            "33",
            &format!(
                "none loaded: `{}` was rejected (see the warning above); /predict answers 503",
                shown.display()
            ),
        ),
        None => ui.status(
            "Model",
            "33",
            &format!(
                "no model yet (`{}` missing): /predict answers 503 until POST /train or `netsec repro` promotes one",
                shown.display()
            ),
        ),
    }
}
