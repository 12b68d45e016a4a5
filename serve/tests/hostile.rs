//! `netsec serve` under hostile clients (issue 15, items 1, 2 and 4), through the real binary
//! over TCP: the malformed-request corpus (`tests/fuzz/http/`, written by
//! `scripts/fuzz/gen_http_corpus.py`) never gets a 5xx nor kills the server; memory per
//! request stays under four body limits whatever the body's shape; silent, slow and excess
//! connections are closed or refused while `/health` keeps answering.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::server::{raw, status_of, Server};
use common::*;

const MIB: usize = 1024 * 1024;

fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

fn body_of(reply: &[u8]) -> String {
    let at = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(reply.len(), |i| i + 4);
    String::from_utf8_lossy(&reply[at..]).into_owned()
}

/// Whether an error reply is the documented JSON error, `{"error":{"message"}}` with a JSON
/// content type: also the 400/414/431 hyper writes when it cannot parse a request
/// (`serve/src/parse_error.rs`).
fn json_error(reply: &[u8]) -> Result<(), String> {
    let at = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no header end")?;
    let head = String::from_utf8_lossy(&reply[..at]).to_ascii_lowercase();
    if !head.contains("content-type: application/json") {
        return Err(format!("not JSON: {head}"));
    }
    let v: serde_json::Value =
        serde_json::from_str(&body_of(reply)).map_err(|e| format!("body: {e}"))?;
    match v["error"]["message"].as_str() {
        Some(m) if !m.is_empty() => Ok(()),
        _ => Err(format!("no error.message in {v}")),
    }
}

/// `VmRSS` or `VmHWM` of `pid`, in bytes.
fn mem(pid: u32, field: &str) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .expect("field");
    let kb: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("kB");
    kb * 1024
}

/// Peak RSS growth of the server while it answers `request` (the peak is reset first).
fn peak_growth(server: &mut Server, request: &[u8]) -> (usize, Option<u16>, String) {
    let host = server.host();
    std::fs::write(format!("/proc/{}/clear_refs", server.pid), "5").expect("reset VmHWM");
    let before = mem(server.pid, "VmRSS:");
    let (status, reply) = raw(&host, request, Duration::from_secs(120));
    let peak = mem(server.pid, "VmHWM:");
    (peak.saturating_sub(before), status, body_of(&reply))
}

/// The sample's data rows repeated to just under `size` bytes or `rows` rows, with its header.
fn big_csv(size: usize, rows_max: usize) -> Vec<u8> {
    let (header, rows) = SAMPLE.split_once('\n').expect("header");
    let mut out = format!("{header}\n").into_bytes();
    let mut n = 0;
    'fill: loop {
        for line in rows.lines() {
            if out.len() + line.len() + 1 > size || n == rows_max {
                break 'fill;
            }
            n += 1;
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// The sample's rows as JSON objects, repeated to just under `size` bytes.
fn big_json(size: usize) -> Vec<u8> {
    let (header, rows) = SAMPLE.split_once('\n').expect("header");
    let names: Vec<&str> = header.trim().split(',').collect();
    let objects: Vec<String> = rows
        .lines()
        .map(|line| {
            let cells: Vec<String> = names
                .iter()
                .zip(line.trim().split(','))
                .map(|(n, v)| format!("\"{n}\":{v}"))
                .collect();
            format!("{{{}}}", cells.join(","))
        })
        .collect();
    let mut out = b"[".to_vec();
    'fill: loop {
        for o in &objects {
            if out.len() + o.len() + 2 > size {
                break 'fill;
            }
            if out.len() > 1 {
                out.push(b',');
            }
            out.extend_from_slice(o.as_bytes());
        }
    }
    out.push(b']');
    out
}

/// `[{"k0":1},{"k1":1},…]`: every row a new key (the shape that used to allocate rows × keys).
fn distinct_keys(n: usize) -> Vec<u8> {
    let rows: Vec<String> = (0..n).map(|i| format!("{{\"k{i}\":1}}")).collect();
    format!("[{}]", rows.join(",")).into_bytes()
}

/// `[x,x,…]` of `item` to just under `size` bytes.
fn repeated(item: &str, size: usize) -> Vec<u8> {
    let n = (size - 2) / (item.len() + 1);
    let mut out = Vec::with_capacity(size);
    out.push(b'[');
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item.as_bytes());
    }
    out.push(b']');
    out
}

