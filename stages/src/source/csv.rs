//! `CsvSource`: rows of a CSV file (RFC 4180 quoting, header line first).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::{RawRecord, Source};
use crate::error::{Result, StageError};

/// Reads a CSV file in batches. Ragged rows are passed through (the frame loader reports them).
pub struct CsvSource {
    path: PathBuf,
    reader: ::csv::Reader<BufReader<File>>,
    header_read: bool,
}

impl std::fmt::Debug for CsvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSource")
            .field("path", &self.path)
            .finish()
    }
}

impl CsvSource {
    /// Opens `path`; nothing is read yet.
    pub fn open(path: &Path) -> Result<CsvSource> {
        let file = File::open(path).map_err(|e| StageError::read(path, e))?;
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        Ok(CsvSource {
            path: path.to_path_buf(),
            reader,
            header_read: false,
        })
    }

    fn csv_error(&self, e: ::csv::Error) -> StageError {
        let (line, column) = match e.position() {
            Some(p) => (p.line(), 0),
            None => (0, 0),
        };
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) => StageError::read(&self.path, io),
            other => StageError::Csv {
                path: self.path.clone(),
                line,
                column,
                message: format!("{other:?}"),
            },
        }
    }
}

impl Source for CsvSource {
    fn origin(&self) -> String {
        self.path.display().to_string()
    }

    fn always_changed(&self) -> bool {
        false
    }

    fn header(&mut self) -> Result<Option<Vec<String>>> {
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
        // A UTF-8 byte-order mark written by spreadsheet tools is not part of the first name.
        if let Some(first) = names.first_mut() {
            if let Some(stripped) = first.strip_prefix('\u{feff}') {
                *first = stripped.to_string();
            }
        }
        Ok(Some(names))
    }

    fn next_batch(&mut self, out: &mut Vec<RawRecord>, max_rows: usize) -> Result<usize> {
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
            // Fully blank lines are skipped by the csv crate; nothing else is dropped.
            n += 1;
        }
        out.truncate(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_and_batches_with_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "\u{feff}\"x\",y\n1,2\n3,4\n5,6\n").expect("write");
        let mut s = CsvSource::open(&p).expect("open");
        assert!(!s.always_changed());
        assert_eq!(
            s.header().expect("header"),
            Some(vec!["x".to_string(), "y".to_string()])
        );
        let mut batch = Vec::new();
        assert_eq!(s.next_batch(&mut batch, 2).expect("batch"), 2);
        assert_eq!(batch[1].position().map(|p| p.line()), Some(3));
        assert_eq!(s.next_batch(&mut batch, 2).expect("batch"), 1);
        assert_eq!(&batch[0][0], b"5");
        assert_eq!(s.next_batch(&mut batch, 2).expect("batch"), 0);
    }

    #[test]
    fn empty_file_has_no_header() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("e.csv");
        std::fs::write(&p, "").expect("write");
        let mut s = CsvSource::open(&p).expect("open");
        assert_eq!(s.header().expect("header"), None);
    }
}
