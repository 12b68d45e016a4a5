//! The data stages end to end on the real dataset, and bad inputs through the public API.

use std::path::{Path, PathBuf};

use netsec_stages::{
    ingest, load_xy, transform, validate, ErrorKind, Frame, IngestConfig, LabelMode, Preprocessor,
    Problem, Schema, StageError, TransformConfig, ValidateConfig,
};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn schema() -> Schema {
    Schema::load(&repo("schema.yaml")).expect("schema.yaml")
}

#[test]
fn ingest_validate_transform_on_the_real_csv() {
    let schema = schema();
    let dir = tempfile::tempdir().expect("tempdir");
    let (ing, val, tra) = (
        dir.path().join("ingest"),
        dir.path().join("validate"),
        dir.path().join("transform"),
    );
    let split = ingest(
        &IngestConfig::default(),
        &repo("data/phisingData.csv"),
        &schema,
        &ing,
    )
    .expect("ingest");
    assert_eq!(split.leak_check.test_rows_in_train, 0);
    let report = validate(
        &ValidateConfig::default(),
        &ing.join("train.csv"),
        &ing.join("test.csv"),
        None,
        &schema,
        &val,
    )
    .expect("validate");
    assert_eq!(report.summary.columns_tested, 31);
    assert!(val.join("report.yaml").exists());
    let t = transform(
        &TransformConfig::default(),
        &ing.join("train.csv"),
        &ing.join("test.csv"),
        &schema,
        &tra,
    )
    .expect("transform");
    assert_eq!(t.train_missing_cells, 0);
    let (x, y) = load_xy(&tra.join("train.npy")).expect("train.npy");
    assert_eq!(x.dim(), (split.train_rows, 30));
    let phishing = split.class_balance["train"]["phishing"];
    assert_eq!(
        y.iter().filter(|v| **v == 1).count(),
        phishing,
        "phishing is class 1"
    );
    let (xt, _) = load_xy(&tra.join("test.npy")).expect("test.npy");
    assert_eq!(xt.nrows(), split.test_rows);
    let pre = Preprocessor::load(&tra.join("preprocessor.json")).expect("preprocessor");
    assert_eq!(pre.features, schema.feature_names());
    // Prediction input: no label column, same preprocessing.
    let input = Frame::read_csv(
        &repo("data/sample-predict-input.csv"),
        &schema,
        LabelMode::Optional,
    )
    .expect("sample input");
    assert_eq!(input.n_rows(), 12);
    assert_eq!(
        pre.transform(&input.features).expect("transform"),
        input.features
    );
}

fn rejected(text: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("in.csv");
    std::fs::write(&p, text).expect("write");
    match Frame::read_csv(&p, &schema(), LabelMode::Optional) {
        Err(e @ StageError::Data { .. }) => {
            assert_eq!(e.kind(), ErrorKind::Rejected);
            assert!(e.hint().is_some());
            match e {
                StageError::Data { problems, .. } => problems,
                _ => unreachable!(),
            }
        }
        Err(other) => panic!("unexpected {other}"),
        Ok(_) => panic!("accepted bad input"),
    }
}

fn sample_with(f: impl Fn(String) -> String) -> String {
    let text = std::fs::read_to_string(repo("data/sample-predict-input.csv")).expect("sample");
    f(text)
}

#[test]
fn prediction_input_wrong_columns() {
    let p = rejected(&sample_with(|t| {
        t.replacen("popUpWidnow", "popUpWindow", 1)
    }));
    assert_eq!(
        p,
        vec![Problem::RenamedColumn {
            expected: "popUpWidnow".into(),
            found: "popUpWindow".into()
        }]
    );
    let txt = sample_with(|t| t.replacen("having_IP_Address,", "", 1));
    let p = rejected(&txt);
    assert!(
        p.iter().any(
            |x| matches!(x, Problem::MissingColumn { column } if column == "having_IP_Address")
        ),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|x| matches!(x, Problem::RaggedRow { line: 2, .. })),
        "{p:?}"
    );
}

#[test]
fn prediction_input_non_numeric_cell_and_empty_file() {
    let p = rejected(&sample_with(|t| {
        let mut lines: Vec<String> = t.lines().map(String::from).collect();
        lines[3] = lines[3].replacen("1", "yes", 1);
        lines.join("\n") + "\n"
    }));
    assert_eq!(p.len(), 1, "{p:?}");
    let msg = p[0].to_string();
    assert!(
        msg.contains("line 4") && msg.contains("yes`") && msg.contains("int64"),
        "{msg}"
    );
    assert_eq!(rejected(""), vec![Problem::EmptyFile]);
}

#[test]
fn validate_rejects_a_tampered_split_and_writes_the_report() {
    let schema = schema();
    let dir = tempfile::tempdir().expect("tempdir");
    let ing = dir.path().join("ingest");
    ingest(
        &IngestConfig::default(),
        &repo("data/phisingData.csv"),
        &schema,
        &ing,
    )
    .expect("ingest");
    let test = std::fs::read_to_string(ing.join("test.csv")).expect("test.csv");
    let mut lines: Vec<&str> = test.lines().collect();
    let bad = lines[10].replacen("0,", "7,", 1);
    lines[10] = &bad;
    std::fs::write(ing.join("test.csv"), lines.join("\n") + "\n").expect("write");
    let err = validate(
        &ValidateConfig::default(),
        &ing.join("train.csv"),
        &ing.join("test.csv"),
        None,
        &schema,
        &dir.path().join("v"),
    )
    .expect_err("rejected");
    assert_eq!(err.kind(), ErrorKind::Rejected);
    assert!(err.to_string().contains("line 11"), "{err}");
    let report = std::fs::read_to_string(dir.path().join("v/report.yaml")).expect("report written");
    assert!(report.contains("decision: rejected"));
}
