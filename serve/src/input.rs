//! Request bodies → a schema-checked `Frame`: CSV text (raw or from a multipart file) or JSON
//! rows (`[{col: value}]` or `{"rows": [...]}`). Every failure is a 4xx `ApiError`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use netsec_stages::{Frame, LabelMode, Problem, Schema, StageError};
use serde_json::Value;

use crate::error::ApiError;
use crate::rows_source::RowsSource;

/// Where the rows came from; decides how positions are named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// CSV: positions are file lines (header = line 1).
    Csv,
    /// JSON: positions are 1-based row numbers.
    Json,
}

/// Parses and checks CSV text against `schema` (the label column may be present or not).
pub fn frame_from_csv(bytes: Bytes, origin: &str, schema: &Schema) -> Result<Frame, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty: send CSV text with a header line",
        )
        .with_field("body"));
    }
    if let Err(e) = std::str::from_utf8(&bytes) {
        let offset = e.valid_up_to();
        let line = 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count();
        return Err(ApiError::bad_request(format!(
            "the body is not valid UTF-8 (line {line}, byte offset {offset})"
        ))
        .with_field("body"));
    }
    let mut source = netsec_stages::CsvSource::from_bytes(origin, bytes.to_vec());
    Frame::from_source(&mut source, schema, LabelMode::Optional)
        .map_err(|e| stage_error(e, InputKind::Csv))
}

/// Parses JSON rows and checks them against `schema`.
pub fn frame_from_json(bytes: &[u8], schema: &Schema) -> Result<Frame, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty: send a JSON array of row objects",
        )
        .with_field("body"));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
        .with_field("body")
    })?;
    let (rows, prefix) = match value {
        Value::Array(rows) => (rows, ""),
        Value::Object(mut obj) => match obj.remove("rows") {
            Some(Value::Array(rows)) => (rows, "rows"),
            Some(_) => {
                return Err(
                    ApiError::bad_request("`rows` must be an array of objects").with_field("rows")
                )
            }
            None => {
                return Err(ApiError::bad_request(
                    "expected an array of row objects or {\"rows\": [...]}",
                )
                .with_field("rows"))
            }
        },
        _ => {
            return Err(ApiError::bad_request(
                "expected an array of row objects or {\"rows\": [...]}",
            )
            .with_field("body"))
        }
    };
    if rows.is_empty() {
        return Err(ApiError::bad_request("no rows: the array is empty")
            .with_field(if prefix.is_empty() { "body" } else { "rows" }));
    }
    // Header = keys in order of first appearance; a row lacking a key gets an empty cell,
    // which the schema check reports as a missing cell of that column.
    let mut header: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        if let Value::Object(obj) = row {
            for k in obj.keys() {
                if !index.contains_key(k) {
                    index.insert(k.clone(), header.len());
                    header.push(k.clone());
                }
            }
        }
    }
    let mut cells: Vec<Vec<String>> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let at = if prefix.is_empty() {
            format!("[{i}]")
        } else {
            format!("{prefix}[{i}]")
        };
        let Value::Object(obj) = row else {
            return Err(ApiError::bad_request(format!("{at} is not an object")).with_field(at));
        };
        let mut out = vec![String::new(); header.len()];
        for (k, v) in obj {
            let text = match v {
                Value::Null => String::new(),
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
                    return Err(ApiError::bad_request(format!(
                        "{at}.{k}: expected a number, a string or null"
                    ))
                    .with_field(format!("{at}.{k}")))
                }
            };
            if let Some(&j) = index.get(k) {
                out[j] = text;
            }
        }
        cells.push(out);
    }
    let mut source = RowsSource::new(header, cells);
    Frame::from_source(&mut source, schema, LabelMode::Optional)
        .map_err(|e| stage_error(e, InputKind::Json))
}

/// Maps a loading error to a response: schema problems are 422 naming column and row.
pub fn stage_error(e: StageError, kind: InputKind) -> ApiError {
    match e {
        StageError::Data { problems, .. } => rejected(&problems, kind),
        StageError::Csv { line, message, .. } => {
            ApiError::bad_request(format!("malformed CSV at line {line}: {message}"))
                .with_field("body")
        }
        other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    }
}

fn rejected(problems: &[Problem], kind: InputKind) -> ApiError {
    let texts: Vec<String> = problems.iter().map(|p| describe(p, kind)).collect();
    let mut err = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "the input does not match the model's schema: {}",
            texts.join("; ")
        ),
    );
    err.field = problems.iter().find_map(column_of);
    err.problems = problems
        .iter()
        .zip(&texts)
        .map(|(p, text)| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            if let Value::Object(obj) = &mut v {
                if let Some(line) = obj.get("line").and_then(Value::as_u64) {
                    obj.insert("row".into(), Value::from(line.saturating_sub(1)));
                }
                obj.insert("message".into(), Value::from(text.as_str()));
            }
            v
        })
        .collect();
    err
}

fn column_of(p: &Problem) -> Option<String> {
    match p {
        Problem::DuplicateColumn { column, .. }
        | Problem::MissingColumn { column }
        | Problem::ExtraColumn { column }
        | Problem::WrongType { column, .. }
        | Problem::OutOfDomain { column, .. }
        | Problem::MissingCell { column, .. } => Some(column.clone()),
        Problem::RenamedColumn { expected, .. } => Some(expected.clone()),
        Problem::EmptyFile | Problem::HeaderOnly | Problem::RaggedRow { .. } => None,
    }
}

/// The problem's sentence, with JSON positions named as rows rather than lines.
fn describe(p: &Problem, kind: InputKind) -> String {
    let text = p.to_string();
    let line = match p {
        Problem::WrongType { line, .. }
        | Problem::OutOfDomain { line, .. }
        | Problem::MissingCell { line, .. }
        | Problem::RaggedRow { line, .. } => *line,
        _ => return text,
    };
    match kind {
        InputKind::Csv => text.replacen(
            &format!("line {line}"),
            &format!("line {line} (row {})", line.saturating_sub(1)),
            1,
        ),
        InputKind::Json => text.replacen(
            &format!("line {line}"),
            &format!("row {}", line.saturating_sub(1)),
            1,
        ),
    }
}
