//! In-process router tests: every endpoint and every bad input (tower `oneshot`, no socket).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{json, Value};

fn header_line() -> &'static str {
    SAMPLE.lines().next().expect("header")
}

#[tokio::test]
async fn health_reports_whether_a_model_is_loaded() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let r = get(&app, "/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"status": "ok", "model_loaded": true}));

    let empty = temp_repo(false);
    let (app, _) = common::app(config(empty.path()));
    assert_eq!(
        get(&app, "/health").await.json()["model_loaded"],
        json!(false)
    );
    let r = get(&app, "/model").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error()["message"]
        .as_str()
        .unwrap_or("")
        .contains("no model"));
    let r = post(&app, "/predict", "text/csv", SAMPLE).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    r.error();
}

#[tokio::test]
async fn model_card_names_version_time_and_metrics() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let r = get(&app, "/model").await;
    assert_eq!(r.status, StatusCode::OK);
    let card = r.json();
    assert_eq!(card["version"].as_str().map(str::len), Some(16));
    assert!(card["model"].is_string());
    assert_eq!(card["features"].as_array().map(Vec::len), Some(30));
    assert_eq!(card["labels"], json!({"phishing": -1, "legitimate": 1}));
    assert!(card["metrics"].is_object(), "metrics: {card}");
}

fn check_rows(v: &Value) -> Vec<i64> {
    let rows = v["rows"].as_array().expect("rows");
    let mut preds = Vec::new();
    for row in rows {
        let p = row["phishing_probability"].as_f64().expect("probability");
        assert!((0.0..=1.0).contains(&p));
        let pred = row["prediction"].as_i64().expect("prediction");
        assert_eq!(pred, if p >= 0.5 { -1 } else { 1 }, "row {row}");
        assert_eq!(
            row.as_object().map(|o| o.len()),
            Some(32),
            "30 features + 2: {row}"
        );
        preds.push(pred);
    }
    let phishing = preds.iter().filter(|p| **p == -1).count();
    assert_eq!(v["summary"]["rows"], json!(rows.len()));
    assert_eq!(v["summary"]["phishing"], json!(phishing));
    let share = v["summary"]["phishing_share"].as_f64().expect("share");
    assert!((share - phishing as f64 / rows.len() as f64).abs() < 1e-12);
    preds
}

#[tokio::test]
async fn predict_csv_body_returns_json_rows_summary_and_model() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let r = post(&app, "/predict", "text/csv", SAMPLE).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.content_type().starts_with("application/json"));
    let v = r.json();
    let preds = check_rows(&v);
    assert_eq!(preds.len(), 12);
    let right = preds
        .iter()
        .zip(SAMPLE_LABELS)
        .filter(|(p, l)| **p == *l)
        .count();
    assert!(right >= 11, "only {right}/12 sample rows right: {preds:?}");
    assert_eq!(
        v["model"]["version"],
        get(&app, "/model").await.json()["version"]
    );
}

#[tokio::test]
async fn predict_accepts_multipart_and_json_rows() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let boundary = "XyZ123";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.csv\"\r\nContent-Type: text/csv\r\n\r\n{SAMPLE}\r\n--{boundary}--\r\n"
    );
    let r = post(
        &app,
        "/predict",
        &format!("multipart/form-data; boundary={boundary}"),
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let from_csv = check_rows(&r.json());
    assert_eq!(from_csv.len(), 12);

    // The same rows as JSON objects, both shapes; values as numbers and as numeric strings.
    let names: Vec<&str> = header_line().split(',').collect();
    let rows: Vec<Value> = SAMPLE
        .lines()
        .skip(1)
        .enumerate()
        .map(|(i, line)| {
            let obj: serde_json::Map<String, Value> = names
                .iter()
                .zip(line.split(','))
                .map(|(k, v)| {
                    let n: i64 = v.parse().expect("int");
                    (k.to_string(), if i % 2 == 0 { json!(n) } else { json!(v) })
                })
                .collect();
            Value::Object(obj)
        })
        .collect();
    for body in [json!(rows.clone()), json!({"rows": rows})] {
        let r = post(&app, "/predict", "application/json", body.to_string()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(check_rows(&r.json()), from_csv);
    }
}

#[tokio::test]
async fn predict_negotiates_csv_and_html() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let req = |accept: &str| {
        Request::post("/predict")
            .header("content-type", "text/csv")
            .header("accept", accept)
            .body(Body::from(SAMPLE))
            .expect("request")
    };
    let r = send(&app, req("text/csv")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type().starts_with("text/csv"));
    let text = r.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 13);
    assert_eq!(
        lines[0],
        format!("{},prediction,phishing_probability", header_line())
    );
    assert!(lines[1].starts_with(SAMPLE.lines().nth(1).expect("row")));

    let r = send(&app, req("text/html,application/xhtml+xml;q=0.9")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type().starts_with("text/html"));
    let html = r.text();
    assert_eq!(html.matches("<tr").count(), 13, "{html}");
    let json_preds = check_rows(&post(&app, "/predict", "text/csv", SAMPLE).await.json());
    let phishing = json_preds.iter().filter(|p| **p == -1).count();
    assert_eq!(html.matches("<tr class=\"phishing\">").count(), phishing);
}

