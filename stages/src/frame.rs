//! `Frame`: a table loaded and checked against the schema (features as `Array2<f32>`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use ndarray::{Array2, Axis};

use crate::error::{Problem, Result, StageError};
use crate::schema::{Dtype, Schema};
use crate::source::{CsvSource, RawRecord, Source};

/// Whether the label column must be present (training data) or may be absent (prediction input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelMode {
    Required,
    Optional,
}

/// A loaded table: features in schema order (NaN for an empty cell of a nullable column), the
/// label in the dataset coding when present, and the source line of every row.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Where the rows came from, for messages.
    pub origin: String,
    /// The header exactly as found (after trimming).
    pub header: Vec<String>,
    /// Feature names in schema order (the columns of `features`).
    pub feature_names: Vec<String>,
    /// Dtype of each feature, used to write the table back.
    pub dtypes: Vec<Dtype>,
    /// rows × features, as `f32`: half the memory of `f64`, and exact for integer codes up to
    /// ±2²⁴ (the dataset's cells are -1, 0 or 1); a `float64` column keeps about 7 significant
    /// digits.
    pub features: Array2<f32>,
    /// Label name and values in the dataset coding (`-1` phishing / `1` legitimate).
    pub label_name: String,
    pub labels: Option<Vec<i64>>,
    /// 1-based source line of each row (header = line 1).
    pub lines: Vec<usize>,
}

/// Rows read per batch from a source.
const BATCH: usize = 4096;

impl Frame {
    /// Loads and checks a CSV file. All problems are collected; any problem is an error of kind
    /// `Rejected` (`StageError::Data`) listing each of them.
    pub fn read_csv(path: &Path, schema: &Schema, labels: LabelMode) -> Result<Frame> {
        let mut source = CsvSource::open(path)?;
        Frame::from_source(&mut source, schema, labels)
    }

    /// Loads and checks the rows of any source.
    pub fn from_source(
        source: &mut dyn Source,
        schema: &Schema,
        labels: LabelMode,
    ) -> Result<Frame> {
        let origin = source.origin();
        let reject = |problems: Vec<Problem>| StageError::Data {
            origin: origin.clone(),
            problems,
        };
        let Some(header) = source.header()? else {
            return Err(reject(vec![Problem::EmptyFile]));
        };
        let mut problems = Vec::new();
        let plan = ColumnPlan::new(&header, schema, labels, &mut problems);

        let n_feat = schema.n_features();
        let mut values: Vec<f32> = Vec::new();
        let mut label_values: Vec<i64> = Vec::new();
        let mut lines: Vec<usize> = Vec::new();
        let mut checks: Vec<CellCheck> = plan.cols.iter().map(|_| CellCheck::default()).collect();
        let mut ragged: Option<(usize, usize, usize)> = None; // (first line, found, count)
        let mut batch: Vec<RawRecord> = Vec::new();
        let mut count = 0usize;
        let mut slot_of_file_col: Vec<Option<usize>> = vec![None; header.len()];
        for (k, col) in plan.cols.iter().enumerate() {
            if let Some(i) = col.file_index {
                slot_of_file_col[i] = Some(k);
            }
        }
        let mut row = vec![f64::NAN; plan.cols.len()];
        loop {
            let n = source.next_batch(&mut batch, BATCH)?;
            if n == 0 {
                break;
            }
            for rec in &batch[..n] {
                count += 1;
                let line = rec
                    .position()
                    .map(|p| p.line() as usize)
                    .unwrap_or(count + 1);
                if rec.len() != header.len() {
                    let r = ragged.get_or_insert((line, rec.len(), 0));
                    r.2 += 1;
                    continue;
                }
                lines.push(line);
                // Walk the record's cells in file order; each one lands in its schema slot.
                row.iter_mut().for_each(|v| *v = f64::NAN);
                for (cell, slot) in rec.iter().zip(&slot_of_file_col) {
                    if let Some(k) = *slot {
                        row[k] = checks[k].cell(&plan.cols[k], cell, line);
                    }
                }
                values.extend(row[..n_feat].iter().map(|&v| v as f32));
                if plan.has_label {
                    let v = row[n_feat];
                    label_values.push(if v.is_nan() { 0 } else { v as i64 });
                }
            }
        }
        if count == 0 {
            problems.push(Problem::HeaderOnly);
        }
        if let Some((line, found, rows)) = ragged {
            problems.push(Problem::RaggedRow {
                line,
                expected: header.len(),
                found,
                rows,
            });
        }
        for (col, check) in plan.cols.iter().zip(checks) {
            check.into_problems(col, &mut problems);
        }
        if !problems.is_empty() {
            return Err(reject(problems));
        }
        let rows = lines.len();
        // Growth by doubling can leave up to half the values' size unused.
        values.shrink_to_fit();
        let features =
            Array2::from_shape_vec((rows, n_feat), values).map_err(|e| StageError::Fit {
                message: format!("internal shape error: {e}"),
            })?;
        Ok(Frame {
            origin,
            header,
            feature_names: schema.feature_names(),
            dtypes: schema.columns.iter().map(|c| c.dtype).collect(),
            features,
            label_name: schema.target.column.clone(),
            labels: plan.has_label.then_some(label_values),
            lines,
        })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.features.nrows()
    }

