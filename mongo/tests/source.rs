//! `MongoSource` and the loader against a real server (nx-27017 from scripts/services.sh).
//!
//! Skipped with a note when `MONGODB_URI` is unset, failed when `NETSEC_REQUIRE_SERVICES=1`.
//! Each test uses its own database, dropped at the end.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mongodb::bson::{doc, Bson, Document};
use netsec_mongo::connect::OP_TIMEOUT;
use netsec_mongo::load::row_id;
use netsec_mongo::{load_frame, Connection, LoadOptions, MongoSource};
use netsec_stages::source::{MongoConfig, RawRecord, Source};
use netsec_stages::{ErrorKind, Frame, LabelMode, Problem, Schema, StageError};

const SCHEMA: &str = "
version: 1
target: { column: label, labels: { bad: -1, good: 1 }, positive: bad }
columns:
  - { name: a, dtype: int64, allowed: [-1, 0, 1], nullable: false }
  - { name: b, dtype: int64, nullable: true }
  - { name: x, dtype: float64, nullable: true }
";

fn uri() -> Option<String> {
    match std::env::var("MONGODB_URI") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ if std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("NETSEC_REQUIRE_SERVICES=1 but MONGODB_URI is unset: run `eval \"$(scripts/services.sh start mongo)\"`")
        }
        _ => {
            eprintln!("note: MONGODB_URI is unset, skipping (eval \"$(scripts/services.sh start mongo)\" to run)");
            None
        }
    }
}

fn schema() -> Schema {
    Schema::from_yaml_str(SCHEMA, Path::new("test-schema.yaml")).expect("schema")
}

/// A database of its own for one test, dropped when it goes out of scope.
struct Scratch {
    conn: Connection,
    db: String,
}

