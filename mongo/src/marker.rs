//! The completion marker of a load: `netsec db load` records in the database's `netsec_loads`
//! collection one document per loaded collection, `{collection, state, rows, inserted,
//! started}`, with `state = "loading"` **before** it deletes or inserts anything and
//! `"complete"` only after the last batch. A killed load therefore leaves `"loading"`, and the
//! MongoDB source refuses such a collection instead of training on part of it. A collection
//! with no marker (filled by another tool) is read as before.
//!
//! Why not a temporary collection renamed over the target: nx-27017, the test server, answers
//! `renameCollection` (with or without `dropTarget`) with `ok: 1` and renames nothing; the
//! marker works on every server. Each write of a marker deletes the old one and inserts the new
//! one (nx-27017's upsert ignores the filter's `_id`); a kill between the two leaves no marker,
//! which happens only while the collection is whole (before the load, or after it).

use mongodb::bson::{doc, Document};

use crate::connect::{Connection, OP_TIMEOUT};
use crate::error::MongoError;

/// The collection holding the markers, in the loaded collection's database.
pub const MARKERS: &str = "netsec_loads";

/// What a marker says.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub state: String,
    /// Rows the load was to insert.
    pub rows: i64,
    /// Rows inserted (final when complete).
    pub inserted: i64,
    /// Seconds since the epoch when the load started.
    pub started: i64,
}

fn markers(conn: &Connection, database: &str) -> mongodb::Collection<Document> {
    conn.client().database(database).collection(MARKERS)
}

/// Replaces the marker of `collection`.
pub fn write(
    conn: &Connection,
    database: &str,
    collection: &str,
    m: &Marker,
) -> Result<(), MongoError> {
    let namespace = format!("{database}.{MARKERS}");
    let c = markers(conn, database);
    let name = collection.to_string();
    let d = doc! {
        "collection": collection,
        "state": m.state.as_str(),
        "rows": m.rows,
        "inserted": m.inserted,
        "started": m.started,
    };
    conn.run(
        "write the load marker",
        &namespace,
        OP_TIMEOUT,
        async move {
            c.delete_many(doc! { "collection": name }).await?;
            c.insert_one(d).await.map(|_| ())
        },
    )
}

/// The marker of `collection`, if one was written.
pub fn read(
    conn: &Connection,
    database: &str,
    collection: &str,
) -> Result<Option<Marker>, MongoError> {
    let namespace = format!("{database}.{MARKERS}");
    let c = markers(conn, database);
    let name = collection.to_string();
    let found = conn.run("read the load marker", &namespace, OP_TIMEOUT, async move {
        c.find_one(doc! { "collection": name }).await
    })?;
    Ok(found.map(|d| {
        let num = |k: &str| {
            d.get_i64(k)
                .or_else(|_| d.get_i32(k).map(i64::from))
                .unwrap_or(0)
        };
        Marker {
            state: d.get_str("state").unwrap_or("").to_string(),
            rows: num("rows"),
            inserted: num("inserted"),
            started: num("started"),
        }
    }))
}

/// Refuses a collection whose last `netsec db load` did not finish.
pub fn check_complete(
    conn: &Connection,
    database: &str,
    collection: &str,
) -> Result<(), MongoError> {
    match read(conn, database, collection)? {
        Some(m) if m.state != "complete" => Err(MongoError::IncompleteLoad {
            namespace: format!("{database}.{collection}"),
            hosts: conn.hosts().to_string(),
            rows: m.rows,
            started: m.started,
        }),
        _ => Ok(()),
    }
}
