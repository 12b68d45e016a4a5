//! The MongoDB source through the real binary: `netsec db load` of the bundled CSV, then
//! `netsec repro` of the repository's own pipeline with `ingest.source = "mongodb"`.
//!
//! Needs a server (`eval "$(scripts/services.sh start mongo)"`): skipped with a note when
//! `MONGODB_URI` is unset, failed when `NETSEC_REQUIRE_SERVICES=1`. The unreachable-server
//! tests need none. The pipeline runs up to `transform` (its upstream: ingest, validate), which
//! covers the early cut-off; train and later read nothing a source could change.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netsec_protocol::ReproLine;
use serde_json::Value;

const SECRET: &str = "pw-Secret-4242";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mongo_uri() -> Option<String> {
    match std::env::var("MONGODB_URI") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ if std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() == Ok("1") => panic!(
            "NETSEC_REQUIRE_SERVICES=1 but MONGODB_URI is unset: run `eval \"$(scripts/services.sh start mongo)\"`"
        ),
        _ => {
            eprintln!("note: MONGODB_URI is unset, skipping (eval \"$(scripts/services.sh start mongo)\" to run)");
            None
        }
    }
}

/// A database name of this test run's own.
fn unique_db(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "netsec_it_{tag}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh workspace with what a clone has: pipeline, schema, ignore file, data.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["pipeline.toml", "schema.yaml", ".dvcignore"] {
        std::fs::copy(repo_root().join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("data")).expect("mkdir");
    std::fs::copy(
        repo_root().join("data/phisingData.csv"),
        dir.path().join("data/phisingData.csv"),
    )
    .expect("copy data");
    dir
}

/// Turns the workspace's ingest into a MongoDB ingest of `db`.`coll`: no CSV dep, the
/// `[params.ingest.mongodb]` table tracked.
fn use_mongo(dir: &Path, db: &str, coll: &str, extra: &str) {
    let p = dir.join("pipeline.toml");
    let mut text = std::fs::read_to_string(&p).expect("read pipeline");
    for (from, to) in [
        ("source = \"csv\"", "source = \"mongodb\""),
        (
            "deps = [\"data/phisingData.csv\", \"schema.yaml\"]",
            "deps = [\"schema.yaml\"]",
        ),
        (
            "params = [\"ingest.source\",",
            "params = [\"ingest.mongodb\", \"ingest.source\",",
        ),
    ] {
        assert!(text.contains(from), "pipeline.toml lacks {from:?}");
        text = text.replacen(from, to, 1);
    }
    text.push_str(&format!(
        "\n[params.ingest.mongodb]\ndatabase = \"{db}\"\ncollection = \"{coll}\"\n{extra}\n"
    ));
    std::fs::write(&p, text).expect("write pipeline");
}

