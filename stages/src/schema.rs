//! `Schema`: the data contract of `schema.yaml` (columns, dtypes, allowed values, target labels).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::limits::{clip_quoted, read_regular, MAX_SCHEMA_BYTES, MAX_YAML_DEPTH};

/// The `version` of `schema.yaml` this netsec reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The storage type of a column. Features are held as `f64` either way; the dtype decides what
/// a cell may look like in a CSV file and how it is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    Int64,
    Float64,
}

impl Dtype {
    /// "an int64 within …", for messages: the range is that of the `f32` feature store.
    pub fn describe(&self) -> &'static str {
        match self {
            Dtype::Int64 => {
                "an int64 within ±16,777,216 (2^24: the integers the float32 feature store holds exactly)"
            }
            Dtype::Float64 => "a float64 within ±3.4e38 (the float32 feature store's range)",
        }
    }
}

/// One feature column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    pub dtype: Dtype,
    /// The only values a cell may take; `None` allows any value of the dtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<f64>>,
    /// Whether an empty cell is allowed (it becomes NaN and is imputed by `transform`).
    #[serde(default)]
    pub nullable: bool,
}

/// The label column and its coding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub column: String,
    /// Class name → value in the data, e.g. `phishing: -1, legitimate: 1`.
    pub labels: BTreeMap<String, i64>,
    /// The class name that is class 1 in every metric (`phishing`).
    pub positive: String,
}

/// The whole `schema.yaml`. Embedded in the model bundle, hence `Serialize + Deserialize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub version: u32,
    pub target: Target,
    pub columns: Vec<Column>,
}

