//! netsec-mongo: a MongoDB collection as a `netsec_stages::Source` for the ingest stage, and the
//! batched loader behind `netsec db load`.
//!
//! The connection URI comes from an environment variable and lives only in memory: it is never
//! stored, logged or put in an error (see [`error::Scrub`]). Every wait is bounded: connecting and
//! server selection by the configured timeout (≤ 10 s), each batch by [`connect::OP_TIMEOUT`].

pub mod cells;
pub mod connect;
pub mod error;
pub mod load;
pub mod marker;
pub mod source;

pub use connect::Connection;
pub use error::MongoError;
pub use load::{load_frame, LoadOptions, LoadReport};
pub use source::MongoSource;
