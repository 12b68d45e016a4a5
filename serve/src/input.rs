//! Request bodies → a schema-checked `Frame`: CSV text (raw or from a multipart file) or JSON
//! rows (`[{col: value}]` or `{"rows": [...]}`). Every failure is a 4xx `ApiError`.

use axum::body::Bytes;
use axum::http::StatusCode;
use netsec_stages::{Frame, LabelMode, Problem, Schema, StageError};
use serde_json::Value;

use crate::error::ApiError;
use crate::json_rows::json_to_csv;
use crate::truncate::{clip, clip_json};

/// Where the rows came from; decides how positions are named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// CSV: positions are file lines (header = line 1).
    Csv,
    /// JSON: positions are 1-based row numbers.
    Json,
}

/// Parses and checks CSV text against `schema` (the label column may be present or not).
pub fn frame_from_csv(
    bytes: Bytes,
    origin: &str,
    schema: &Schema,
    max_rows: usize,
) -> Result<Frame, ApiError> {
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
    check_csv_rows(&bytes, max_rows)?;
    let mut source = netsec_stages::CsvSource::from_bytes(origin, Vec::from(bytes));
    Frame::from_source(&mut source, schema, LabelMode::Optional)
        .map_err(|e| stage_error(e, InputKind::Csv))
}

/// Parses JSON rows and checks them against `schema` (at most `max_rows` rows).
pub fn frame_from_json(bytes: &[u8], schema: &Schema, max_rows: usize) -> Result<Frame, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty: send a JSON array of row objects",
        )
        .with_field("body"));
    }
    let csv = json_to_csv(bytes, schema, max_rows)?;
    let mut source = netsec_stages::CsvSource::from_bytes("request rows", csv);
    Frame::from_source(&mut source, schema, LabelMode::Optional)
        .map_err(|e| stage_error(e, InputKind::Json))
}

/// Refuses a CSV body with more than `max_rows` lines after the header (counted before
/// parsing, so the frame never grows past the bound).
pub fn check_csv_rows(bytes: &[u8], max_rows: usize) -> Result<(), ApiError> {
    let mut lines = bytes.iter().filter(|b| **b == b'\n').count();
    if bytes.last().is_some_and(|b| *b != b'\n') {
        lines += 1;
    }
    if lines.saturating_sub(1) > max_rows {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("more than {max_rows} rows: send at most {max_rows} rows per request"),
        )
        .with_field("body"));
    }
    Ok(())
}

/// Maps a loading error to a response: schema problems are 422 naming column and row.
pub fn stage_error(e: StageError, kind: InputKind) -> ApiError {
    match e {
        StageError::Data { problems, .. } => rejected(&problems, kind),
        StageError::Csv { line, message, .. } => {
            ApiError::bad_request(format!("malformed CSV at line {line}: {}", clip(&message)))
                .with_field("body")
        }
        other => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, clip(&other.to_string())),
    }
}

fn rejected(problems: &[Problem], kind: InputKind) -> ApiError {
    let texts: Vec<String> = problems.iter().map(|p| clip(&describe(p, kind))).collect();
    let mut err = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "the input does not match the model's schema: {}",
            texts.join("; ")
        ),
    );
    err.field = problems.iter().find_map(column_of).map(|c| clip(&c));
    err.problems = problems
        .iter()
        .zip(&texts)
        .map(|(p, text)| {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            clip_json(&mut v);
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
