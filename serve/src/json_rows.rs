//! JSON rows (`[{col: value}]` or `{"rows": [...]}`) → CSV text in schema column order, in one
//! streaming pass with no JSON tree. The schema knows the columns, so a key it does not name is
//! refused as soon as it is read, and the text written is bounded by the body plus one
//! separator per cell of at most `max_rows` rows: memory stays a small multiple of the body
//! limit whatever the shape of the body (distinct keys per row, empty rows, deep nesting).
//!
//! The CSV then goes through the same schema checks as an uploaded file; row `i` is CSV line
//! `i + 2`, because a cell holding a line break is refused here (no column takes one).

use std::collections::HashMap;
use std::fmt;

use axum::http::StatusCode;
use netsec_stages::Schema;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::ApiError;
use crate::truncate::clip;

/// Converts a JSON body to CSV text (header line first). Errors are 400 (not JSON, wrong
/// shape), 422 (a key the schema does not know, a cell that is not a scalar) or 413 (too
/// many rows).
pub fn json_to_csv(bytes: &[u8], schema: &Schema, max_rows: usize) -> Result<Vec<u8>, ApiError> {
    let mut columns: HashMap<&str, usize> = schema
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let label = schema.target().column.as_str();
    columns.insert(label, schema.n_features());
    let mut names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
    names.push(label);
    let mut state = Rows {
        columns,
        names,
        max_rows,
        prefix: "",
        out: Vec::with_capacity(bytes.len() / 2),
        cells: vec![None; schema.n_features() + 1],
        with_label: None,
        count: 0,
        failure: None,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Top { rows: &mut state }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    if let Some(failure) = state.failure.take() {
        return Err(failure);
    }
    if let Err(e) = parsed {
        return Err(ApiError::bad_request(format!(
            "invalid JSON at line {}, column {}: {}",
            e.line(),
            e.column(),
            clip(&e.to_string())
        ))
        .with_field("body"));
    }
    if state.count == 0 {
        let field = if state.prefix.is_empty() {
            "body"
        } else {
            "rows"
        };
        return Err(ApiError::bad_request("no rows: the array is empty").with_field(field));
    }
    Ok(state.out)
}

/// What the pass has read so far.
struct Rows<'s> {
    /// Column name → slot (features in schema order, then the label).
    columns: HashMap<&'s str, usize>,
    names: Vec<&'s str>,
    max_rows: usize,
    /// `""` for a bare array, `"rows"` inside `{"rows": [...]}`: how rows are named in errors.
    prefix: &'static str,
    out: Vec<u8>,
    /// The current row's cells by slot.
    cells: Vec<Option<String>>,
    /// Whether rows carry the label column, decided by the first row.
    with_label: Option<bool>,
    count: usize,
    /// A structured refusal; the serde error that stops the parse only carries it out.
    failure: Option<ApiError>,
}

impl Rows<'_> {
    fn at(&self) -> String {
        format!("{}[{}]", self.prefix, self.count)
    }

    fn fail<E: de::Error>(&mut self, err: ApiError) -> E {
        self.failure = Some(err);
        E::custom("request refused")
    }

    /// Appends the current row as one CSV line (the header first, after the first row).
    fn flush_row<E: de::Error>(&mut self) -> Result<(), E> {
        let n_feat = self.names.len() - 1;
        let has_label = self.cells[n_feat].is_some();
        let with_label = *self.with_label.get_or_insert(has_label);
        if has_label && !with_label {
            let err = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{}: has the label column `{}` but the first row does not: send it in every row or in none",
                    self.at(),
                    self.names[n_feat]
                ),
            )
            .with_field(format!("{}.{}", self.at(), self.names[n_feat]));
            return Err(self.fail(err));
        }
        if self.count == 0 {
            let header: Vec<&str> = self.names[..n_feat + usize::from(with_label)].to_vec();
            write_line(&mut self.out, header.iter().copied());
        }
        let width = n_feat + usize::from(with_label);
        write_line(
            &mut self.out,
            self.cells[..width]
                .iter()
                .map(|c| c.as_deref().unwrap_or("")),
        );
        self.cells.iter_mut().for_each(|c| *c = None);
        self.count += 1;
        Ok(())
    }
}

/// One CSV line; a cell is quoted when it holds a separator or a quote.
fn write_line<'a>(out: &mut Vec<u8>, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if cell.contains([',', '"']) {
            out.push(b'"');
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.push(b'\n');
}

