//! The page, its assets, the sample, the OpenAPI document and docs page, JSON 404/405, CORS.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn page_and_assets_are_self_contained() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let r = get(&app, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type().starts_with("text/html"));
    let csp = r
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let html = r.text();
    assert!(html.contains("name=\"viewport\""), "usable on a phone");
    for (path, ct) in [
        ("/assets/app.js", "text/javascript"),
        ("/assets/style.css", "text/css"),
        ("/assets/docs.js", "text/javascript"),
        ("/docs", "text/html"),
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(
            r.content_type().starts_with(ct),
            "{path}: {}",
            r.content_type()
        );
        // No CDN or any other origin: every reference is relative to this server.
        let text = r.text();
        assert!(
            !text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"),
            "{path} references another origin"
        );
    }
    assert!(!html.contains("http://") && !html.contains("https://"));
    let r = get(&app, "/sample.csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type().starts_with("text/csv"));
    assert_eq!(
        r.text(),
        std::fs::read_to_string(repo_root().join("data/sample-predict-input.csv")).expect("sample")
    );
}

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let r = get(&app, "/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc: Value = r.json();
    assert_eq!(doc["openapi"], json!("3.1.0"));
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/", "get"),
        ("/predict", "post"),
        ("/train", "post"),
        ("/tasks/{id}", "get"),
        ("/experiments", "get"),
        ("/model", "get"),
        ("/health", "get"),
        ("/openapi.json", "get"),
        ("/docs", "get"),
        ("/sample.csv", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    // Every $ref resolves.
    let text = r.text();
    for part in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap_or("");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let repo = temp_repo(true);
    let (app, _) = app(config(repo.path()));
    let r = get(&app, "/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error()["message"]
        .as_str()
        .unwrap_or("")
        .contains("/nope"));
    let r = get(&app, "/predict").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    r.error();
}

#[tokio::test]
async fn cors_is_off_by_default_and_follows_the_origin_list() {
    let repo = temp_repo(true);
    let preflight = |origin: &str| {
        Request::options("/predict")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .expect("request")
    };
    let (app, _) = app(config(repo.path()));
    let r = send(
        &app,
        Request::get("/health")
            .header("origin", "https://a.example")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
    let r = send(&app, preflight("https://a.example")).await;
    assert!(r.headers.get("access-control-allow-origin").is_none());

    let mut cfg = config(repo.path());
    cfg.cors_origins = vec!["https://a.example".into()];
    let (app, _) = common::app(cfg);
    let r = send(&app, preflight("https://a.example")).await;
    assert_eq!(
        r.headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://a.example")
    );
    let r = send(&app, preflight("https://evil.example")).await;
    assert!(r.headers.get("access-control-allow-origin").is_none());

    let mut cfg = config(repo.path());
    cfg.cors_origins = vec!["bad\norigin".into()];
    assert!(netsec_serve::router(netsec_serve::AppState::new(cfg)).is_err());
}
