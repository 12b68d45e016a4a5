//! `StageError`: every failure of a data stage, with structured fields, a kind and a hint.

use std::fmt;
use std::path::PathBuf;

use crate::limits::{clip, thousands, MAX_LISTED};
use crate::schema::Dtype;

/// What the caller should do with an error; the engine adapter maps it to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The data was rejected by schema checks or drift (exit 4; the report is still written).
    Rejected,
    /// A configuration, schema file or artifact is malformed (the stage fails, exit 1).
    Invalid,
    /// Reading or writing a file failed (exit 5).
    Io,
}

/// One schema violation found while loading a table. All of them are collected, not just the
/// first, and each names its column and the first offending line (1-based, header = line 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The file has no header line at all.
    EmptyFile,
    /// The file has a header but no data rows.
    HeaderOnly,
    /// The same name appears twice in the header.
    DuplicateColumn {
        column: String,
        first: usize,
        second: usize,
    },
    /// A schema column is not in the header.
    MissingColumn { column: String },
    /// A header column the schema does not know.
    ExtraColumn { column: String },
    /// A missing schema column and an extra header column with a close name.
    RenamedColumn { expected: String, found: String },
    /// A row with a different number of cells than the header.
    RaggedRow {
        line: usize,
        expected: usize,
        found: usize,
        rows: usize,
    },
    /// A cell that does not parse as the column's dtype.
    WrongType {
        column: String,
        line: usize,
        value: String,
        expected: Dtype,
        rows: usize,
    },
    /// A cell outside the column's allowed values.
    OutOfDomain {
        column: String,
        line: usize,
        value: String,
        allowed: Vec<f64>,
        rows: usize,
    },
    /// An empty cell in a non-nullable column.
    MissingCell {
        column: String,
        line: usize,
        rows: usize,
    },
}

fn more(rows: usize) -> String {
    if rows > 1 {
        format!(" ({rows} rows in all)")
    } else {
        String::new()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EmptyFile => write!(f, "the file is empty (no header line)"),
            Problem::HeaderOnly => write!(f, "the file has a header but no data rows"),
            Problem::DuplicateColumn {
                column,
                first,
                second,
            } => {
                let column = clip(column);
                write!(f, "column `{column}` appears twice in the header (positions {first} and {second})")
            }
            Problem::MissingColumn { column } => write!(f, "column `{}` is missing", clip(column)),
            Problem::ExtraColumn { column } => {
                write!(f, "column `{}` is not in the schema", clip(column))
            }
            Problem::RenamedColumn { expected, found } => {
                let (expected, found) = (clip(expected), clip(found));
                write!(
                    f,
                    "column `{expected}` is missing and `{found}` is not in the schema (renamed?)"
                )
            }
            Problem::RaggedRow {
                line,
                expected,
                found,
                rows,
            } => write!(
                f,
                "line {line} has {found} cells, the header has {expected}{}",
                more(*rows)
            ),
            Problem::WrongType {
                column,
                line,
                value,
                expected,
                rows,
            } => write!(
                f,
                "column `{}`, line {line}: `{}` is not {}{}",
                clip(column),
                clip(value),
                expected.describe(),
                more(*rows)
            ),
            Problem::OutOfDomain {
                column,
                line,
                value,
                allowed,
                rows,
            } => {
                let allowed: Vec<String> = allowed.iter().map(|v| format!("{v}")).collect();
                write!(
                    f,
                    "column `{}`, line {line}: `{}` is not one of [{}]{}",
                    clip(column),
                    clip(value),
                    allowed.join(", "),
                    more(*rows)
                )
            }
            Problem::MissingCell { column, line, rows } => write!(
                f,
                "column `{}`, line {line}: empty cell in a non-nullable column{}",
                clip(column),
                more(*rows)
            ),
        }
    }
}

/// Renders a list of problems, one per line, for error messages: the first [`MAX_LISTED`],
/// then how many more there are (a garbage file can hold millions).
pub fn render_problems(problems: &[Problem]) -> String {
    let mut lines: Vec<String> = problems
        .iter()
        .take(MAX_LISTED)
        .map(|p| format!("  - {p}"))
        .collect();
    if problems.len() > MAX_LISTED {
        lines.push(format!(
            "  … and {} more",
            thousands(problems.len() - MAX_LISTED)
        ));
    }
    lines.join("\n")
}

