//! netsec-serve: `netsec serve`, the HTTP face of a netsec repository — predictions from the
//! model bundle in `final_model/`, a self-contained web page, background training (`repro` as a
//! child process) and hot reload of a newly promoted model.

pub mod access;
pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod experiments;
pub mod guard;
pub mod input;
pub mod json_body;
pub mod json_rows;
pub mod listen;
pub mod model;
pub mod pages;
pub mod parse_error;
pub mod predict;
pub mod render;
pub mod routes;
pub mod server;
pub mod slot;
pub mod started;
pub mod state;
pub mod tasks;
pub mod truncate;

pub use config::ServeConfig;
pub use error::{ApiError, ServeError};
pub use routes::router;
pub use server::{run, run_blocking, serve, serve_with, shutdown_signal};
pub use started::Started;
pub use state::AppState;