#[test]
fn malformed_corpus_gets_no_5xx_and_the_server_survives() {
    let repo = temp_repo(true);
    let mut server = Server::start(
        repo.path(),
        &["--header-timeout", "2s", "--body-timeout", "2s"],
    );
    let host = server.host();
    let dir = repo_root().join("tests/fuzz/http");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/fuzz/http")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "http"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 60, "corpus too small: {}", cases.len());
    let mut failures = Vec::new();
    let mut answered = 0;
    for case in &cases {
        let request = std::fs::read(case).expect("read case");
        let (status, reply) = raw(&host, &request, Duration::from_secs(10));
        let name = case.file_name().unwrap_or_default().to_string_lossy();
        match status {
            Some(s) if s >= 500 => failures.push(format!("{name}: {s} {}", body_of(&reply))),
            Some(s) => {
                answered += 1;
                if s >= 400 {
                    if let Err(e) = json_error(&reply) {
                        failures.push(format!("{name}: {s} {e}"));
                    }
                }
            }
            None => {}
        }
        if !server.alive() {
            panic!("the server died on {name}");
        }
    }
    // Large cases generated here rather than kept in the repository.
    let large: Vec<(&str, Vec<u8>)> = vec![
        (
            "header-600k",
            format!(
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: {}\r\n\r\n",
                "a".repeat(600_000)
            )
            .into_bytes(),
        ),
        ("cell-5mb", {
            let cell = "9".repeat(5 * MIB);
            post(
                "/predict",
                "application/json",
                format!("[{{\"URL_Length\":\"{cell}\"}}]").as_bytes(),
            )
        }),
        (
            "csv-cell-5mb",
            post(
                "/predict",
                "text/csv",
                format!("URL_Length\n{}\n", "9".repeat(5 * MIB)).as_bytes(),
            ),
        ),
    ];
    for (name, request) in &large {
        let (status, reply) = raw(&host, request, Duration::from_secs(30));
        match status {
            Some(s) if s >= 500 => failures.push(format!("{name}: {s}")),
            Some(s) => {
                answered += 1;
                if s >= 400 {
                    if let Err(e) = json_error(&reply) {
                        failures.push(format!("{name}: {s} {e}"));
                    }
                }
            }
            None => {}
        }
        // Echoes are clipped: a 5 MB cell gives a short error.
        assert!(
            reply.len() < 64 * 1024,
            "{name}: {} byte reply",
            reply.len()
        );
    }
    assert!(
        failures.is_empty(),
        "5xx replies or errors without the JSON body:\n{}",
        failures.join("\n")
    );
    assert!(answered >= 50, "only {answered} replies");
    let (status, _) = raw(
        &host,
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(status, Some(200));
    let stderr = server.stop();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains("s3cret"),
        "a token reached the log:\n{stderr}"
    );
}

#[test]
fn unknown_keys_are_refused_at_once_and_memory_stays_under_four_body_limits() {
    let repo = temp_repo(true);
    let mut server = Server::start(repo.path(), &[]);
    let limit = 10 * MIB;
    // Warm up: the first prediction allocates the model's working buffers.
    let warm = post("/predict", "text/csv", SAMPLE.as_bytes());
    assert_eq!(
        raw(&server.host(), &warm, Duration::from_secs(30)).0,
        Some(200)
    );

    let shapes: Vec<(&str, &str, Vec<u8>, u16)> = vec![
        (
            "distinct keys x12000",
            "application/json",
            distinct_keys(12_000),
            422,
        ),
        (
            "[{\"a\":1},…] 10 MiB",
            "application/json",
            repeated("{\"a\":1}", limit),
            422,
        ),
        (
            "[{},…] 10 MiB",
            "application/json",
            repeated("{}", limit),
            413,
        ),
        (
            "valid JSON rows 10 MiB",
            "application/json",
            big_json(limit),
            200,
        ),
        (
            "valid CSV 100,000 rows",
            "text/csv",
            big_csv(limit, 100_000),
            200,
        ),
        (
            "CSV 10 MiB (154,000 rows)",
            "text/csv",
            big_csv(limit, usize::MAX),
            413,
        ),
    ];
    let mut report: Vec<String> = Vec::new();
    for (name, content_type, body, expected) in &shapes {
        assert!(body.len() <= limit, "{name}: {} bytes", body.len());
        let (growth, status, reply) =
            peak_growth(&mut server, &post("/predict", content_type, body));
        report.push(format!("{name}: +{} MiB peak", growth / MIB));
        eprintln!("{}", report[report.len() - 1]);
        assert_eq!(
            status,
            Some(*expected),
            "{name}: {}",
            &reply[..reply.len().min(500)]
        );
        if name.starts_with("distinct") {
            assert!(reply.contains("unknown column `k0`"), "{reply}");
            assert!(reply.contains("[0]"), "{reply}");
        }
        assert!(
            growth < 4 * limit,
            "{name}: peak RSS grew by {growth} bytes (limit {limit}); all: {report:?}"
        );
    }
    // The compact form names the columns once and is smaller than the default form.
    let csv = post("/predict?form=compact", "text/csv", SAMPLE.as_bytes());
    let (status, reply) = raw(&server.host(), &csv, Duration::from_secs(30));
    assert_eq!(status, Some(200));
    let text = dechunk(&body_of(&reply));
    let compact: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(compact["rows"].as_array().map(Vec::len), Some(12));
    assert_eq!(
        compact["columns"]
            .as_array()
            .and_then(|c| c.last())
            .cloned(),
        Some(serde_json::json!("phishing_probability"))
    );
    assert!(compact["rows"][0].is_array(), "{compact}");
    assert!(server.alive());
}