    /// Number of empty (NaN) feature cells.
    pub fn missing_cells(&self) -> usize {
        self.features.iter().filter(|v| v.is_nan()).count()
    }

    /// The labels mapped to model classes (positive = 1), if the frame has labels.
    pub fn classes(&self, schema: &Schema) -> Option<Vec<u8>> {
        self.labels.as_ref().map(|l| {
            l.iter()
                .map(|v| schema.label_to_class(*v).unwrap_or(0))
                .collect()
        })
    }

    /// A new frame with the given rows, in the given order.
    pub fn select(&self, rows: &[usize]) -> Frame {
        Frame {
            origin: self.origin.clone(),
            header: self.header.clone(),
            feature_names: self.feature_names.clone(),
            dtypes: self.dtypes.clone(),
            features: self.features.select(Axis(0), rows),
            label_name: self.label_name.clone(),
            labels: self
                .labels
                .as_ref()
                .map(|l| rows.iter().map(|&i| l[i]).collect()),
            lines: rows.iter().map(|&i| self.lines[i]).collect(),
        }
    }

    /// The rows `rows` of this frame, in that order, like [`Frame::select`]; when `rows` is
    /// ascending (as the splits return) the rows are moved down within the frame's own buffers
    /// instead of copied, so memory does not hold the frame and the selection at once.
    pub fn into_rows(self, rows: &[usize]) -> Frame {
        let standard = self.features.is_standard_layout();
        if !standard || rows.windows(2).any(|w| w[0] >= w[1]) {
            return self.select(rows);
        }
        let p = self.features.ncols();
        let (mut values, offset) = self.features.into_raw_vec_and_offset();
        debug_assert_eq!(offset.unwrap_or(0), 0);
        keep_rows(&mut values, p, rows);
        let mut lines = self.lines;
        keep_rows(&mut lines, 1, rows);
        let labels = self.labels.map(|mut l| {
            keep_rows(&mut l, 1, rows);
            l
        });
        Frame {
            origin: self.origin,
            header: self.header,
            feature_names: self.feature_names,
            dtypes: self.dtypes,
            // Cannot fail: `values` holds rows × p values.
            features: Array2::from_shape_vec((rows.len(), p), values)
                .unwrap_or_else(|_| Array2::zeros((0, p))),
            label_name: self.label_name,
            labels,
            lines,
        }
    }

    /// The table as CSV text: features in schema order, then the label if present. Integers
    /// are written as integers, floats in Rust's shortest round-trip form, NaN as an empty cell.
    pub fn to_csv_string(&self) -> Result<String> {
        self.to_csv_string_with(&[])
    }

    /// Like `to_csv_string`, with extra columns appended after the label (e.g. `prediction`,
    /// `phishing_probability` of `netsec predict`); each holds one already formatted cell per row.
    pub fn to_csv_string_with(&self, extra: &[(&str, &[String])]) -> Result<String> {
        let mut out = Vec::with_capacity(
            self.n_rows() * (self.feature_names.len() + 1 + 8 * extra.len()) * 3 + 1024,
        );
        self.write_csv_to(&mut out, extra)
            .map_err(|e| StageError::write(format!("<CSV of `{}`>", self.origin), e))?;
        // Every cell is a `String` or a formatted number: the bytes are UTF-8.
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Writes the table as CSV (the [`Frame::to_csv_string_with`] layout) with the csv crate: a
    /// name or cell holding a comma, quote or line break is quoted, anything else is written
    /// as is, one `\n`-terminated line per row.
    pub fn write_csv_to<W: std::io::Write>(
        &self,
        out: W,
        extra: &[(&str, &[String])],
    ) -> std::io::Result<()> {
        self.write_rows_to(out, extra, None)
    }

    /// [`Frame::write_csv_to`] of the rows `rows` only (in that order; all rows when `None`),
    /// without a selected copy of the frame.
    fn write_rows_to<W: std::io::Write>(
        &self,
        out: W,
        extra: &[(&str, &[String])],
        rows: Option<&[usize]>,
    ) -> std::io::Result<()> {
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(out);
        for name in &self.feature_names {
            w.write_field(name)?;
        }
        if self.labels.is_some() {
            w.write_field(&self.label_name)?;
        }
        for (name, _) in extra {
            w.write_field(name)?;
        }
        w.write_record(None::<&[u8]>)?;
        let mut cell = String::with_capacity(32);
        let count = rows.map_or(self.n_rows(), <[usize]>::len);
        for k in 0..count {
            let r = rows.map_or(k, |rows| rows[k]);
            for (j, v) in self.features.row(r).iter().enumerate() {
                cell.clear();
                format_cell(&mut cell, *v, self.dtypes[j]);
                w.write_field(&cell)?;
            }
            if let Some(l) = &self.labels {
                cell.clear();
                let _ = write!(cell, "{}", l[r]);
                w.write_field(&cell)?;
            }
            for (_, cells) in extra {
                w.write_field(cells.get(k).map(String::as_str).unwrap_or(""))?;
            }
            w.write_record(None::<&[u8]>)?;
        }
        w.flush()
    }

    /// Writes the table as CSV atomically, streamed to the file.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        crate::fsio::write_atomic_with(path, |w| self.write_rows_to(w, &[], None))
    }