#[tokio::test]
async fn bad_bodies_are_400_with_a_message_and_field() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text/csv", Vec::new(), "empty"),
        ("application/json", Vec::new(), "empty"),
        (
            "text/csv",
            b"having_IP_Address,URL_Length\n1,\xff\xfe\n".to_vec(),
            "UTF-8",
        ),
        ("application/json", b"{\"rows\": [".to_vec(), "invalid JSON"),
        (
            "application/json",
            b"{\"a\": 1}".to_vec(),
            "array of row objects",
        ),
        ("application/json", b"[1, 2]".to_vec(), "is not an object"),
        (
            "application/json",
            b"\"x\"".to_vec(),
            "array of row objects",
        ),
        ("application/json", b"[]".to_vec(), "no rows"),
        (
            "application/json",
            b"{\"rows\": 3}".to_vec(),
            "must be an array",
        ),
        (
            "application/json",
            b"[{\"URL_Length\": true}]".to_vec(),
            "expected a number",
        ),
        (
            "multipart/form-data; boundary=zz",
            b"--zz--\r\n".to_vec(),
            "no file",
        ),
    ];
    for (ct, body, needle) in cases {
        let r = post(&app, "/predict", ct, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{ct} {:?}: {}",
            String::from_utf8_lossy(&body),
            r.text()
        );
        let e = r.error();
        assert!(
            e["message"].as_str().unwrap_or("").contains(needle),
            "{needle}: {e}"
        );
        assert!(e["field"].is_string(), "{e}");
    }
    let r = post(&app, "/predict", "image/png", SAMPLE).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.error()["field"], json!("content-type"));
}

#[tokio::test]
async fn schema_problems_are_422_naming_column_and_row() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    // A non-numeric cell in row 3 (line 4) of column URL_Length.
    let mut lines: Vec<String> = SAMPLE.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[3].split(',').collect();
    cells[1] = "abc";
    lines[3] = cells.join(",");
    let r = post(&app, "/predict", "text/csv", lines.join("\n")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.error();
    assert_eq!(e["field"], json!("URL_Length"));
    let msg = e["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("URL_Length") && msg.contains("line 4") && msg.contains("row 3"),
        "{msg}"
    );
    assert_eq!(e["problems"][0]["row"], json!(3));

    // A renamed column.
    let renamed = SAMPLE.replacen("URL_Length", "URL_Len", 1);
    let r = post(&app, "/predict", "text/csv", renamed).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error()["field"], json!("URL_Length"));

    // Header only.
    let r = post(&app, "/predict", "text/csv", format!("{}\n", header_line())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.error()["message"]
        .as_str()
        .unwrap_or("")
        .contains("no data rows"));

    // JSON rows: out-of-domain value in row 2, missing column everywhere.
    let names: Vec<&str> = header_line().split(',').collect();
    let mut rows: Vec<Value> = (0..2)
        .map(|_| Value::Object(names.iter().map(|k| (k.to_string(), json!(1))).collect()))
        .collect();
    rows[1]["SSLfinal_State"] = json!(7);
    let r = post(
        &app,
        "/predict",
        "application/json",
        json!(rows).to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.error();
    assert_eq!(e["field"], json!("SSLfinal_State"));
    assert!(e["message"].as_str().unwrap_or("").contains("row 2"), "{e}");
}

#[tokio::test]
async fn oversized_bodies_are_413_and_the_limit_is_configurable() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let big = vec![b'1'; 50 * 1024 * 1024];
    let r = post(&app, "/predict", "text/csv", big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.error()["field"], json!("body"));

    let mut cfg = config(repo.path());
    cfg.body_limit = 1000;
    let (small, _) = common::app(cfg);
    // No Content-Length: a streamed body is cut at the limit too.
    let stream = Body::new(futures_stream(SAMPLE.as_bytes().to_vec()));
    let req = Request::post("/predict")
        .header("content-type", "text/csv")
        .body(stream)
        .expect("req");
    assert_eq!(
        send(&small, req).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let boundary = "b";
    let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n{SAMPLE}\r\n--{boundary}--\r\n");
    let r = post(&small, "/predict", "multipart/form-data; boundary=b", body).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    // The server still answers.
    assert_eq!(get(&app, "/health").await.status, StatusCode::OK);
}

/// A body without a declared length, in 100-byte chunks.
fn futures_stream(bytes: Vec<u8>) -> Chunked {
    Chunked(
        bytes
            .chunks(100)
            .rev()
            .map(axum::body::Bytes::copy_from_slice)
            .collect(),
    )
}

struct Chunked(Vec<axum::body::Bytes>);

impl http_body::Body for Chunked {
    type Data = axum::body::Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop().map(|b| Ok(http_body::Frame::data(b))))
    }
}
