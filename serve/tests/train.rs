//! `/train` and `/tasks/{id}` with the real `netsec` binary on tiny temp repositories whose
//! pipeline has `cmd` stages: training runs in the background, `/predict` keeps answering, a
//! promoted bundle goes live, failures are reported with their log tail.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::*;
use serde_json::{json, Value};

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

/// `GET /tasks/{id}`, with the bearer token when one is given.
async fn task(app: &Router, id: &str, token: Option<&str>) -> Reply {
    let mut b = Request::get(format!("/tasks/{id}"));
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    send(app, b.body(Body::empty()).expect("request")).await
}

async fn wait_done(app: &Router, id: &str, token: Option<&str>, timeout: Duration) -> Value {
    let start = Instant::now();
    loop {
        let r = task(app, id, token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let t = r.json();
        if t["state"] == json!("succeeded") || t["state"] == json!("failed") {
            return t;
        }
        assert!(
            start.elapsed() < timeout,
            "task still {} after {timeout:?}: {t}",
            t["state"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn train_req(token: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/train");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(Body::empty()).expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn train_runs_in_background_predict_keeps_answering_and_promoted_model_goes_live() {
    let repo = temp_repo(true);
    let root = repo.path();
    std::fs::write(root.join("next-bundle.json"), bundle_bytes(1)).expect("write next bundle");
    write(
        &root.join("pipeline.toml"),
        r#"
[stages.prepare]
cmd = "echo prepared > prepared.txt"
deps = ["next-bundle.json"]
outs = ["prepared.txt"]

[stages.evaluate]
cmd = "echo evaluating >&2 && sleep 3 && mkdir -p artifacts/evaluate && cp next-bundle.json final_model/.incoming && mv final_model/.incoming final_model/bundle.json && printf '{\"f1\": 0.97, \"roc_auc\": 0.99}' > artifacts/evaluate/metrics.json && printf '{\"promoted\": true, \"reason\": \"no model yet\"}' > artifacts/evaluate/promotion.json"
deps = ["prepared.txt"]
outs = ["artifacts/evaluate/", { path = "final_model/", persist = true }]
"#,
    );
    let mut cfg = config(root);
    cfg.exe = netsec_exe();
    cfg.token = Some("s3cret-token".into());
    // Poll rarely: this test checks the reload done by the task itself.
    cfg.reload_interval = Duration::from_secs(3600);
    let (app, _) = app(cfg);
    let old_version = get(&app, "/model").await.json()["version"].clone();

    // Token required, compared exactly.
    let r = send(&app, train_req(None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error()["field"], json!("authorization"));
    assert_eq!(
        send(&app, train_req(Some("s3cret-tokeN"))).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, train_req(Some("s3cret-token-"))).await.status,
        StatusCode::UNAUTHORIZED
    );

    let start = Instant::now();
    let r = send(&app, train_req(Some("s3cret-token"))).await;
    let took = start.elapsed();
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert!(took < Duration::from_millis(500), "/train took {took:?}");
    let id = r.json()["task_id"].as_str().expect("task_id").to_string();
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/tasks/{id}").as_str())
    );

    // A second request while it runs: 409 naming the running task.
    let r = send(&app, train_req(Some("s3cret-token"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.error()["task_id"], json!(id));

    // Predictions keep flowing, fast, while the pipeline runs.
    let mut during = 0;
    loop {
        let t = task(&app, &id, Some("s3cret-token")).await.json();
        if t["state"] != json!("running") && t["state"] != json!("queued") {
            break;
        }
        let s = Instant::now();
        let r = post(&app, "/predict", "text/csv", SAMPLE).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            s.elapsed() < Duration::from_millis(500),
            "predict took {:?}",
            s.elapsed()
        );
        if r.json()["model"]["version"] != old_version {
            // The task swaps the promoted model in and then reports itself finished, so a
            // predict may see the new model an instant before `/tasks` does. Never earlier:
            // the task must be reported succeeded, promoted, right after.
            let t = wait_done(&app, &id, Some("s3cret-token"), Duration::from_secs(2)).await;
            assert_eq!(
                t["state"],
                json!("succeeded"),
                "model swapped before promotion: {t}"
            );
            assert_eq!(
                t["promoted"],
                json!(true),
                "model swapped before promotion: {t}"
            );
            break;
        }
        during += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(during >= 5, "only {during} predictions while training ran");

    let t = wait_done(&app, &id, Some("s3cret-token"), Duration::from_secs(60)).await;
    assert_eq!(t["state"], json!("succeeded"), "{t}");
    let stages: Vec<(String, String)> = t["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap_or("").to_string(),
                s["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        vec![
            ("prepare".into(), "ran".into()),
            ("evaluate".into(), "ran".into())
        ],
        "{t}"
    );
    assert!(
        t["stages"][1]["duration_ms"].as_u64().unwrap_or(0) >= 2900,
        "{t}"
    );
    assert_eq!(t["promoted"], json!(true));
    assert_eq!(t["metrics"]["f1"], json!(0.97));
    assert_eq!(t["model_reloaded"], json!(true));
    assert!(t["summary"].is_object(), "{t}");
    assert!(
        t["log_tail"]
            .as_array()
            .expect("log")
            .iter()
            .any(|l| l.as_str().unwrap_or("").contains("evaluating")),
        "{t}"
    );

    let new_version = get(&app, "/model").await.json()["version"].clone();
    assert_ne!(new_version, old_version);
    assert_eq!(t["model_version"], new_version);
    let r = post(&app, "/predict", "text/csv", SAMPLE).await;
    assert_eq!(r.json()["model"]["version"], new_version);

    // Finished: a new task may start again (nothing is stale now, it succeeds quickly).
    let r = send(&app, train_req(Some("s3cret-token"))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let id2 = r.json()["task_id"].as_str().expect("id").to_string();
    assert_ne!(id2, id);
    let t = wait_done(&app, &id2, Some("s3cret-token"), Duration::from_secs(60)).await;
    assert_eq!(t["state"], json!("succeeded"), "{t}");
    // `evaluate` was fresh: nothing was decided, and the task says so instead of `promoted`.
    assert!(t.get("promoted").is_none(), "{t}");
    assert!(
        t["promotion_note"]
            .as_str()
            .unwrap_or("")
            .contains("did not run"),
        "{t}"
    );
}

#[tokio::test]
async fn train_is_refused_without_a_token_and_guarded_against_other_sites() {
    let repo = temp_repo(true);
    let root = repo.path();
    write(&root.join("pipeline.toml"), "");
    // No token and no --allow-open-train: refused, nothing starts.
    let (app, state) = app(config(root));
    let r = post(&app, "/train", "text/plain", "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.error()["message"]
        .as_str()
        .unwrap_or("")
        .contains("--allow-open-train"));
    assert!(state.tasks.running().is_none());

    let mut cfg = config(root);
    cfg.exe = netsec_exe();
    cfg.token = Some("s3cret-token".into());
    let (app, state) = common::app(cfg);
    // A form post from another site (text/plain needs no preflight) is refused before the
    // token is even looked at, and so is a request naming a foreign Host (DNS rebinding).
    let req = Request::post("/train")
        .header("origin", "http://evil.example")
        .header("content-type", "text/plain")
        .header("authorization", "Bearer s3cret-token")
        .body(Body::from("x"))
        .expect("request");
    let r = send(&app, req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.error()["field"], json!("origin"));
    let req = Request::post("/train")
        .header("host", "rebound.evil.example:8000")
        .header("authorization", "Bearer s3cret-token")
        .body(Body::empty())
        .expect("request");
    let r = send(&app, req).await;
    assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST, "{}", r.text());
    assert!(state.tasks.running().is_none());

    // The same origin is fine; the task id is random and its route needs the token.
    let req = Request::post("/train")
        .header("host", "127.0.0.1:8000")
        .header("origin", "http://127.0.0.1:8000")
        .header("authorization", "Bearer s3cret-token")
        .body(Body::empty())
        .expect("request");
    let r = send(&app, req).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let id = r.json()["task_id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 33, "{id}");
    assert!(id[1..].bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(task(&app, &id, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        task(&app, &id, Some("wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
    wait_done(&app, &id, Some("s3cret-token"), Duration::from_secs(60)).await;
    // No filesystem path reaches a client.
    let card = get(&app, "/model").await.text();
    assert!(!card.contains(&root.display().to_string()), "{card}");
}

#[tokio::test]
async fn failing_pipeline_and_missing_executable_are_failed_tasks() {
    let repo = temp_repo(true);
    let root = repo.path();
    write(
        &root.join("pipeline.toml"),
        "[stages.boom]\ncmd = \"echo boom-marker >&2; exit 3\"\nouts = [\"never.txt\"]\n",
    );
    let mut cfg = config(root);
    cfg.exe = netsec_exe();
    cfg.allow_open_train = true;
    let (app, _) = app(cfg);
    let r = post(&app, "/train", "text/plain", "").await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "no token configured, open training allowed: {}",
        r.text()
    );
    let id = r.json()["task_id"].as_str().expect("id").to_string();
    let t = wait_done(&app, &id, None, Duration::from_secs(60)).await;
    assert_eq!(t["state"], json!("failed"), "{t}");
    assert_eq!(t["exit_code"], json!(1), "{t}");
    assert!(
        t["error"]
            .as_str()
            .unwrap_or("")
            .contains("exited with code 1"),
        "{t}"
    );
    assert_eq!(t["stages"][0]["outcome"], json!("failed"), "{t}");
    let log = t["log_tail"].as_array().expect("log");
    assert!(
        log.iter()
            .any(|l| l.as_str().unwrap_or("").contains("boom-marker")),
        "{t}"
    );
    assert!(t.get("promoted").is_none());

    // The executable does not exist: the task fails and says why; the server is fine.
    let mut cfg = config(root);
    cfg.allow_open_train = true;
    let (app, _) = common::app(cfg);
    let id = post(&app, "/train", "text/plain", "").await.json()["task_id"]
        .as_str()
        .expect("id")
        .to_string();
    let t = wait_done(&app, &id, None, Duration::from_secs(10)).await;
    assert_eq!(t["state"], json!("failed"));
    assert!(
        t["error"]
            .as_str()
            .unwrap_or("")
            .contains("failed to start"),
        "{t}"
    );
    assert_eq!(get(&app, "/health").await.status, StatusCode::OK);

    let r = get(&app, "/tasks/does-not-exist").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error()["field"], json!("id"));
}