/// The payload of a `Transfer-Encoding: chunked` body.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Opens a connection that sends nothing.
fn silent(host: &str) -> TcpStream {
    let s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s
}

/// Reads until EOF or the read timeout: the reply (possibly empty) and whether EOF came.
fn drain(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

fn health_within(host: &str, wait: Duration) -> (Option<u16>, Duration) {
    let start = Instant::now();
    let (status, _) = raw(
        host,
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        wait,
    );
    (status, start.elapsed())
}

#[test]
fn silent_slow_and_excess_connections_are_closed_and_health_keeps_answering() {
    let repo = temp_repo(true);
    // 256 open files and a 4 s header timeout, as in the report: the cap is 192 connections, and
    // the 68 beyond it arrive while the first 192 are still held open.
    let mut server = Server::start_limited(
        repo.path(),
        &["--header-timeout", "4s", "--body-timeout", "1s"],
        Some(256),
    );
    let host = server.host();

    // 260 silent connections: those beyond the cap get a JSON 503 at once; the others are
    // closed by the header timeout; the server never runs out of descriptors.
    let mut held: Vec<TcpStream> = (0..260).map(|_| silent(&host)).collect();
    let start = Instant::now();
    let mut refused = 0;
    let mut closed = 0;
    for s in &mut held {
        let (reply, eof) = drain(s);
        if status_of(&reply) == Some(503) {
            refused += 1;
            assert!(body_of(&reply).contains("\"error\""), "{}", body_of(&reply));
        } else {
            assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
        }
        if eof {
            closed += 1;
        }
    }
    // How many go past the cap depends on how fast the 260 connect: on a loaded machine the
    // header timeout closes the first ones before the last ones arrive. Every one must have been
    // refused or closed, and the server must not have run out of descriptors (checked below).
    eprintln!("{refused} of 260 silent connections refused with a 503");
    assert_eq!(closed, 260, "connections left open");
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "idle connections held for {:?}",
        start.elapsed()
    );
    drop(held);
    let (status, _) = health_within(&host, Duration::from_secs(5));
    assert_eq!(status, Some(200));

    // 150 idle keep-alive connections (below the cap): /health is answered meanwhile.
    let idle: Vec<TcpStream> = (0..150).map(|_| silent(&host)).collect();
    let (status, took) = health_within(&host, Duration::from_secs(5));
    assert_eq!(status, Some(200));
    assert!(took < Duration::from_secs(2), "/health took {took:?}");
    drop(idle);

    // Headers one byte every 200 ms: closed by the header timeout, not after the whole line.
    let mut slow = silent(&host);
    let started = Instant::now();
    for b in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" {
        if slow.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() > Duration::from_secs(8) {
            break;
        }
    }
    let (_, eof) = drain(&mut slow);
    assert!(eof, "slow headers not closed");
    assert!(started.elapsed() < Duration::from_secs(12));

    // A body that never arrives, and a chunk size of 2^64 - 1: a JSON 408, within the bound.
    for request in [
        &b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nab"[..],
        &b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc"[..],
    ] {
        let began = Instant::now();
        let (status, reply) = raw(&host, request, Duration::from_secs(10));
        assert!(
            matches!(status, Some(408) | Some(400) | Some(413)),
            "{status:?}: {}",
            String::from_utf8_lossy(&reply)
        );
        assert!(began.elapsed() < Duration::from_secs(5), "{:?}", began.elapsed());
    }

    // An HTTP/2 preface on this HTTP/1.1 server: refused or closed promptly.
    let began = Instant::now();
    let (status, _) = raw(
        &host,
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(status.is_none_or(|s| s < 500), "{status:?}");
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );

    assert!(server.alive());
    let stderr = server.stop();
    assert!(!stderr.contains("Too many open files"), "{stderr}");
}
