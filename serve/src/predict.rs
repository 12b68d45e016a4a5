//! `POST /predict`: body (multipart file, CSV text or JSON rows) → schema-checked frame → the
//! live model → JSON, CSV or HTML. Parsing and prediction of large bodies run on a blocking
//! thread so a 100k-row upload never stalls the runtime.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;
use crate::input::{frame_from_csv, frame_from_json};
use crate::json_body::{JsonForm, JsonRowsBody};
use crate::model::LoadedModel;
use crate::render::{self, Format, Summary};
use crate::state::AppState;

/// Bodies up to this size are handled on the runtime thread: a few rows take microseconds,
/// less than the hand-off to the blocking pool would.
const INLINE_MAX: usize = 64 * 1024;

/// How the body was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Csv,
    Json,
}

pub async fn predict(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let form = match req.uri().query() {
        Some(q) if q.split('&').any(|kv| kv == "form=compact") => JsonForm::Compact,
        _ => JsonForm::Objects,
    };
    let Some(model) = state.slot.get() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no model is loaded yet: train one with POST /train or `netsec repro`",
        ));
    };
    let format = Format::from_accept(
        req.headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    );
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let limit = BodyLimits {
        bytes: state.config.body_limit,
        time: state.config.body_timeout,
    };
    let max_rows = state.config.max_rows;
    let (kind, bytes, origin) = match content_type.as_str() {
        "multipart/form-data" => {
            let (bytes, name) = read_multipart(req, limit).await?;
            let kind = if name.to_ascii_lowercase().ends_with(".json") {
                BodyKind::Json
            } else {
                BodyKind::Csv
            };
            (kind, bytes, name)
        }
        "application/json" => (BodyKind::Json, read_body(req, limit).await?, String::new()),
        "" | "text/csv" | "text/plain" | "application/csv" | "application/octet-stream"
        | "application/vnd.ms-excel" => {
            (BodyKind::Csv, read_body(req, limit).await?, "request body".to_string())
        }
        other => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("unsupported content type `{other}`: send text/csv, application/json or multipart/form-data"),
            )
            .with_field("content-type"))
        }
    };
    let input = Input {
        kind,
        bytes,
        origin,
        max_rows,
    };
    if input.bytes.len() <= INLINE_MAX {
        respond(model, input, format, form)
    } else {
        tokio::task::spawn_blocking(move || respond(model, input, format, form))
            .await
            .map_err(|e| ApiError::internal(format!("prediction task failed: {e}")))?
    }
}

/// The request body and how to read it.
struct Input {
    kind: BodyKind,
    bytes: Bytes,
    origin: String,
    max_rows: usize,
}

/// The size and time a client has to send its body.
#[derive(Debug, Clone, Copy)]
struct BodyLimits {
    bytes: usize,
    time: Duration,
}

/// Parses, predicts and renders (blocking work).
fn respond(
    model: Arc<LoadedModel>,
    input: Input,
    format: Format,
    form: JsonForm,
) -> Result<Response, ApiError> {
    let schema = model.schema();
    let frame = match input.kind {
        BodyKind::Csv => frame_from_csv(input.bytes, &input.origin, schema, input.max_rows)?,
        BodyKind::Json => frame_from_json(&input.bytes, schema, input.max_rows)?,
    };
    let predictions = model.predict(&frame)?;
    let phishing = model.phishing_label();
    let summary = Summary::of(&predictions, phishing);
    let response = match format {
        Format::Json => {
            let body = JsonRowsBody::new(Arc::clone(&model), frame, predictions, summary, form);
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                Body::new(body),
            )
                .into_response()
        }
        Format::Csv => typed(
            netsec_stages::predictions_csv(&frame, &predictions)
                .map_err(|e| ApiError::internal(format!("failed to encode the response: {e}")))?
                .into_bytes(),
            "text/csv; charset=utf-8",
        ),
        Format::Html => typed(
            render::to_html(&frame, &predictions, &summary, &model.card, phishing).into_bytes(),
            "text/html; charset=utf-8",
        ),
    };
    Ok(response)
}

fn typed(body: Vec<u8>, content_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

fn too_slow(limit: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the request body was not received within {}",
            humantime::format_duration(limit)
        ),
    )
    .with_field("body")
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than the limit of {limit} bytes"),
    )
    .with_field("body")
}

/// Reads the whole body, refusing more than `limit` bytes (early, from `Content-Length`, when
/// the client declares it).
async fn read_body(req: Request, limit: BodyLimits) -> Result<Bytes, ApiError> {
    let (parts, body) = req.into_parts();
    read_limited(&parts.headers, body, limit).await
}

async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limits: BodyLimits,
) -> Result<Bytes, ApiError> {
    let limit = limits.bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let collected = tokio::time::timeout(limits.time, Limited::new(body, limit).collect())
        .await
        .map_err(|_| too_slow(limits.time))?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(e) => Err(
            ApiError::bad_request(format!("failed to read the request body: {e}"))
                .with_field("body"),
        ),
    }
}

/// The first file part of a multipart form (or the part named `file`), and its file name.
async fn read_multipart(req: Request, limit: BodyLimits) -> Result<(Bytes, String), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_limited(&parts.headers, body, limit).await?;
    let req = Request::from_parts(parts, Body::from(bytes));
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| {
        ApiError::bad_request(format!("invalid multipart form: {}", e.body_text()))
            .with_field("file")
    })?;
    loop {
        let field = form.next_field().await.map_err(|e| {
            ApiError::new(
                e.status(),
                format!("invalid multipart form: {}", e.body_text()),
            )
            .with_field("file")
        })?;
        let Some(field) = field else {
            return Err(ApiError::bad_request(
                "the multipart form has no file: send the CSV in a part named `file`",
            )
            .with_field("file"));
        };
        let file_name = field.file_name().map(str::to_string);
        if file_name.is_none() && field.name() != Some("file") {
            continue;
        }
        let name = file_name.unwrap_or_else(|| "file".to_string());
        let data = field.bytes().await.map_err(|e| {
            ApiError::new(
                e.status(),
                format!("failed to read the uploaded file: {}", e.body_text()),
            )
            .with_field("file")
        })?;
        return Ok((data, name));
    }
}