    /// Writes the rows `rows` (indices into this frame, in that order) as CSV atomically,
    /// streamed to the file: the same bytes as `self.select(rows).write_csv(path)` without the
    /// selected copy.
    pub fn write_csv_rows(&self, path: &Path, rows: &[usize]) -> Result<()> {
        crate::fsio::write_atomic_with(path, |w| self.write_rows_to(w, &[], Some(rows)))
    }
}

/// Keeps the `width`-wide rows `rows` (ascending) of the row-major `v`, moved down in place,
/// and gives the rest of the buffer back.
fn keep_rows<T: Copy>(v: &mut Vec<T>, width: usize, rows: &[usize]) {
    for (k, &i) in rows.iter().enumerate() {
        // `i >= k`: a source row is never overwritten before it is read.
        v.copy_within(i * width..(i + 1) * width, k * width);
    }
    v.truncate(rows.len() * width);
    v.shrink_to_fit();
}

/// Appends one cell as written to CSV (and shown in tables): an `int64` value as an integer,
/// anything else in Rust's shortest round-trip form of the stored `f32`, NaN (a missing cell)
/// as nothing.
pub fn format_cell(out: &mut String, v: f32, dtype: Dtype) {
    if v.is_nan() {
        return;
    }
    match dtype {
        Dtype::Int64 if v.fract() == 0.0 && v.abs() < 9.0e15 => {
            let _ = write!(out, "{}", v as i64);
        }
        _ => {
            let _ = write!(out, "{v}");
        }
    }
}

/// How each schema column (features, then the label) maps to the file.
struct ColumnPlan {
    cols: Vec<PlannedColumn>,
    has_label: bool,
}

struct PlannedColumn {
    name: String,
    file_index: Option<usize>,
    dtype: Dtype,
    allowed: Option<Vec<f64>>,
    nullable: bool,
}

impl ColumnPlan {
    fn new(
        header: &[String],
        schema: &Schema,
        labels: LabelMode,
        problems: &mut Vec<Problem>,
    ) -> Self {
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            if let Some(first) = index.get(name.as_str()) {
                problems.push(Problem::DuplicateColumn {
                    column: name.clone(),
                    first: first + 1,
                    second: i + 1,
                });
            } else {
                index.insert(name.as_str(), i);
            }
        }
        let mut cols: Vec<PlannedColumn> = schema
            .columns
            .iter()
            .map(|c| PlannedColumn {
                name: c.name.clone(),
                file_index: index.get(c.name.as_str()).copied(),
                dtype: c.dtype,
                allowed: c.allowed.clone(),
                nullable: c.nullable,
            })
            .collect();
        let target = &schema.target.column;
        let label_index = index.get(target.as_str()).copied();
        let mut missing: Vec<String> = cols
            .iter()
            .filter(|c| c.file_index.is_none())
            .map(|c| c.name.clone())
            .collect();
        if label_index.is_none() && labels == LabelMode::Required {
            missing.push(target.clone());
        }
        let known = |n: &str| schema.columns.iter().any(|c| c.name == n) || n == target;
        let mut extra: Vec<String> = Vec::new();
        for name in header {
            if !known(name) && !extra.contains(name) {
                extra.push(name.clone());
            }
        }
        pair_renamed(missing, extra, problems);
        let has_label = label_index.is_some();
        if has_label {
            cols.push(PlannedColumn {
                name: target.clone(),
                file_index: label_index,
                dtype: Dtype::Int64,
                allowed: Some(schema.label_values()),
                nullable: false,
            });
        }
        ColumnPlan { cols, has_label }
    }
}

