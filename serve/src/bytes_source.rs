//! `BytesSource`: a `Source` over CSV bytes already in memory (an uploaded body), and
//! `RowsSource`: one over JSON rows, formatted as text so both go through the same schema checks.

use std::io::Cursor;

use axum::body::Bytes;
use netsec_stages::source::{RawRecord, Source};
use netsec_stages::StageError;

/// CSV text held in memory. Mirrors `CsvSource`: header trimmed, a UTF-8 BOM dropped, ragged
/// rows passed through for the frame loader to report.
pub struct BytesSource {
    origin: String,
    reader: ::csv::Reader<Cursor<Bytes>>,
    header_read: bool,
}

impl BytesSource {
    pub fn new(origin: impl Into<String>, bytes: Bytes) -> BytesSource {
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Cursor::new(bytes));
        BytesSource {
            origin: origin.into(),
            reader,
            header_read: false,
        }
    }

    fn csv_error(&self, e: ::csv::Error) -> StageError {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        StageError::Csv {
            path: self.origin.clone().into(),
            line,
            column: 0,
            message: format!("{:?}", e.into_kind()),
        }
    }
}

impl Source for BytesSource {
    fn origin(&self) -> String {
        self.origin.clone()
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn header(&mut self) -> netsec_stages::Result<Option<Vec<String>>> {
        self.header_read = true;
        let mut rec = RawRecord::new();
        let got = self
            .reader
            .read_byte_record(&mut rec)
            .map_err(|e| self.csv_error(e))?;
        if !got || (rec.len() == 1 && rec[0].iter().all(u8::is_ascii_whitespace)) {
            return Ok(None);
        }
        let mut names: Vec<String> = rec
            .iter()
            .map(|c| String::from_utf8_lossy(c).trim().to_string())
            .collect();
        if let Some(first) = names.first_mut() {
            if let Some(stripped) = first.strip_prefix('\u{feff}') {
                *first = stripped.to_string();
            }
        }
        Ok(Some(names))
    }

    fn next_batch(
        &mut self,
        out: &mut Vec<RawRecord>,
        max_rows: usize,
    ) -> netsec_stages::Result<usize> {
        if !self.header_read {
            self.header()?;
        }
        let mut n = 0;
        while n < max_rows {
            if out.len() <= n {
                out.push(RawRecord::new());
            }
            let got = self
                .reader
                .read_byte_record(&mut out[n])
                .map_err(|e| self.csv_error(e))?;
            if !got {
                break;
            }
            n += 1;
        }
        out.truncate(n);
        Ok(n)
    }
}

/// Rows given as JSON objects, already reduced to text cells in `header` order. Row `i`
/// (0-based) is reported at line `i + 2`, as if the header were line 1 of a CSV file.
pub struct RowsSource {
    header: Vec<String>,
    rows: std::vec::IntoIter<Vec<String>>,
    next_line: u64,
}

impl RowsSource {
    pub fn new(header: Vec<String>, rows: Vec<Vec<String>>) -> RowsSource {
        RowsSource {
            header,
            rows: rows.into_iter(),
            next_line: 2,
        }
    }
}

impl Source for RowsSource {
    fn origin(&self) -> String {
        "request rows".to_string()
    }

    fn always_changed(&self) -> bool {
        true
    }

    fn header(&mut self) -> netsec_stages::Result<Option<Vec<String>>> {
        Ok(Some(self.header.clone()))
    }

    fn next_batch(
        &mut self,
        out: &mut Vec<RawRecord>,
        max_rows: usize,
    ) -> netsec_stages::Result<usize> {
        out.clear();
        for row in self.rows.by_ref().take(max_rows) {
            let mut rec = RawRecord::from(row);
            let mut pos = ::csv::Position::new();
            pos.set_line(self.next_line);
            rec.set_position(Some(pos));
            self.next_line += 1;
            out.push(rec);
        }
        Ok(out.len())
    }
}