impl Schema {
    /// Reads and checks a schema file; errors name the file and, where known, the line. Only
    /// a regular file of at most [`MAX_SCHEMA_BYTES`] is read.
    pub fn load(path: &Path) -> Result<Schema> {
        let bytes = read_regular(path, Some(MAX_SCHEMA_BYTES))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            StageError::Schema {
                path: path.to_path_buf(),
                line: Some(bytes[..at].iter().filter(|b| **b == b'\n').count() + 1),
                message: format!("invalid UTF-8 (byte {})", at + 1),
            }
        })?;
        Schema::from_yaml_str(&text, path)
    }

    /// Parses and checks schema YAML; `path` is only used in messages. Nesting deeper than
    /// [`MAX_YAML_DEPTH`] is refused before the parser runs, and a `version` other than
    /// [`SCHEMA_VERSION`] after it.
    pub fn from_yaml_str(text: &str, path: &Path) -> Result<Schema> {
        if let Some((line, depth)) = netsec_common::yaml_too_deep(text, MAX_YAML_DEPTH) {
            return Err(StageError::Schema {
                path: path.to_path_buf(),
                line: Some(line),
                message: format!(
                    "nested {depth} levels deep; at most {MAX_YAML_DEPTH} are allowed"
                ),
            });
        }
        let schema: Schema = serde_norway::from_str(text).map_err(|e| StageError::Schema {
            path: path.to_path_buf(),
            // "more than one document" comes without a location: name the second document.
            line: e.location().map(|l| l.line()).or_else(|| {
                text.lines()
                    .enumerate()
                    .skip(1)
                    .find(|(_, l)| l.starts_with("---"))
                    .map(|(i, _)| i + 1)
            }),
            message: clip_quoted(&e.to_string()),
        })?;
        if schema.version != SCHEMA_VERSION {
            return Err(StageError::SchemaVersion {
                path: path.to_path_buf(),
                line: text
                    .lines()
                    .position(|l| l.trim_start().starts_with("version"))
                    .map(|i| i + 1),
                found: schema.version,
                supported: SCHEMA_VERSION,
            });
        }
        schema
            .check()
            .map_err(|(needle, message)| StageError::Schema {
                path: path.to_path_buf(),
                line: needle.and_then(|n| line_of(text, &n)),
                message: clip_quoted(&message),
            })?;
        Ok(schema)
    }

    /// Semantic checks serde cannot express; returns (text to locate, message).
    fn check(&self) -> std::result::Result<(), (Option<String>, String)> {
        if self.columns.is_empty() {
            return Err((Some("columns".into()), "`columns` is empty".into()));
        }
        let mut seen = BTreeSet::new();
        for c in &self.columns {
            if c.name.trim().is_empty() {
                return Err((None, "a column has an empty name".into()));
            }
            if !seen.insert(c.name.as_str()) {
                return Err((
                    Some(c.name.clone()),
                    format!("column `{}` is listed twice", c.name),
                ));
            }
            if let Some(allowed) = &c.allowed {
                if allowed.is_empty() {
                    return Err((
                        Some(c.name.clone()),
                        format!("column `{}`: `allowed` is empty", c.name),
                    ));
                }
                if c.dtype == Dtype::Int64 && allowed.iter().any(|v| v.fract() != 0.0) {
                    return Err((
                        Some(c.name.clone()),
                        format!(
                            "column `{}`: int64 column allows a non-integer value",
                            c.name
                        ),
                    ));
                }
            }
        }
        let t = &self.target;
        if seen.contains(t.column.as_str()) {
            return Err((
                Some(t.column.clone()),
                format!("target column `{}` is also listed in `columns`", t.column),
            ));
        }
        if t.labels.len() != 2 {
            return Err((
                Some("labels".into()),
                format!(
                    "`target.labels` must name exactly 2 classes, found {}",
                    t.labels.len()
                ),
            ));
        }
        let values: BTreeSet<i64> = t.labels.values().copied().collect();
        if values.len() != 2 {
            return Err((
                Some("labels".into()),
                "`target.labels` values must differ".into(),
            ));
        }
        if !t.labels.contains_key(&t.positive) {
            return Err((
                Some("positive".into()),
                format!(
                    "`target.positive` `{}` is not one of `target.labels`",
                    t.positive
                ),
            ));
        }
        Ok(())
    }

    /// Feature names in schema (file) order.
    pub fn feature_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.columns.len()
    }

    /// The label column and its coding.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The dataset value of the positive class (`phishing` → -1).
    pub fn positive_value(&self) -> i64 {
        self.target
            .labels
            .get(&self.target.positive)
            .copied()
            .unwrap_or_default()
    }

    /// The dataset value of the negative class (`legitimate` → 1).
    pub fn negative_value(&self) -> i64 {
        let pos = self.positive_value();
        self.target
            .labels
            .values()
            .copied()
            .find(|v| *v != pos)
            .unwrap_or_default()
    }

    /// Maps a dataset label to the model class: positive → 1, the other label → 0, unknown → None.
    pub fn label_to_class(&self, value: i64) -> Option<u8> {
        if value == self.positive_value() {
            Some(1)
        } else if value == self.negative_value() {
            Some(0)
        } else {
            None
        }
    }

    /// Maps a model class back to the dataset coding (1 → positive value, 0 → the other).
    pub fn class_to_label(&self, class: u8) -> i64 {
        if class == 1 {
            self.positive_value()
        } else {
            self.negative_value()
        }
    }

    /// Class name of a model class (1 → "phishing").
    pub fn class_name(&self, class: u8) -> &str {
        let value = self.class_to_label(class);
        self.target
            .labels
            .iter()
            .find(|(_, v)| **v == value)
            .map(|(k, _)| k.as_str())
            .unwrap_or("")
    }

    /// The label values in ascending order, the allowed set of the target column.
    pub fn label_values(&self) -> Vec<f64> {
        let values: BTreeSet<i64> = self.target.labels.values().copied().collect();
        values.into_iter().map(|v| v as f64).collect()
    }
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version: 1\ntarget:\n  column: Result\n  labels:\n    phishing: -1\n    legitimate: 1\n  positive: phishing\ncolumns:\n  - { name: a, dtype: int64, allowed: [-1, 0, 1], nullable: false }\n  - { name: b, dtype: float64 }\n";

    #[test]
    fn parses_and_maps_labels() {
        let s = Schema::from_yaml_str(GOOD, Path::new("schema.yaml")).expect("valid");
        assert_eq!(s.feature_names(), vec!["a", "b"]);
        assert_eq!(s.label_to_class(-1), Some(1));
        assert_eq!(s.label_to_class(1), Some(0));
        assert_eq!(s.label_to_class(0), None);
        assert_eq!(s.class_to_label(1), -1);
        assert_eq!(s.class_to_label(0), 1);
        assert_eq!(s.class_name(1), "phishing");
        assert_eq!(s.label_values(), vec![-1.0, 1.0]);
        assert!(!s.columns[1].nullable);
        let json = serde_json::to_string(&s).expect("serialize");
        let back: Schema = serde_json::from_str(&json).expect("roundtrip");
        assert_eq!(back, s);
    }

    #[test]
    fn repo_schema_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.yaml");
        let s = Schema::load(&path).expect("repo schema.yaml is valid");
        assert_eq!(s.n_features(), 30);
        assert_eq!(s.target().column, "Result");
    }

    #[test]
    fn errors_name_the_line() {
        let bad = GOOD.replace("dtype: float64", "dtype: text");
        let e = Schema::from_yaml_str(&bad, Path::new("s.yaml")).expect_err("bad dtype");
        match e {
            StageError::Schema { line, .. } => assert_eq!(line, Some(10)),
            other => panic!("unexpected {other}"),
        }
        let dup = GOOD.replace("name: b", "name: a");
        let e = Schema::from_yaml_str(&dup, Path::new("s.yaml")).expect_err("duplicate");
        assert!(e.to_string().contains("listed twice"), "{e}");
        let pos = GOOD.replace("positive: phishing", "positive: spam");
        let e = Schema::from_yaml_str(&pos, Path::new("s.yaml")).expect_err("positive");
        assert!(e.to_string().contains("line 7"), "{e}");
    }

    #[test]
    fn hostile_schemas_are_refused_with_a_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("s.yaml");
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.splice(40..40, [0xff, 0xfe]);
        std::fs::write(&p, &bytes).expect("write");
        let e = Schema::load(&p).expect_err("utf-8");
        assert!(
            e.to_string().contains("line 4") && e.to_string().contains("UTF-8"),
            "{e}"
        );
        let v2 = GOOD.replace("version: 1", "version: 2");
        let e = Schema::from_yaml_str(&v2, Path::new("s.yaml")).expect_err("v2");
        assert_eq!(e.kind(), crate::error::ErrorKind::Rejected);
        assert!(
            e.to_string().contains("`version` is 2") && e.to_string().contains("line 1"),
            "{e}"
        );
        let deep = format!("version: 1\nx: {}", "[".repeat(100_000));
        let e = Schema::from_yaml_str(&deep, Path::new("s.yaml")).expect_err("deep");
        assert!(e.to_string().contains("line 2"), "{e}");
        let two = format!("{GOOD}---\n{GOOD}");
        let e = Schema::from_yaml_str(&two, Path::new("s.yaml")).expect_err("two documents");
        assert!(e.to_string().contains("line 11"), "{e}");
        let long = GOOD.replace("dtype: float64", &format!("dtype: {}", "z".repeat(100_000)));
        let e = Schema::from_yaml_str(&long, Path::new("s.yaml")).expect_err("long");
        assert!(e.to_string().len() < 1000, "{e}");
    }
}
