//! `MongoSource`: a collection read through a batched cursor as a `netsec_stages::Source`.
//!
//! - Header: the schema's columns (features, then the label) in schema order. Documents are
//!   looked up by field name, so field order inside a document does not matter.
//! - `_id` is dropped. A field the schema does not know is an error naming the document and the
//!   field (exclude it with `projection` if it is expected). A missing or null field is an empty
//!   cell, checked by the frame like an empty CSV cell (rejected unless the column is nullable).
//! - Order: sorted by `_id`, so reruns read the same rows in the same order and write
//!   byte-identical outs (early cut-off depends on it). `netsec db load` builds each `_id` from
//!   the row number, so the order is the file's; ObjectIds inserted by a driver sort by creation
//!   time, then process and counter. (nx-27017, the test server, sorts numeric `_id`s as text.)
//! - A collection whose last `netsec db load` did not finish (its marker in `netsec_loads` says
//!   `loading`, see `marker.rs`) is refused before any document is read.
//! - Memory: one cursor batch (`batch_size` documents) at a time, plus the frame being built.
//! - Positions: a record's "line" is its 1-based document number in that order.

use std::collections::HashMap;
use std::time::Duration;

use mongodb::bson::{doc, Bson, Document, RawDocument, RawDocumentBuf};
use mongodb::Cursor;
use netsec_stages::source::{MongoConfig, RawRecord, Source};
use netsec_stages::{Dtype, Problem, Schema, StageError};
use serde_json::{Map, Value};

use crate::cells::write_cell;
use crate::connect::{Connection, OP_TIMEOUT};
use crate::error::MongoError;

/// A MongoDB collection as a source of raw rows.
pub struct MongoSource {
    cursor: Option<Cursor<RawDocumentBuf>>,
    rows: RowBuilder,
    namespace: String,
    /// `mongodb://host:port/db.coll`: no credentials, ever.
    plain_origin: String,
    conn: Connection,
}

impl std::fmt::Debug for MongoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoSource")
            .field("origin", &self.plain_origin)
            .finish_non_exhaustive()
    }
}

/// Turns documents into records of the schema's columns.
struct RowBuilder {
    names: Vec<String>,
    dtypes: Vec<Dtype>,
    slot: HashMap<String, usize>,
    cells: Vec<Vec<u8>>,
    /// Documents read so far (the next one is `doc_no + 1`).
    doc_no: usize,
    header_read: bool,
}

/// Why a document could not become a record.
enum BadDoc {
    Extra(Vec<String>),
    Malformed(String),
}

impl RowBuilder {
    fn new(schema: &Schema) -> RowBuilder {
        let mut names: Vec<String> = schema.columns.iter().map(|c| c.name.clone()).collect();
        let mut dtypes: Vec<Dtype> = schema.columns.iter().map(|c| c.dtype).collect();
        names.push(schema.target.column.clone());
        dtypes.push(Dtype::Int64);
        let slot = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        let cells = vec![Vec::new(); names.len()];
        RowBuilder {
            names,
            dtypes,
            slot,
            cells,
            doc_no: 0,
            header_read: false,
        }
    }

    fn push(&mut self, doc: &RawDocument, rec: &mut RawRecord) -> Result<(), BadDoc> {
        self.doc_no += 1;
        self.cells.iter_mut().for_each(Vec::clear);
        let mut extra = Vec::new();
        for elem in doc {
            let (key, value) = elem.map_err(|e| BadDoc::Malformed(e.to_string()))?;
            if key == "_id" {
                continue;
            }
            match self.slot.get(key) {
                Some(&k) => write_cell(value, self.dtypes[k], &mut self.cells[k]),
                None => extra.push(key.to_string()),
            }
        }
        if !extra.is_empty() {
            return Err(BadDoc::Extra(extra));
        }
        rec.clear();
        for c in &self.cells {
            rec.push_field(c);
        }
        let mut pos = ::csv::Position::new();
        pos.set_line(self.doc_no as u64)
            .set_record(self.doc_no as u64 - 1);
        rec.set_position(Some(pos));
        Ok(())
    }
}

/// A params table (TOML → JSON) as a BSON document, read like extended JSON.
pub fn to_document(
    map: &Map<String, Value>,
    key: &str,
    namespace: &str,
) -> Result<Document, MongoError> {
    let bad = |detail: String| MongoError::Config {
        namespace: namespace.to_string(),
        key: key.to_string(),
        detail,
    };
    match Bson::try_from(Value::Object(map.clone())) {
        Ok(Bson::Document(d)) => Ok(d),
        Ok(other) => Err(bad(format!(
            "expected a table, found {:?}",
            other.element_type()
        ))),
        Err(e) => Err(bad(e.to_string())),
    }
}