/// Every failure of the data stages.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("failed to read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("failed to write `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("`{}` line {line}, column {column}: malformed CSV: {message}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        column: usize,
        message: String,
    },

    #[error("invalid schema `{}`{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Schema {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("`{origin}` does not match the schema ({} problem{}):\n{}", thousands(problems.len()), if problems.len() == 1 { "" } else { "s" }, render_problems(problems))]
    Data {
        origin: String,
        problems: Vec<Problem>,
    },

    #[error("data rejected: {summary}")]
    DataRejected { report: PathBuf, summary: String },

    /// An input that is not read at all: not a regular file, or over a size or shape limit.
    #[error("refusing to read `{}`: {reason}", path.display())]
    Refused { path: PathBuf, reason: String },

    /// A `schema.yaml` of a format version this netsec does not know.
    #[error("unsupported schema `{}`{}: `version` is {found}; this netsec reads version {supported}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    SchemaVersion {
        path: PathBuf,
        line: Option<usize>,
        found: u32,
        supported: u32,
    },

    /// Too few rows for the split asked for: the data, not the config, is at fault.
    #[error("data rejected: `{origin}` has {rows} row{}: {reason}", if *rows == 1 { "" } else { "s" })]
    TooFewRows {
        origin: String,
        rows: usize,
        reason: String,
    },

    #[error("invalid config: `{key}`: {message}")]
    Config { key: String, message: String },

    #[error("`{}`: {message}", path.display())]
    Artifact { path: PathBuf, message: String },

    #[error("{message}")]
    Fit { message: String },
}

impl StageError {
    /// The category the engine maps to an exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StageError::Read { .. } | StageError::Write { .. } => ErrorKind::Io,
            StageError::Data { .. }
            | StageError::DataRejected { .. }
            | StageError::Csv { .. }
            | StageError::Refused { .. }
            | StageError::SchemaVersion { .. }
            | StageError::TooFewRows { .. } => ErrorKind::Rejected,
            StageError::Schema { .. }
            | StageError::Config { .. }
            | StageError::Artifact { .. }
            | StageError::Fit { .. } => ErrorKind::Invalid,
        }
    }

    /// A suggestion for the user, when one helps.
    pub fn hint(&self) -> Option<String> {
        match self {
            StageError::Data { problems, .. } => {
                if problems.iter().any(|p| matches!(p, Problem::RenamedColumn { .. })) {
                    Some("rename the column back to its schema name, or update schema.yaml".into())
                } else {
                    Some("fix the data or update schema.yaml (dtype, allowed, nullable)".into())
                }
            }
            StageError::DataRejected { report, .. } => {
                Some(format!("read the full report in `{}`", report.display()))
            }
            StageError::Schema { .. } => Some(
                "each column needs `name`, `dtype` (int64 | float64), optional `allowed` and `nullable`"
                    .into(),
            ),
            StageError::Csv { .. } => Some("check quoting and line endings of the file".into()),
            StageError::Refused { .. } => {
                Some("point the stage at a regular file of sensible size".into())
            }
            StageError::SchemaVersion { supported, .. } => Some(format!(
                "write `version: {supported}`, or upgrade netsec to read this schema"
            )),
            StageError::TooFewRows { .. } => Some(
                "add rows, or change `test_size` so that both train and test get some".into(),
            ),
            StageError::Artifact { .. } => {
                Some("rerun the stage that produces this file (`netsec repro -f STAGE`)".into())
            }
            _ => None,
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StageError::Read {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StageError::Write {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = StageError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_hints() {
        let e = StageError::Data {
            origin: "x.csv".into(),
            problems: vec![Problem::EmptyFile],
        };
        assert_eq!(e.kind(), ErrorKind::Rejected);
        assert!(e.to_string().contains("x.csv"));
        assert!(e.hint().is_some());
        let e = StageError::write("a", std::io::Error::other("boom"));
        assert_eq!(e.kind(), ErrorKind::Io);
        let e = StageError::Config {
            key: "validate.fail_on".into(),
            message: "bad".into(),
        };
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert!(e.to_string().contains("validate.fail_on"));
    }

    #[test]
    fn problem_messages_name_column_and_line() {
        let p = Problem::OutOfDomain {
            column: "Redirect".into(),
            line: 7,
            value: "-1".into(),
            allowed: vec![0.0, 1.0],
            rows: 3,
        };
        let s = p.to_string();
        assert!(
            s.contains("`Redirect`") && s.contains("line 7") && s.contains("3 rows"),
            "{s}"
        );
    }
}
