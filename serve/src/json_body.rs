//! The JSON reply of `POST /predict`, written in chunks of rows as the client reads it, so a
//! large reply never exists whole in memory. Two forms:
//!
//! - default: `{"rows": [{feature: value, …, prediction, phishing_probability}, …], "summary",
//!   "model"}`;
//! - compact (`?form=compact`): `{"columns": [names…], "rows": [[values…], …], "summary",
//!   "model"}`, the column names once and each row an array in that order (about a third of
//!   the size for the phishing schema).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::Frame as BodyFrame;
use netsec_stages::{Frame, Predictions};

use crate::model::LoadedModel;
use crate::render::{compact_columns, CompactRow, ModelRef, Row, Rows, Summary};

/// Rows serialised per chunk.
const CHUNK_ROWS: usize = 512;

/// Which JSON form the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonForm {
    Objects,
    Compact,
}

/// A response body producing the reply chunk by chunk.
pub struct JsonRowsBody {
    model: Arc<LoadedModel>,
    frame: Frame,
    predictions: Predictions,
    summary: Summary,
    form: JsonForm,
    /// Next row to write; `None` before the opening chunk.
    next: Option<usize>,
    done: bool,
}

impl JsonRowsBody {
    pub fn new(
        model: Arc<LoadedModel>,
        frame: Frame,
        predictions: Predictions,
        summary: Summary,
        form: JsonForm,
    ) -> JsonRowsBody {
        JsonRowsBody {
            model,
            frame,
            predictions,
            summary,
            form,
            next: None,
            done: false,
        }
    }

    /// The next piece of the document, or `None` after the closing brace.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        if self.done {
            return Ok(None);
        }
        let n = self.frame.n_rows();
        let mut out = Vec::new();
        let start = match self.next {
            None => {
                out.push(b'{');
                if self.form == JsonForm::Compact {
                    out.extend_from_slice(b"\"columns\":");
                    serde_json::to_writer(&mut out, &compact_columns(&self.frame))?;
                    out.push(b',');
                }
                out.extend_from_slice(b"\"rows\":[");
                0
            }
            Some(i) => i,
        };
        let end = (start + CHUNK_ROWS).min(n);
        let rows = Rows {
            frame: &self.frame,
            predictions: &self.predictions,
        };
        for i in start..end {
            if i > 0 {
                out.push(b',');
            }
            match self.form {
                JsonForm::Objects => serde_json::to_writer(&mut out, &Row { rows: &rows, i })?,
                JsonForm::Compact => {
                    serde_json::to_writer(&mut out, &CompactRow { rows: &rows, i })?
                }
            }
        }
        self.next = Some(end);
        if end == n {
            out.extend_from_slice(b"],\"summary\":");
            serde_json::to_writer(&mut out, &self.summary)?;
            out.extend_from_slice(b",\"model\":");
            serde_json::to_writer(&mut out, &ModelRef::of(&self.model.card))?;
            out.push(b'}');
            self.done = true;
        }
        Ok(Some(out))
    }
}

impl http_body::Body for JsonRowsBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BodyFrame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        Poll::Ready(match this.next_chunk() {
            Ok(Some(chunk)) => Some(Ok(BodyFrame::data(Bytes::from(chunk)))),
            Ok(None) => None,
            Err(e) => Some(Err(std::io::Error::other(e))),
        })
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}
