//! `Started`: what the server tells its caller once it listens, so the CLI can print the real
//! address (with `--addr 127.0.0.1:0` the kernel picks the port) and the model it serves.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::model::ModelCard;

/// The bound address and the model loaded at start.
#[derive(Debug, Clone)]
pub struct Started {
    /// The address actually bound (`listener.local_addr()`).
    pub addr: SocketAddr,
    /// `http://ADDR`.
    pub url: String,
    /// The model card, or `None` when no bundle loaded (missing, or rejected: then a warning
    /// saying why was already logged).
    pub model: Option<ModelCard>,
    /// The bundle file the server loads and watches.
    pub bundle_path: PathBuf,
}

impl Started {
    /// The test F1 of the loaded model, when its card has one.
    pub fn test_f1(&self) -> Option<f64> {
        self.model.as_ref()?.metrics.as_ref()?.get("f1")?.as_f64()
    }
}