/// The body: an array of rows, or an object whose `rows` is one (other keys are ignored).
struct Top<'r, 's> {
    rows: &'r mut Rows<'s>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of row objects or {\"rows\": [...]}")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        RowList { rows: self.rows }.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "rows" && !seen {
                seen = true;
                self.rows.prefix = "rows";
                map.next_value_seed(RowList {
                    rows: &mut *self.rows,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !seen {
            let err =
                ApiError::bad_request("expected an array of row objects or {\"rows\": [...]}")
                    .with_field("rows");
            return Err(self.rows.fail(err));
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.rows.fail(shape_error("body")))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.rows.fail(shape_error("body")))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.rows.fail(shape_error("body")))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.rows.fail(shape_error("body")))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.rows.fail(shape_error("body")))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.rows.fail(shape_error("body")))
    }
}

fn shape_error(field: &str) -> ApiError {
    ApiError::bad_request("expected an array of row objects or {\"rows\": [...]}").with_field(field)
}

/// The array of rows.
struct RowList<'r, 's> {
    rows: &'r mut Rows<'s>,
}

impl<'de> DeserializeSeed<'de> for RowList<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowList<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of row objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            if self.rows.count >= self.rows.max_rows {
                // One more element is a row too many (a trailing `]` is fine).
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(());
                }
                let err = ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "more than {} rows: send at most {} rows per request",
                        self.rows.max_rows, self.rows.max_rows
                    ),
                )
                .with_field(if self.rows.prefix.is_empty() {
                    "body"
                } else {
                    "rows"
                });
                return Err(self.rows.fail(err));
            }
            if seq
                .next_element_seed(Row {
                    rows: &mut *self.rows,
                })?
                .is_none()
            {
                return Ok(());
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.not_a_list())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.not_a_list())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.not_a_list())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.not_a_list())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.not_a_list())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.not_a_list())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.not_a_list())
    }
}

impl RowList<'_, '_> {
    /// Only reachable inside `{"rows": …}` (a bare body that is not an array is `Top`'s case).
    fn not_a_list<E: de::Error>(self) -> E {
        let err = ApiError::bad_request("`rows` must be an array of objects").with_field("rows");
        self.rows.fail(err)
    }
}

/// One row object: each key must be a schema column, each value a number, a string or null.
struct Row<'r, 's> {
    rows: &'r mut Rows<'s>,
}

impl<'de> DeserializeSeed<'de> for Row<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Row<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let rows = self.rows;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let Some(&slot) = rows.columns.get(key.as_ref()) else {
                let at = rows.at();
                let err = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "{at}: unknown column `{}`: the model's schema has no such column",
                        clip(&key)
                    ),
                )
                .with_field(format!("{at}.{}", clip(&key)));
                return Err(rows.fail(err));
            };
            let cell = map.next_value::<Cell>()?;
            let text = match cell {
                Cell::Text(t) if t.contains(['\n', '\r']) => {
                    let at = rows.at();
                    let err = ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("{at}.{key}: a cell cannot hold a line break"),
                    )
                    .with_field(format!("{at}.{key}"));
                    return Err(rows.fail(err));
                }
                Cell::Text(t) => Some(t),
                Cell::Null => None,
                Cell::Nested => {
                    let at = rows.at();
                    let err = ApiError::bad_request(format!(
                        "{at}.{key}: expected a number, a string or null"
                    ))
                    .with_field(format!("{at}.{key}"));
                    return Err(rows.fail(err));
                }
            };
            rows.cells[slot] = text;
        }
        rows.flush_row()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.not_an_object())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.not_an_object())
    }
}

impl Row<'_, '_> {
    fn not_an_object<E: de::Error>(self) -> E {
        let at = self.rows.at();
        let err = ApiError::bad_request(format!("{at} is not an object")).with_field(at);
        self.rows.fail(err)
    }
}

/// One cell's value.
enum Cell {
    Text(String),
    Null,
    /// An array, an object or a boolean: never a valid cell.
    Nested,
}

impl<'de> de::Deserialize<'de> for Cell {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Cell, D::Error> {
        d.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = Cell;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a string or null")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell, E> {
        Ok(Cell::Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Cell, E> {
        Ok(Cell::Text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Cell, E> {
        Ok(Cell::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Cell, E> {
        Ok(Cell::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Cell, E> {
        Ok(Cell::Nested)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cell, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Cell::Nested)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cell, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Cell::Nested)
    }
}
