//! Running the server: bind, tell the caller where it listens and which model it loaded, serve
//! with graceful shutdown on SIGINT/SIGTERM, and keep the bundle watcher alive for as long as
//! the server runs.

use std::future::Future;

use tokio::net::TcpListener;

use crate::config::ServeConfig;
use crate::error::ServeError;
use crate::listen::{accept_loop, Limits};
use crate::routes::router;
use crate::slot::watch;
use crate::started::Started;
use crate::state::AppState;

/// `run` on a new multi-threaded tokio runtime, for callers without one (the CLI).
pub fn run_blocking(
    cfg: ServeConfig,
    on_start: impl FnOnce(&Started) + Send + 'static,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("netsec-serve")
        .build()
        .map_err(|source| ServeError::Runtime { source })?;
    runtime.block_on(run(cfg, on_start))
}

/// Binds `cfg.addr` and serves until SIGINT or SIGTERM; `on_start` is called once the address
/// is bound and the model loaded, before the first request is answered.
pub async fn run(
    cfg: ServeConfig,
    on_start: impl FnOnce(&Started) + Send + 'static,
) -> Result<(), ServeError> {
    let listener = TcpListener::bind(cfg.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: cfg.addr,
            source,
        })?;
    serve_with(listener, cfg, shutdown_signal(), on_start).await
}

/// Serves on an already bound listener until `shutdown` completes; in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    cfg: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with(listener, cfg, shutdown, |_| {}).await
}

/// [`serve`], calling `on_start` with the bound address and the loaded model first.
pub async fn serve_with(
    listener: TcpListener,
    cfg: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_start: impl FnOnce(&Started) + Send + 'static,
) -> Result<(), ServeError> {
    let interval = cfg.reload_interval;
    let state = tokio::task::spawn_blocking(move || AppState::new(cfg))
        .await
        .map_err(|e| ServeError::Serve {
            source: std::io::Error::other(e.to_string()),
        })?;
    let app = router(state.clone())?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServeError::Serve { source })?;
    tracing::debug!("netsec serve listening on http://{addr}");
    on_start(&Started {
        addr,
        url: format!("http://{addr}"),
        model: state.slot.get().map(|m| m.card.clone()),
        bundle_path: state.slot.path().to_path_buf(),
    });
    let watcher = tokio::spawn(watch(state.slot.clone(), interval));
    let limits = Limits {
        header_timeout: state.config.header_timeout,
        max_connections: state.config.max_connections,
    };
    accept_loop(listener, app, limits, shutdown).await;
    watcher.abort();
    tracing::info!("netsec serve stopped");
    Ok(())
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = term => tracing::info!("SIGTERM received, shutting down"),
    }
}
