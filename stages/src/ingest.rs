//! The `ingest` stage: read the source, write the feature store and the train/test split.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StageError};
use crate::frame::{Frame, LabelMode};
use crate::fsio::write_json;
use crate::schema::Schema;
use crate::source::{CsvSource, MongoConfig, Source, SourceKind};
use crate::split::{duplicate_groups, split, SplitConfig, SplitMode};
use crate::split_summary::{summarize, SplitSummary};

/// `params.ingest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    pub source: SourceKind,
    pub split: SplitMode,
    pub test_size: f64,
    pub seed: u64,
    /// `params.ingest.mongodb`: where to read when `source = "mongodb"`.
    pub mongodb: Option<MongoConfig>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            source: SourceKind::Csv,
            split: SplitMode::Grouped,
            test_size: 0.2,
            seed: 42,
            mongodb: None,
        }
    }
}

impl IngestConfig {
    /// Range checks of every field (the split's `test_size`); the error names the field.
    pub fn validate(&self) -> Result<()> {
        self.split_config().validate()
    }

    /// The split part of the config.
    pub fn split_config(&self) -> SplitConfig {
        SplitConfig {
            split: self.split,
            test_size: self.test_size,
            seed: self.seed,
        }
    }
}

/// What `ingest` wrote (also the content of `split.json`).
pub type IngestReport = SplitSummary;

/// Ingests a CSV file (`cfg.source` must be `csv`; a database source goes through `ingest_from`).
pub fn ingest(
    cfg: &IngestConfig,
    input: &Path,
    schema: &Schema,
    out_dir: &Path,
) -> Result<IngestReport> {
    if cfg.source != SourceKind::Csv {
        return Err(StageError::Config {
            key: "ingest.source".into(),
            message: "source `mongodb` reads a database, not a file: use `ingest_from` with a MongoDB source".into(),
        });
    }
    // The source holds the file's bytes: it is gone before the split and the writing.
    let frame = {
        let mut source = CsvSource::open(input)?;
        Frame::from_source(&mut source, schema, LabelMode::Required)?
    };
    ingest_frame(cfg, &frame, schema, out_dir)
}

/// Ingests any source: writes `feature_store.csv`, `train.csv`, `test.csv` and `split.json`
/// into `out_dir`.
pub fn ingest_from(
    cfg: &IngestConfig,
    source: &mut dyn Source,
    schema: &Schema,
    out_dir: &Path,
) -> Result<IngestReport> {
    let frame = Frame::from_source(source, schema, LabelMode::Required)?;
    ingest_frame(cfg, &frame, schema, out_dir)
}

/// Splits a loaded frame and writes the four outputs.
fn ingest_frame(
    cfg: &IngestConfig,
    frame: &Frame,
    schema: &Schema,
    out_dir: &Path,
) -> Result<IngestReport> {
    let split_cfg = cfg.split_config();
    let (train, test) = split(frame, &split_cfg)?;
    let groups = duplicate_groups(frame);
    let report = summarize(frame, schema, &split_cfg, &train, &test, &groups);
    drop(groups);
    std::fs::create_dir_all(out_dir).map_err(|e| StageError::write(out_dir, e))?;
    frame.write_csv(&out_dir.join("feature_store.csv"))?;
    frame.write_csv_rows(&out_dir.join("train.csv"), &train)?;
    frame.write_csv_rows(&out_dir.join("test.csv"), &test)?;
    write_json(&out_dir.join("split.json"), &report)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
    }

    #[test]
    fn ingests_the_real_dataset_without_leaks() {
        let schema = Schema::load(&repo("schema.yaml")).expect("schema");
        let dir = tempfile::tempdir().expect("tempdir");
        let report = ingest(
            &IngestConfig::default(),
            &repo("data/phisingData.csv"),
            &schema,
            dir.path(),
        )
        .expect("ingest");
        assert_eq!(report.rows, 11055);
        assert_eq!(report.train_rows + report.test_rows, 11055);
        assert_eq!(report.leak_check.test_rows_in_train, 0);
        assert_eq!(report.distinct_feature_vectors, 5785);
        let share = report.test_rows as f64 / 11055.0;
        assert!((share - 0.2).abs() < 0.005, "{share}");
        let store = std::fs::read_to_string(dir.path().join("feature_store.csv")).expect("store");
        assert_eq!(store.lines().count(), 11056);
        assert!(store.starts_with("having_IP_Address,URL_Length,"));
        let train = Frame::read_csv(&dir.path().join("train.csv"), &schema, LabelMode::Required)
            .expect("train");
        assert_eq!(train.n_rows(), report.train_rows);
        // Deterministic: a second run writes byte-identical files.
        let dir2 = tempfile::tempdir().expect("tempdir");
        ingest(
            &IngestConfig::default(),
            &repo("data/phisingData.csv"),
            &schema,
            dir2.path(),
        )
        .expect("again");
        for f in ["feature_store.csv", "train.csv", "test.csv", "split.json"] {
            assert_eq!(
                std::fs::read(dir.path().join(f)).ok(),
                std::fs::read(dir2.path().join(f)).ok(),
                "{f}"
            );
        }
    }

    #[test]
    fn random_split_leaks_and_says_so() {
        let schema = Schema::load(&repo("schema.yaml")).expect("schema");
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = IngestConfig {
            split: SplitMode::Random,
            ..Default::default()
        };
        let report =
            ingest(&cfg, &repo("data/phisingData.csv"), &schema, dir.path()).expect("ingest");
        assert_eq!(report.test_rows, 2211);
        assert!(
            report.leak_check.test_rows_in_train > 1000,
            "{:?}",
            report.leak_check
        );
    }

    #[test]
    fn mongodb_source_needs_ingest_from() {
        let schema = Schema::load(&repo("schema.yaml")).expect("schema");
        let cfg = IngestConfig {
            source: SourceKind::Mongodb,
            ..Default::default()
        };
        let e = ingest(&cfg, Path::new("x.csv"), &schema, Path::new("out")).expect_err("mongo");
        assert!(e.to_string().contains("ingest.source"));
    }
}
