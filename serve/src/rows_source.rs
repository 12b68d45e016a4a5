//! `RowsSource`: a `Source` over JSON rows, formatted as text so they go through the same
//! schema checks as CSV uploads (which use netsec-stages' `CsvSource::from_bytes`).

use netsec_stages::source::{RawRecord, Source};

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