impl Scratch {
    fn new(uri: &str, tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let db = format!(
            "netsec_t_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let conn = Connection::open(uri, "MONGODB_URI", Duration::from_secs(5)).expect("connect");
        Scratch { conn, db }
    }

    fn insert(&self, coll: &str, docs: Vec<Document>) {
        let c = self
            .conn
            .client()
            .database(&self.db)
            .collection::<Document>(coll);
        self.conn
            .run("insert", coll, OP_TIMEOUT, async move {
                c.insert_many(docs).await
            })
            .expect("insert");
    }

    fn config(&self, coll: &str) -> MongoConfig {
        MongoConfig {
            database: self.db.clone(),
            collection: coll.into(),
            ..MongoConfig::default()
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let db = self.conn.client().database(&self.db);
        let _ = self
            .conn
            .run("drop", &self.db, OP_TIMEOUT, async move { db.drop().await });
    }
}

fn read(cfg: &MongoConfig, uri: &str) -> Result<Frame, StageError> {
    let schema = schema();
    let mut src = MongoSource::open(cfg, uri, &schema).map_err(|e| e.into_stage_error("test"))?;
    Frame::from_source(&mut src, &schema, LabelMode::Required)
}

fn problems(e: StageError) -> (String, Vec<Problem>) {
    match e {
        StageError::Data { origin, problems } => (origin, problems),
        other => panic!("expected a data error, got {other}"),
    }
}

#[test]
fn numbers_are_coerced_by_dtype_and_id_is_dropped() {
    let Some(uri) = uri() else { return };
    let s = Scratch::new(&uri, "types");
    s.insert(
        "rows",
        vec![
            // Field order differs from the schema's; _id sorts the rows.
            doc! { "_id": 2, "label": 1, "x": 2.5, "b": Bson::Int64(7), "a": 1.0 },
            doc! { "_id": 1, "a": Bson::Int32(-1), "b": Bson::Null, "x": 3, "label": -1 },
            // (NaN → missing is covered by the unit tests: nx-27017 cannot store a NaN.)
            doc! { "_id": 3, "a": 0, "label": Bson::Int64(1) },
        ],
    );
    let f = read(&s.config("rows"), &uri).expect("frame");
    assert_eq!(f.n_rows(), 3);
    assert_eq!(f.features.row(0).to_vec()[..1], [-1.0]);
    assert!(f.features[[0, 1]].is_nan(), "null → missing");
    assert_eq!(f.features[[0, 2]], 3.0);
    assert_eq!(f.features.row(1).to_vec(), vec![1.0, 7.0, 2.5]);
    assert!(f.features[[2, 1]].is_nan(), "absent → missing");
    assert!(f.features[[2, 2]].is_nan(), "absent → missing");
    assert_eq!(f.labels, Some(vec![-1, 1, 1]));
    assert_eq!(f.lines, vec![1, 2, 3], "lines are document numbers");
    assert!(f
        .to_csv_string()
        .expect("csv")
        .starts_with("a,b,x,label\n-1,,3,-1\n"));
}

#[test]
fn bad_documents_name_document_and_field() {
    let Some(uri) = uri() else { return };
    let s = Scratch::new(&uri, "bad");
    s.insert(
        "frac",
        vec![
            doc! { "_id": 1, "a": 1, "label": 1 },
            doc! { "_id": 2, "a": 2.5, "label": 1 },
        ],
    );
    let (origin, p) = problems(read(&s.config("frac"), &uri).expect_err("2.5"));
    assert!(origin.contains(&format!("{}.frac", s.db)), "{origin}");
    assert!(!origin.contains("mongodb://mongodb"), "{origin}");
    assert!(
        matches!(&p[..], [Problem::WrongType { column, line: 2, value, .. }] if column == "a" && value == "2.5"),
        "{p:?}"
    );

    s.insert("missing", vec![doc! { "_id": 1, "b": 1, "label": 1 }]);
    let (_, p) = problems(read(&s.config("missing"), &uri).expect_err("missing a"));
    assert!(
        matches!(&p[..], [Problem::MissingCell { column, line: 1, .. }] if column == "a"),
        "{p:?}"
    );

    s.insert(
        "extra",
        vec![
            doc! { "_id": 1, "a": 1, "label": 1 },
            doc! { "_id": 2, "a": 1, "label": 1, "note": "hi" },
        ],
    );
    let e = read(&s.config("extra"), &uri).expect_err("extra field");
    assert_eq!(e.kind(), ErrorKind::Rejected);
    let (origin, p) = problems(e);
    assert!(origin.ends_with("document 2"), "{origin}");
    assert!(
        matches!(&p[..], [Problem::ExtraColumn { column }] if column == "note"),
        "{p:?}"
    );
    // A projection can leave the extra field out.
    let mut cfg = s.config("extra");
    cfg.projection = Some(serde_json::from_str(r#"{"note": 0}"#).expect("json"));
    assert_eq!(read(&cfg, &uri).expect("projected").n_rows(), 2);

    s.insert("text", vec![doc! { "_id": 1, "a": "1", "label": 1 }]);
    let (_, p) = problems(read(&s.config("text"), &uri).expect_err("string"));
    assert!(
        matches!(&p[..], [Problem::WrongType { value, .. }] if value == "\"1\""),
        "{p:?}"
    );
}

#[test]
fn batches_cross_cursor_boundaries_in_id_order_and_filters_apply() {
    let Some(uri) = uri() else { return };
    let s = Scratch::new(&uri, "batch");
    // Inserted out of order, with the loader's row ids: the source must return _id order.
    let ids = [7u64, 3, 10, 1, 9, 2, 8, 4, 6, 5];
    s.insert(
        "rows",
        ids.iter()
            .map(|&i| {
                let b = i as i32;
                doc! { "_id": row_id(1_700_000_000, i), "a": if i % 2 == 0 { 1 } else { -1 }, "b": b, "label": 1 }
            })
            .collect(),
    );
    let mut cfg = s.config("rows");
    cfg.batch_size = 3;
    let mut src = MongoSource::open(&cfg, &uri, &schema()).expect("open");
    assert_eq!(
        src.header().expect("header"),
        Some(vec!["a".into(), "b".into(), "x".into(), "label".into()])
    );
    let mut batch: Vec<RawRecord> = Vec::new();
    let mut sizes = Vec::new();
    let mut bs = Vec::new();
    loop {
        let n = src.next_batch(&mut batch, 4).expect("batch");
        if n == 0 {
            break;
        }
        sizes.push(n);
        bs.extend(
            batch
                .iter()
                .map(|r| String::from_utf8_lossy(&r[1]).into_owned()),
        );
    }
    assert_eq!(sizes, vec![4, 4, 2]);
    assert_eq!(bs, (1..=10).map(|i| i.to_string()).collect::<Vec<_>>());
    assert_eq!(src.documents_read(), 10);
    assert_eq!(src.next_batch(&mut batch, 4).expect("after the end"), 0);

    cfg.query = Some(serde_json::from_str(r#"{"a": 1, "b": {"$gt": 4}}"#).expect("json"));
    let f = read(&cfg, &uri).expect("filtered");
    assert_eq!(f.features.column(1).to_vec(), vec![6.0, 8.0, 10.0]);
}

#[test]
fn loader_round_trips_a_csv_and_refuses_a_second_load() {
    let Some(uri) = uri() else { return };
    let s = Scratch::new(&uri, "load");
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "label,x,b,a\n1,0.25,,1\n-1,3,5,0\n1,,-7,-1\n").expect("write");
    let frame = Frame::read_csv(&csv, &schema(), LabelMode::Required).expect("csv");
    let mut opts = LoadOptions {
        database: s.db.clone(),
        collection: "rows".into(),
        batch_size: 2,
        replace: false,
        timeout: Duration::from_secs(5),
    };
    let r = load_frame(&uri, "MONGODB_URI", &frame, &opts).expect("load");
    assert_eq!((r.read, r.deleted, r.inserted), (3, 0, 3));
    let back = read(&s.config("rows"), &uri).expect("read back");
    assert_eq!(
        back.to_csv_string().expect("csv"),
        frame.to_csv_string().expect("csv")
    );

    let e = load_frame(&uri, "MONGODB_URI", &frame, &opts).expect_err("second load");
    assert!(e.to_string().contains("already holds 3 documents"), "{e}");
    assert!(e.hint().unwrap_or_default().contains("--replace"));
    opts.replace = true;
    let r = load_frame(&uri, "MONGODB_URI", &frame, &opts).expect("replace");
    assert_eq!((r.deleted, r.inserted), (3, 3));
}

#[test]
fn unreachable_server_fails_within_the_timeout_without_credentials() {
    // Needs no server: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let uri = format!("mongodb://alice:pw-Secret-42@127.0.0.1:{port}/?directConnection=true");
    let cfg = MongoConfig {
        database: "db".into(),
        collection: "coll".into(),
        timeout_ms: 1500,
        ..MongoConfig::default()
    };
    let started = Instant::now();
    let e = MongoSource::open(&cfg, &uri, &schema()).expect_err("nobody listens");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let (text, hint) = (e.to_string(), e.hint());
    let shown = format!("{text} {hint:?} {}", e.into_stage_error("db.coll"));
    assert!(
        !shown.contains("pw-Secret-42") && !shown.contains("alice"),
        "{shown}"
    );
    assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");

    let missing = MongoSource::from_env(&cfg, &|_| None, &schema()).expect_err("no env");
    assert!(missing.to_string().contains("MONGODB_URI"));
    assert_eq!(missing.kind(), ErrorKind::Invalid);
}
