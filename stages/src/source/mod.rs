//! `Source`: where raw rows come from (a CSV file, a MongoDB collection, rows posted to the
//! server).
//!
//! A source yields a header and then rows in batches, as byte cells; `Frame::from_source`
//! parses and validates them against the schema. Typed sources (a database) format their
//! values as text, so every source goes through the same checks and error messages.

pub mod csv;
pub mod mongodb;

pub use self::csv::CsvSource;
pub use self::mongodb::MongoConfig;

use crate::error::Result;

/// One raw row: its cells, and where it came from (a 1-based line for files, a 1-based
/// document number for databases), so errors can name it.
pub type RawRecord = ::csv::ByteRecord;

/// A provider of raw rows.
pub trait Source {
    /// Where the rows come from, for messages (`data/phisingData.csv`, `mongodb://…/db.coll`).
    fn origin(&self) -> String;

    /// The column names; `None` when the source is empty (no header at all).
    fn header(&mut self) -> Result<Option<Vec<String>>>;

    /// Reads up to `max_rows` rows into `out` (cleared first, allocations reused) and returns how
    /// many were read; 0 means the end. Each record's position line is its 1-based location.
    fn next_batch(&mut self, out: &mut Vec<RawRecord>, max_rows: usize) -> Result<usize>;
}

/// The kind of source configured in `params.ingest.source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    #[default]
    Csv,
    Mongodb,
}
