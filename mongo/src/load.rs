//! `load`: a validated table into a collection, in batches (`netsec db load`, the template's
//! `push_data.py`).
//!
//! Each row becomes one document: `_id`, then the schema's columns in schema order, with int64
//! columns stored as Int32 (Int64 only for values beyond 32 bits), float64 columns as Double and
//! empty cells as Null.
//!
//! `_id` is an ObjectId made of the load's timestamp (4 bytes) and the 1-based row number (8
//! bytes, big-endian), so `_id` order is file order, which the source reads back in. Not a plain
//! integer: nx-27017, the test server, sorts numeric `_id`s as text (1, 10, 2, …), while
//! ObjectIds sort the same as bytes and as hex everywhere.
//!
//! A second load into a non-empty collection would mix two files, so it is refused up front;
//! `replace` empties the collection first, which makes reruns idempotent. The load is marked
//! unfinished before the first delete or insert and complete after the last batch
//! (`marker.rs`), so a killed load is refused by ingest rather than read in part.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document};
use netsec_stages::{Dtype, Frame};

use crate::connect::{Connection, OP_TIMEOUT};
use crate::error::MongoError;
use crate::marker::{self, Marker};

/// Where and how to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub database: String,
    pub collection: String,
    /// Documents per `insert_many`.
    pub batch_size: usize,
    /// Delete every document of the collection before inserting.
    pub replace: bool,
    /// Bound on connecting and selecting a server.
    pub timeout: Duration,
}

/// What a load did.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadReport {
    /// Rows read from the table.
    pub read: usize,
    /// Documents deleted first (`replace`).
    pub deleted: u64,
    pub inserted: usize,
    /// Wall time of the whole load, connect included.
    pub seconds: f64,
}

/// Loads `frame` into `opts.database`.`opts.collection` at `uri` (read from `uri_env`, which
/// errors name instead of the URI).
pub fn load_frame(
    uri: &str,
    uri_env: &str,
    frame: &Frame,
    opts: &LoadOptions,
) -> Result<LoadReport, MongoError> {
    let started = Instant::now();
    let namespace = format!("{}.{}", opts.database, opts.collection);
    if opts.database.is_empty() || opts.collection.is_empty() || opts.batch_size == 0 {
        return Err(MongoError::Config {
            namespace,
            key: "database/collection/batch_size".into(),
            detail: "database and collection must be named, batch size at least 1".into(),
        });
    }
    let conn = Connection::open(uri, uri_env, opts.timeout)?;
    let coll = conn
        .client()
        .database(&opts.database)
        .collection::<Document>(&opts.collection);
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let rows = frame.n_rows();
    let mut marker = Marker {
        state: "loading".into(),
        rows: rows as i64,
        inserted: 0,
        started: i64::from(stamp),
    };
    let mut deleted = 0;
    if opts.replace {
        // Marked unfinished before anything is deleted: from here until the marker says
        // complete, ingest refuses the collection.
        marker::write(&conn, &opts.database, &opts.collection, &marker)?;
        let c = coll.clone();
        deleted = conn
            .run("delete", &namespace, OP_TIMEOUT, async move {
                c.delete_many(doc! {}).await
            })?
            .deleted_count;
    } else {
        let present = conn.count(&opts.database, &opts.collection)?;
        if present > 0 {
            return Err(MongoError::Operation {
                op: "load",
                namespace,
                hosts: conn.hosts().to_string(),
                detail: format!(
                    "the collection already holds {present} documents (loads are keyed by row number)"
                ),
                code: Some(11000),
            });
        }
        marker::write(&conn, &opts.database, &opts.collection, &marker)?;
    }
    let mut inserted = 0;
    let mut start = 0;
    while start < rows {
        let end = (start + opts.batch_size).min(rows);
        let docs: Vec<Document> = (start..end)
            .map(|i| row_document(frame, i, stamp))
            .collect();
        let c = coll.clone();
        let result = conn.run("insert", &namespace, OP_TIMEOUT, async move {
            c.insert_many(docs).ordered(true).await
        })?;
        inserted += result.inserted_ids.len();
        start = end;
    }
    marker.state = "complete".into();
    marker.inserted = inserted as i64;
    marker::write(&conn, &opts.database, &opts.collection, &marker)?;
    Ok(LoadReport {
        read: rows,
        deleted,
        inserted,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The `_id` of 1-based row `row` of a load started at `stamp` (seconds since the epoch).
pub fn row_id(stamp: u32, row: u64) -> ObjectId {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&stamp.to_be_bytes());
    b[4..].copy_from_slice(&row.to_be_bytes());
    ObjectId::from_bytes(b)
}

/// Row `i` (0-based) of `frame` as a document (see the module docs for the types).
pub fn row_document(frame: &Frame, i: usize, stamp: u32) -> Document {
    let mut d = Document::new();
    d.insert("_id", row_id(stamp, i as u64 + 1));
    let row = frame.features.row(i);
    for ((name, dtype), v) in frame.feature_names.iter().zip(&frame.dtypes).zip(row) {
        d.insert(name.as_str(), number(f64::from(*v), *dtype));
    }
    if let Some(labels) = &frame.labels {
        d.insert(
            frame.label_name.as_str(),
            number(labels[i] as f64, Dtype::Int64),
        );
    }
    d
}

fn number(v: f64, dtype: Dtype) -> Bson {
    if v.is_nan() {
        return Bson::Null;
    }
    match dtype {
        Dtype::Int64 if v >= i32::MIN as f64 && v <= i32::MAX as f64 => Bson::Int32(v as i32),
        Dtype::Int64 => Bson::Int64(v as i64),
        Dtype::Float64 => Bson::Double(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_dtype() {
        assert_eq!(number(-1.0, Dtype::Int64), Bson::Int32(-1));
        assert_eq!(number(5e9, Dtype::Int64), Bson::Int64(5_000_000_000));
        assert_eq!(number(0.5, Dtype::Float64), Bson::Double(0.5));
        assert_eq!(number(f64::NAN, Dtype::Int64), Bson::Null);
    }

    #[test]
    fn ids_sort_by_row_as_bytes_and_as_hex() {
        let ids: Vec<ObjectId> = [1u64, 2, 9, 10, 255, 256, 11055]
            .iter()
            .map(|&r| row_id(1_700_000_000, r))
            .collect();
        let mut by_hex = ids.clone();
        by_hex.sort_by_key(|o| o.to_hex());
        assert_eq!(by_hex, ids);
        let mut by_bytes = ids.clone();
        by_bytes.sort_by_key(|o| o.bytes());
        assert_eq!(by_bytes, ids);
    }
}