impl MongoSource {
    /// Reads the URI from the environment variable `cfg.uri_env` through `env` (the engine's
    /// snapshot of the environment), then [`MongoSource::open`].
    pub fn from_env(
        cfg: &MongoConfig,
        env: &dyn Fn(&str) -> Option<String>,
        schema: &Schema,
    ) -> Result<MongoSource, MongoError> {
        let uri = env(&cfg.uri_env)
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| MongoError::UriMissing {
                name: cfg.uri_env.clone(),
            })?;
        MongoSource::open(cfg, uri.trim(), schema)
    }

    /// Connects (bounded by `cfg.timeout_ms`) and opens the cursor: documents matching
    /// `cfg.query`, sorted by `_id`, `cfg.batch_size` per round trip.
    pub fn open(cfg: &MongoConfig, uri: &str, schema: &Schema) -> Result<MongoSource, MongoError> {
        let namespace = cfg.namespace();
        cfg.check().map_err(|e| MongoError::Config {
            namespace: namespace.clone(),
            key: "mongodb".into(),
            detail: e.to_string(),
        })?;
        let filter = match &cfg.query {
            Some(q) => to_document(q, "query", &namespace)?,
            None => Document::new(),
        };
        let projection = match &cfg.projection {
            Some(p) => Some(to_document(p, "projection", &namespace)?),
            None => None,
        };
        let conn = Connection::open(uri, &cfg.uri_env, Duration::from_millis(cfg.timeout_ms))?;
        crate::marker::check_complete(&conn, &cfg.database, &cfg.collection)?;
        let coll = conn
            .client()
            .database(&cfg.database)
            .collection::<RawDocumentBuf>(&cfg.collection);
        let batch = cfg.batch_size;
        let cursor = conn.run("find", &namespace, OP_TIMEOUT, async move {
            let mut find = coll.find(filter).sort(doc! { "_id": 1 }).batch_size(batch);
            if let Some(p) = projection {
                find = find.projection(p);
            }
            find.await
        })?;
        let plain_origin = format!("mongodb://{}/{namespace}", conn.hosts());
        Ok(MongoSource {
            cursor: Some(cursor),
            rows: RowBuilder::new(schema),
            namespace,
            plain_origin,
            conn,
        })
    }

    /// Documents read so far.
    pub fn documents_read(&self) -> usize {
        self.rows.doc_no
    }

    /// `mongodb://host:port/db.coll`, for I/O messages.
    pub fn location(&self) -> &str {
        &self.plain_origin
    }
}

impl Source for MongoSource {
    fn origin(&self) -> String {
        format!(
            "{} (line = document number in _id order)",
            self.plain_origin
        )
    }

    fn header(&mut self) -> netsec_stages::Result<Option<Vec<String>>> {
        self.rows.header_read = true;
        Ok(Some(self.rows.names.clone()))
    }

    fn next_batch(
        &mut self,
        out: &mut Vec<RawRecord>,
        max_rows: usize,
    ) -> netsec_stages::Result<usize> {
        if !self.rows.header_read {
            self.header()?;
        }
        let Some(mut cursor) = self.cursor.take() else {
            out.clear();
            return Ok(0);
        };
        let rows = &mut self.rows;
        let mut n = 0;
        let mut bad = None;
        let fetched = self
            .conn
            .run("getMore", &self.namespace, OP_TIMEOUT, async {
                while n < max_rows {
                    if !cursor.advance().await? {
                        return Ok(false);
                    }
                    if out.len() <= n {
                        out.push(RawRecord::new());
                    }
                    if let Err(b) = rows.push(cursor.current(), &mut out[n]) {
                        bad = Some(b);
                        return Ok(false);
                    }
                    n += 1;
                }
                Ok(true)
            });
        out.truncate(n);
        // The cursor goes back only when more may follow; otherwise it is dropped here, inside
        // the runtime, whatever happened.
        if bad.is_none() && matches!(fetched, Ok(true)) {
            self.cursor = Some(cursor);
        } else {
            let _in_rt = self.conn.enter();
            drop(cursor);
        }
        fetched.map_err(|e| e.into_stage_error(&self.plain_origin))?;
        match bad {
            Some(BadDoc::Extra(fields)) => {
                return Err(StageError::Data {
                    origin: format!("{} document {}", self.plain_origin, self.rows.doc_no),
                    problems: fields
                        .into_iter()
                        .map(|column| Problem::ExtraColumn { column })
                        .collect(),
                })
            }
            Some(BadDoc::Malformed(detail)) => {
                return Err(StageError::Read {
                    path: self.plain_origin.clone().into(),
                    source: std::io::Error::other(format!(
                        "document {}: malformed BSON: {detail}",
                        self.rows.doc_no
                    )),
                })
            }
            None => {}
        }
        Ok(n)
    }
}

impl Drop for MongoSource {
    fn drop(&mut self) {
        // An unfinished cursor sends killCursors from a task: it needs the runtime.
        let _in_rt = self.conn.enter();
        drop(self.cursor.take());
    }
}
