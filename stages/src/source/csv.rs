//! `CsvSource`: rows of a CSV file (RFC 4180 quoting, header line first).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{RawRecord, Source};
use crate::error::{Result, StageError};
use crate::limits::{human_bytes, read_regular, thousands, MAX_COLUMNS, MAX_RECORD_BYTES};

/// Reads a CSV file in batches. Ragged rows are passed through (the frame loader reports them).
///
/// The file is read into memory once: line numbers are counted from the bytes themselves,
/// because the csv crate's own line count drifts on CRLF files and blank lines. Only a regular
/// file is read; a record longer than [`MAX_RECORD_BYTES`] or a header of more than
/// [`MAX_COLUMNS`] columns is refused, so garbage costs one pass and a short message.
pub struct CsvSource {
    path: PathBuf,
    data: Arc<Vec<u8>>,
    reader: ::csv::Reader<SharedBytes>,
    header_read: bool,
    /// Byte offset up to which newlines have been counted, and how many there were.
    scan_pos: usize,
    scan_newlines: usize,
}

/// A `Read` over bytes shared with the source (which also scans them for line numbers).
struct SharedBytes {
    data: Arc<Vec<u8>>,
    pos: usize,
}

impl Read for SharedBytes {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.data[self.pos.min(self.data.len())..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl std::fmt::Debug for CsvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvSource")
            .field("path", &self.path)
            .finish()
    }
}

impl CsvSource {
    /// Opens `path`; the file is read into memory, no row is parsed yet. A FIFO or device is
    /// refused rather than read (it may never end).
    pub fn open(path: &Path) -> Result<CsvSource> {
        let data = read_regular(path, None)?;
        Ok(CsvSource::from_bytes(path, data))
    }

    /// CSV text already in memory (an uploaded body); `origin` names it in messages.
    pub fn from_bytes(origin: impl Into<PathBuf>, data: Vec<u8>) -> CsvSource {
        let data = Arc::new(data);
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(SharedBytes {
                data: Arc::clone(&data),
                pos: 0,
            });
        CsvSource {
            path: origin.into(),
            data,
            reader,
            header_read: false,
            scan_pos: 0,
            scan_newlines: 0,
        }
    }

    /// The 1-based line on which a record starting at byte `offset` begins. Offsets only grow,
    /// so the newlines are counted once; a record never starts with a line break, so any
    /// `\r`/`\n` at the offset (the rest of the previous terminator) is skipped first.
    fn line_at(&mut self, offset: usize) -> usize {
        let mut end = offset.max(self.scan_pos).min(self.data.len());
        self.scan_newlines += self.data[self.scan_pos..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        while end < self.data.len() && (self.data[end] == b'\r' || self.data[end] == b'\n') {
            if self.data[end] == b'\n' {
                self.scan_newlines += 1;
            }
            end += 1;
        }
        self.scan_pos = end;
        self.scan_newlines + 1
    }

    /// A record too long to be a row of any table netsec reads: refused at its line.
    fn check_length(&mut self, rec: &RawRecord) -> Result<()> {
        let len = rec.as_slice().len();
        if len <= MAX_RECORD_BYTES {
            return Ok(());
        }
        let offset = rec
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(self.scan_pos);
        let line = self.line_at(offset);
        Err(StageError::Refused {
            path: self.path.clone(),
            reason: format!(
                "the record at line {line} holds {} bytes; at most {} are read per line",
                thousands(len),
                human_bytes(MAX_RECORD_BYTES as u64)
            ),
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

    fn header(&mut self) -> Result<Option<Vec<String>>> {
        self.header_read = true;
        let mut rec = RawRecord::new();
        let got = self
            .reader
            .read_byte_record(&mut rec)
            .map_err(|e| self.csv_error(e))?;
        self.check_length(&rec)?;
        if !got || (rec.len() == 1 && rec[0].iter().all(u8::is_ascii_whitespace)) {
            return Ok(None);
        }
        if rec.len() > MAX_COLUMNS {
            return Err(StageError::Refused {
                path: self.path.clone(),
                reason: format!(
                    "the header (line 1) has {} columns; at most {} are read",
                    thousands(rec.len()),
                    thousands(MAX_COLUMNS)
                ),
            });
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
            self.check_length(&out[n])?;
            // Fully blank lines are skipped by the csv crate; nothing else is dropped.
            let offset = out[n]
                .position()
                .map(|p| p.byte() as usize)
                .unwrap_or(self.scan_pos);
            let line = self.line_at(offset);
            let mut pos = ::csv::Position::new();
            pos.set_byte(offset as u64)
                .set_line(line as u64)
                .set_record(n as u64);
            out[n].set_position(Some(pos));
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
    fn lines_are_right_with_crlf_and_blank_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("crlf.csv");
        std::fs::write(&p, "a,b\r\n1,2\r\n\r\n3,4\r\n\"x\ny\",5\r\n6,7\r\n").expect("write");
        let mut s = CsvSource::open(&p).expect("open");
        s.header().expect("header");
        let mut batch = Vec::new();
        assert_eq!(s.next_batch(&mut batch, 10).expect("batch"), 4);
        let lines: Vec<u64> = batch
            .iter()
            .map(|r| r.position().map(|p| p.line()).unwrap_or(0))
            .collect();
        assert_eq!(lines, vec![2, 4, 5, 7]);
    }

    #[test]
    fn long_records_and_wide_headers_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("long.csv");
        let cell = "y".repeat(MAX_RECORD_BYTES + 1);
        std::fs::write(&p, format!("a,b\n1,2\n3,{cell}\n")).expect("write");
        let mut s = CsvSource::open(&p).expect("open");
        s.header().expect("header");
        let mut batch = Vec::new();
        let e = s.next_batch(&mut batch, 10).expect_err("long");
        let msg = e.to_string();
        assert!(msg.contains("line 3") && msg.len() < 300, "{msg}");
        let p = dir.path().join("wide.csv");
        std::fs::write(&p, ",".repeat(MAX_COLUMNS)).expect("write");
        let e = CsvSource::open(&p)
            .expect("open")
            .header()
            .expect_err("wide");
        assert!(e.to_string().contains("4,097 columns"), "{e}");
        let e = CsvSource::open(Path::new("/dev/zero")).expect_err("device");
        assert_eq!(e.kind(), crate::error::ErrorKind::Rejected);
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
