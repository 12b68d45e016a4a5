//! The embedded web page, its assets, the sample CSV, the OpenAPI document and the docs page —
//! all compiled in with `include_str!`, so the server works offline and needs no CDN.

use axum::http::header;
use axum::response::IntoResponse;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE_CSS: &str = include_str!("../assets/style.css");
const DOCS_HTML: &str = include_str!("../assets/docs.html");
const DOCS_JS: &str = include_str!("../assets/docs.js");
const OPENAPI_JSON: &str = include_str!("../assets/openapi.json");
/// The 12-row example from the repository, served as `/sample.csv`.
pub const SAMPLE_CSV: &str = include_str!("../../data/sample-predict-input.csv");

/// Only this origin's scripts, styles and fetches: the page cannot pull anything from outside.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

fn html(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

pub async fn index() -> impl IntoResponse {
    html(INDEX_HTML)
}

pub async fn docs() -> impl IntoResponse {
    html(DOCS_HTML)
}

fn script(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

pub async fn app_js() -> impl IntoResponse {
    script(APP_JS)
}

pub async fn docs_js() -> impl IntoResponse {
    script(DOCS_JS)
}

pub async fn style_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE_CSS,
    )
}

pub async fn sample_csv() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sample-predict-input.csv\"",
            ),
        ],
        SAMPLE_CSV,
    )
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