/// Pairs each missing column with the closest extra column (a likely rename), and reports the rest.
fn pair_renamed(missing: Vec<String>, mut extra: Vec<String>, problems: &mut Vec<Problem>) {
    for m in missing {
        let best = extra
            .iter()
            .enumerate()
            .map(|(i, e)| (close_distance(&m, e), i))
            .filter(|(d, _)| d.is_some())
            .min();
        match best {
            Some((_, i)) => {
                let found = extra.remove(i);
                problems.push(Problem::RenamedColumn { expected: m, found });
            }
            None => problems.push(Problem::MissingColumn { column: m }),
        }
    }
    for e in extra {
        problems.push(Problem::ExtraColumn { column: e });
    }
}

/// Edit distance between two names, compared case- and punctuation-insensitively, when it is
/// small enough to suggest a rename.
fn close_distance(a: &str, b: &str) -> Option<usize> {
    let norm = |s: &str| -> Vec<char> {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    // A garbage header can hold megabyte-long names, and the distance is quadratic: a name
    // over 1 KiB is never a rename of a schema column.
    if a.len().max(b.len()) > 1024 {
        return None;
    }
    let (a, b) = (norm(a), norm(b));
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    let d = prev[b.len()];
    let limit = (a.len().min(b.len()) / 4).max(1);
    (d <= limit).then_some(d)
}

/// First offending line, its value, and a count, per kind of cell problem of one column.
/// The largest integer magnitude an `f32` holds exactly (2²⁴): the bound of an int64 cell.
const F32_EXACT_INT: u64 = 1 << 24;

#[derive(Default)]
struct CellCheck {
    wrong_type: Option<(usize, String)>,
    wrong_type_rows: usize,
    out_of_domain: Option<(usize, String)>,
    out_of_domain_rows: usize,
    missing: Option<usize>,
    missing_rows: usize,
}

impl CellCheck {
    /// Parses one cell; problems are recorded and the value becomes NaN.
    #[inline]
    fn cell(&mut self, col: &PlannedColumn, raw: &[u8], line: usize) -> f64 {
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            if !col.nullable {
                self.missing_rows += 1;
                self.missing.get_or_insert(line);
            }
            return f64::NAN;
        }
        let parsed = match col.dtype {
            // The dataset's cells are almost all -1, 0 or 1.
            Dtype::Int64 => match raw {
                b"1" => Some(1.0),
                b"0" => Some(0.0),
                b"-1" => Some(-1.0),
                // Features are stored as f32: an integer beyond ±2²⁴ would be rounded.
                _ => parse_int(raw)
                    .filter(|v| v.unsigned_abs() <= F32_EXACT_INT)
                    .map(|v| v as f64),
            },
            // Beyond f32's range a value would be stored as ±infinity.
            Dtype::Float64 => std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|v| v.is_nan() || v.abs() <= f64::from(f32::MAX)),
        };
        let Some(v) = parsed else {
            return self.wrong_type(raw, line);
        };
        if v.is_nan() {
            // A literal `nan` is an empty cell written differently.
            if !col.nullable {
                self.missing_rows += 1;
                self.missing.get_or_insert(line);
            }
            return f64::NAN;
        }
        if let Some(allowed) = &col.allowed {
            if !allowed.contains(&v) {
                return self.out_of_domain(raw, line);
            }
        }
        v
    }

    #[cold]
    fn wrong_type(&mut self, raw: &[u8], line: usize) -> f64 {
        self.wrong_type_rows += 1;
        self.wrong_type
            .get_or_insert_with(|| (line, String::from_utf8_lossy(raw).into_owned()));
        f64::NAN
    }

    #[cold]
    fn out_of_domain(&mut self, raw: &[u8], line: usize) -> f64 {
        self.out_of_domain_rows += 1;
        self.out_of_domain
            .get_or_insert_with(|| (line, String::from_utf8_lossy(raw).into_owned()));
        f64::NAN
    }

    fn into_problems(self, col: &PlannedColumn, problems: &mut Vec<Problem>) {
        if let Some((line, value)) = self.wrong_type {
            problems.push(Problem::WrongType {
                column: col.name.clone(),
                line,
                value,
                expected: col.dtype,
                rows: self.wrong_type_rows,
            });
        }
        if let Some((line, value)) = self.out_of_domain {
            problems.push(Problem::OutOfDomain {
                column: col.name.clone(),
                line,
                value,
                allowed: col.allowed.clone().unwrap_or_default(),
                rows: self.out_of_domain_rows,
            });
        }
        if let Some(line) = self.missing {
            problems.push(Problem::MissingCell {
                column: col.name.clone(),
                line,
                rows: self.missing_rows,
            });
        }
    }
}

/// A strict decimal integer: optional sign, then digits only.
#[inline]
fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
