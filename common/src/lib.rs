//! Helpers shared by every netsec crate, one concept per module. A leaf crate: the engine and
//! the domain crates both use it, and it knows neither.

#![cfg_attr(test, allow(clippy::unwrap_used, reason = "tests may unwrap"))]

pub mod atomic;
pub mod bounded_read;
pub mod canonical;
pub mod dotted;
pub mod git;
pub mod html;
pub mod printable;
pub mod redact;
pub mod yaml_depth;

pub use atomic::{write_atomic, write_json_atomic, Durability};
pub use bounded_read::{read_regular, read_regular_string, BoundedReadError};
pub use printable::printable;
pub use redact::{redact_uri, redact_uris_in};
pub use yaml_depth::yaml_too_deep;