fn netsec(dir: &Path, args: &[&str], uri: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netsec"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("MLFLOW_TRACKING_URI")
        .env_remove("MONGODB_URI");
    if let Some(u) = uri {
        cmd.env("MONGODB_URI", u);
    }
    cmd.output().expect("run netsec")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn all(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// `repro --json` events: (stage, outcome).
fn outcomes(out: &Output) -> Vec<(String, String)> {
    ReproLine::outcomes(&text(&out.stdout))
        .unwrap_or_else(|e| panic!("`repro --json` stdout is not the protocol ({e})"))
        .into_iter()
        .map(|(stage, outcome)| (stage, outcome.as_str().to_string()))
        .collect()
}

fn lock(dir: &Path) -> Value {
    let s = std::fs::read_to_string(dir.join("netsec.lock")).expect("lock");
    serde_json::from_str(&s).expect("lock json")
}

fn load(dir: &Path, uri: &str, db: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "db",
        "load",
        "--database",
        db,
        "--collection",
        "phishing",
        "data/phisingData.csv",
    ];
    args.extend_from_slice(extra);
    netsec(dir, &args, Some(uri))
}

#[test]
fn mongo_ingest_equals_csv_ingest_and_cuts_off_downstream() {
    let Some(uri) = mongo_uri() else { return };
    let db = unique_db("e2e");
    let csv_ws = workspace();
    let mongo_ws = workspace();

    // Load: 11,055 rows, twice with --replace (idempotent), refused without it.
    let started = Instant::now();
    let out = load(mongo_ws.path(), &uri, &db, &["--replace"]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    eprintln!("db load: {:.2} s", started.elapsed().as_secs_f64());
    assert!(
        text(&out.stdout).contains("read 11055 rows, deleted 0 documents, inserted 11055"),
        "{}",
        all(&out)
    );
    let out = load(
        mongo_ws.path(),
        &uri,
        &db,
        &["--replace", "--batch-size", "4000"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    assert!(
        text(&out.stdout).contains("deleted 11055 documents, inserted 11055"),
        "{}",
        all(&out)
    );
    let out = load(mongo_ws.path(), &uri, &db, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(all(&out).contains("--replace"), "{}", all(&out));

    // The same pipeline up to transform, from the CSV and from the collection.
    let t = Instant::now();
    let csv_run = netsec(csv_ws.path(), &["repro", "transform", "--json"], None);
    assert_eq!(csv_run.status.code(), Some(0), "{}", all(&csv_run));
    let csv_secs = t.elapsed().as_secs_f64();
    use_mongo(mongo_ws.path(), &db, "phishing", "batch_size = 500");
    let t = Instant::now();
    let mongo_run = netsec(
        mongo_ws.path(),
        &["repro", "transform", "--json"],
        Some(&uri),
    );
    assert_eq!(mongo_run.status.code(), Some(0), "{}", all(&mongo_run));
    eprintln!(
        "repro up to transform: csv {csv_secs:.2} s, mongo {:.2} s",
        t.elapsed().as_secs_f64()
    );
    for f in ["feature_store.csv", "train.csv", "test.csv", "split.json"] {
        let a = std::fs::read(csv_ws.path().join("artifacts/ingest").join(f)).expect("csv out");
        let b = std::fs::read(mongo_ws.path().join("artifacts/ingest").join(f)).expect("mongo out");
        assert!(
            a == b,
            "artifacts/ingest/{f} differs between the CSV and MongoDB sources"
        );
    }
    let (lc, lm) = (lock(csv_ws.path()), lock(mongo_ws.path()));
    assert_eq!(
        lc["stages"]["ingest"]["outs"], lm["stages"]["ingest"]["outs"],
        "ingest out digests"
    );
    for stage in ["validate", "transform"] {
        assert_eq!(
            lc["stages"][stage]["fingerprint"]["deps"], lm["stages"][stage]["fingerprint"]["deps"],
            "{stage} dep digests"
        );
        assert_eq!(
            lc["stages"][stage]["outs"], lm["stages"][stage]["outs"],
            "{stage} out digests"
        );
    }

    // Status says why ingest is dirty although nothing on disk changed.
    let st = netsec(mongo_ws.path(), &["status", "--json"], Some(&uri));
    let st: Value = serde_json::from_slice(&st.stdout).expect("status json");
    let ingest = st["stages"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["stage"] == "ingest"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(ingest["status"], "dirty", "{st}");
    assert!(
        ingest["reasons"].to_string().contains("always_changed"),
        "{st}"
    );

    // Second repro: ingest reads the collection again, writes the same bytes, the rest is skipped.
    let again = netsec(
        mongo_ws.path(),
        &["repro", "transform", "--json"],
        Some(&uri),
    );
    assert_eq!(again.status.code(), Some(0), "{}", all(&again));
    let got = outcomes(&again);
    let outcome = |s: &str| {
        got.iter()
            .find(|(n, _)| n == s)
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    };
    assert_eq!(outcome("ingest"), "ran", "{got:?}");
    assert_eq!(outcome("validate"), "skipped", "{got:?}");
    assert_eq!(outcome("transform"), "skipped", "{got:?}");
    assert_eq!(
        lock(mongo_ws.path())["stages"]["transform"],
        lm["stages"]["transform"]
    );

    // The CSV pipeline keeps its own behaviour: nothing reruns.
    let csv_again = netsec(csv_ws.path(), &["repro", "transform", "--json"], None);
    assert!(
        outcomes(&csv_again).iter().all(|(_, o)| o == "skipped"),
        "{:?}",
        outcomes(&csv_again)
    );
}

#[test]
fn an_empty_collection_is_rejected_in_database_terms() {
    let Some(uri) = mongo_uri() else { return };
    let ws = workspace();
    use_mongo(ws.path(), &unique_db("empty"), "nothing", "");
    let out = netsec(ws.path(), &["repro", "ingest"], Some(&uri));
    assert_eq!(out.status.code(), Some(4), "{}", all(&out));
    assert!(all(&out).contains("has no documents"), "{}", all(&out));
}

#[test]
fn credentials_in_the_uri_never_reach_the_output() {
    let Some(uri) = mongo_uri() else { return };
    // nx-27017 has no authentication: a URI with credentials fails the SCRAM handshake, which
    // is the path where a careless driver message would echo the user.
    let Some(rest) = uri.strip_prefix("mongodb://") else {
        panic!("MONGODB_URI should start with mongodb://");
    };
    let with_creds = format!("mongodb://netsec-user:{SECRET}@{rest}");
    let ws = workspace();
    use_mongo(ws.path(), &unique_db("creds"), "phishing", "");
    let out = netsec(ws.path(), &["repro", "ingest"], Some(&with_creds));
    assert_ne!(out.status.code(), Some(0), "{}", all(&out));
    assert!(!all(&out).contains(SECRET), "{}", all(&out));
    assert!(!all(&out).contains("netsec-user"), "{}", all(&out));
    let out = load(ws.path(), &with_creds, &unique_db("creds"), &[]);
    assert_ne!(out.status.code(), Some(0), "{}", all(&out));
    assert!(!all(&out).contains(SECRET), "{}", all(&out));
}

/// A port nobody listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn mongo_down_exits_5_within_the_bound_and_names_no_credentials() {
    let uri = format!(
        "mongodb://netsec-user:{SECRET}@127.0.0.1:{}/?directConnection=true",
        closed_port()
    );
    let ws = workspace();
    use_mongo(ws.path(), "netsec", "phishing", "");
    let t = Instant::now();
    let out = netsec(ws.path(), &["repro", "ingest"], Some(&uri));
    let took = t.elapsed();
    assert_eq!(out.status.code(), Some(5), "{}", all(&out));
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let shown = all(&out);
    assert!(
        shown.contains("cannot reach MongoDB at 127.0.0.1:"),
        "{shown}"
    );
    assert!(shown.contains("netsec.phishing"), "{shown}");
    assert!(
        !shown.contains(SECRET) && !shown.contains("netsec-user"),
        "{shown}"
    );

    let t = Instant::now();
    let out = load(ws.path(), &uri, "netsec", &[]);
    assert_eq!(out.status.code(), Some(5), "{}", all(&out));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
    assert!(!all(&out).contains(SECRET), "{}", all(&out));

    // No URI at all: a configuration error that says which variable to set.
    let out = netsec(ws.path(), &["repro", "ingest"], None);
    assert_eq!(out.status.code(), Some(1), "{}", all(&out));
    assert!(all(&out).contains("MONGODB_URI"), "{}", all(&out));
}

/// A private nx-27017 on a free port (started by scripts/services.sh like the shared one), so
/// freezing it disturbs no other test. Stopped when dropped.
struct PrivateMongo {
    port: u16,
    pid: u32,
    uri: String,
}

impl PrivateMongo {
    fn start() -> PrivateMongo {
        let port = closed_port();
        let out = Command::new(repo_root().join("scripts/services.sh"))
            .args(["start", "mongo"])
            .env("MONGO_PORT", port.to_string())
            .output()
            .expect("scripts/services.sh");
        assert!(out.status.success(), "{}", all(&out));
        let exports = text(&out.stdout);
        let pid = exports
            .lines()
            .find_map(|l| l.strip_prefix("export NETSEC_MONGO_PID="))
            .and_then(|v| v.trim_matches('\'').parse().ok())
            .unwrap_or_else(|| panic!("no pid in {exports}"));
        PrivateMongo {
            port,
            pid,
            uri: format!("mongodb://127.0.0.1:{port}/?directConnection=true"),
        }
    }

    fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.pid.to_string()])
            .status();
    }
}

impl Drop for PrivateMongo {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = Command::new(repo_root().join("scripts/services.sh"))
            .args(["stop", "mongo"])
            .env("MONGO_PORT", self.port.to_string())
            .output();
    }
}

#[test]
fn a_frozen_server_fails_the_load_within_the_bound_and_the_message_says_how_long() {
    if mongo_uri().is_none() {
        return;
    }
    let server = PrivateMongo::start();
    let ws = workspace();
    // Ten copies of the dataset: a load of seconds, frozen half-way.
    let csv = std::fs::read_to_string(ws.path().join("data/phisingData.csv")).expect("csv");
    let (header, rows) = csv.split_once('\n').expect("header");
    let mut big = format!("{header}\n");
    for _ in 0..10 {
        big.push_str(rows);
    }
    std::fs::write(ws.path().join("data/phisingData.csv"), big).expect("write");
    let db = unique_db("frozen");
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsec"))
        .args(["db", "load", "--database", &db, "--collection", "phishing"])
        .args(["data/phisingData.csv", "--timeout-ms", "2000"])
        .current_dir(ws.path())
        .env("NO_COLOR", "1")
        .env("MONGODB_URI", &server.uri)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the load finished before the server could be frozen"
    );
    server.signal("-STOP");
    let frozen = Instant::now();
    let out = loop {
        if child.try_wait().expect("wait").is_some() {
            break child.wait_with_output().expect("output");
        }
        assert!(
            frozen.elapsed() < Duration::from_secs(60),
            "still waiting 60 s after the server froze"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = frozen.elapsed();
    server.signal("-CONT");
    let shown = all(&out);
    eprintln!(
        "frozen server: exit {:?} {took:?} after the freeze: {shown}",
        out.status.code()
    );
    assert_eq!(out.status.code(), Some(5), "{shown}");
    // Bound: about twice the 2 s timeout (one missed check, one check timing out), with margin.
    assert!(took < Duration::from_secs(10), "took {took:?}: {shown}");
    // The message names the time really waited, not the connect bound.
    let waited: u64 = shown
        .split("within ")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `within N ms` in {shown}"));
    assert!(
        waited as f64 >= took.as_millis() as f64 * 0.7,
        "says {waited} ms but {took:?} passed after the freeze: {shown}"
    );
}

#[test]
fn a_killed_replace_load_is_refused_by_ingest_never_read_in_part() {
    let Some(uri) = mongo_uri() else { return };
    let db = unique_db("killed");
    let ws = workspace();
    // A complete load first: the collection a killed `--replace` would have half replaced.
    let out = load(ws.path(), &uri, &db, &["--replace"]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    use_mongo(ws.path(), &db, "phishing", "");
    let out = netsec(ws.path(), &["repro", "ingest"], Some(&uri));
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));

    // Four copies of the rows, loaded 50 at a time: seconds of inserts to kill in the middle.
    let csv = std::fs::read_to_string(ws.path().join("data/phisingData.csv")).expect("csv");
    let (header, body) = csv.split_once('\n').expect("header");
    let big = format!("{header}\n{}", body.repeat(4));
    std::fs::write(ws.path().join("data/big.csv"), big).expect("write big csv");
    let total = 4 * 11_055;
    let conn = netsec_mongo::Connection::open(&uri, "MONGODB_URI", Duration::from_secs(5))
        .expect("connect");
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsec"))
        .args([
            "db",
            "load",
            "--database",
            &db,
            "--collection",
            "phishing",
            "data/big.csv",
            "--replace",
            "--batch-size",
            "50",
        ])
        .current_dir(ws.path())
        .env("NO_COLOR", "1")
        .env("MONGODB_URI", &uri)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn db load");
    // The old rows are deleted first; kill once the new ones are partly in.
    let started = Instant::now();
    let mut seen_empty = false;
    loop {
        let n = conn.count(&db, "phishing").expect("count");
        seen_empty |= n < 11_055;
        if seen_empty && n >= 1_000 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the load made no progress ({n} documents)"
        );
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("db load finished ({status}) before it could be killed; make the input bigger");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    let partial = conn.count(&db, "phishing").expect("count");
    assert!(
        partial > 0 && partial < total,
        "killed half-way: {partial} of {total} documents"
    );

    // Ingest refuses the partial collection: exit 4, says why and what to do.
    let out = netsec(ws.path(), &["repro", "ingest"], Some(&uri));
    assert_eq!(out.status.code(), Some(4), "{}", all(&out));
    let msg = all(&out);
    assert!(msg.contains("unfinished load"), "{msg}");
    assert!(msg.contains(&format!("{db}.phishing")), "{msg}");
    assert!(msg.contains("--replace"), "{msg}");
    assert!(!msg.contains(&uri), "{msg}");

    // A complete rerun of the load makes it readable again.
    let out = load(ws.path(), &uri, &db, &["--replace"]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let out = netsec(ws.path(), &["repro", "ingest"], Some(&uri));
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
}
