//! The router: every endpoint, the JSON 404, body limit, CORS (off unless origins are
//! configured) and the access log (`access.rs`).

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::{ApiError, ServeError};
use crate::pages;
use crate::predict::predict;
use crate::state::AppState;

/// The application with all layers; `state` is shared by every request.
pub fn router(state: AppState) -> Result<Router, ServeError> {
    let cors = cors_layer(&state.config.cors_origins)?;
    let limit = state.config.body_limit;
    let app = Router::new()
        .route("/", get(pages::index))
        .route("/assets/app.js", get(pages::app_js))
        .route("/assets/docs.js", get(pages::docs_js))
        .route("/assets/style.css", get(pages::style_css))
        .route("/sample.csv", get(pages::sample_csv))
        .route("/docs", get(pages::docs))
        .route("/openapi.json", get(pages::openapi))
        .route("/health", get(health))
        .route("/model", get(model_card))
        .route("/predict", post(predict))
        .route("/train", post(train))
        .route("/tasks/{id}", get(task))
        .route("/experiments", get(crate::experiments::experiments))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::guard::check,
        ))
        // One INFO line per response (method, path without the query, status, duration,
        // bytes); bodies, headers and query strings are never logged.
        .layer(axum::middleware::from_fn(crate::access::log))
        .with_state(state);
    Ok(match cors {
        Some(cors) => app.layer(cors),
        None => app,
    })
}

fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>, ServeError> {
    if origins.is_empty() {
        return Ok(None);
    }
    let mut list = Vec::with_capacity(origins.len());
    for origin in origins {
        let value = HeaderValue::from_str(origin).map_err(|e| ServeError::CorsOrigin {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        list.push(value);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(list))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::ACCEPT, header::AUTHORIZATION]),
    ))
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "model_loaded": state.slot.get().is_some()}))
}

async fn model_card(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.slot.get() {
        Some(model) => Ok(Json(&model.card).into_response()),
        None => Err(ApiError::not_found(
            "no model is loaded: train one with POST /train or `netsec repro`",
        )),
    }
}

async fn train(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    crate::auth::check(&state.config, &headers)?;
    match state.tasks.start(state.slot.clone()) {
        Ok(record) => {
            let location = format!("/tasks/{}", record.task_id);
            let mut response = (
                StatusCode::ACCEPTED,
                Json(json!({"task_id": record.task_id, "state": record.state, "status_url": location})),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            Ok(response)
        }
        Err(running) => {
            let mut err = ApiError::new(
                StatusCode::CONFLICT,
                format!("a training task is already running: {}", running.task_id),
            );
            err.task_id = Some(running.task_id);
            Err(err)
        }
    }
}

async fn task(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    crate::auth::check(&state.config, &headers)?;
    match state.tasks.get(&id) {
        Some(record) => Ok(Json(record).into_response()),
        None => Err(ApiError::not_found(format!(
            "no task `{}` (tasks are kept in memory until the server restarts)",
            crate::truncate::clip(&id)
        ))
        .with_field("id")),
    }
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route for {method} {}",
        crate::truncate::clip(uri.path())
    ))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{method} is not allowed on {}",
            crate::truncate::clip(uri.path())
        ),
    )
}
