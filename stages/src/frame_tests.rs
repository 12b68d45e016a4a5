use super::*;
use crate::error::Problem;

const SCHEMA: &str = "version: 1\ntarget:\n  column: Result\n  labels: {phishing: -1, legitimate: 1}\n  positive: phishing\ncolumns:\n  - { name: a, dtype: int64, allowed: [-1, 0, 1] }\n  - { name: b_col, dtype: int64, allowed: [0, 1] }\n  - { name: c, dtype: float64, nullable: true }\n";

fn schema() -> Schema {
    Schema::from_yaml_str(SCHEMA, Path::new("schema.yaml")).expect("schema")
}

fn load(text: &str, mode: LabelMode) -> Result<Frame> {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("in.csv");
    std::fs::write(&p, text).expect("write");
    Frame::read_csv(&p, &schema(), mode)
}

fn problems(text: &str, mode: LabelMode) -> Vec<Problem> {
    match load(text, mode) {
        Err(StageError::Data { problems, .. }) => problems,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("expected rejection"),
    }
}

#[test]
fn loads_good_file_in_schema_order() {
    let f = load(
        "\"c\",a,b_col,Result\n0.5,-1,1,-1\n,1,0,1\n",
        LabelMode::Required,
    )
    .expect("ok");
    assert_eq!(f.n_rows(), 2);
    assert_eq!(f.features.row(0).to_vec(), vec![-1.0, 1.0, 0.5]);
    assert!(f.features[[1, 2]].is_nan());
    assert_eq!(f.labels, Some(vec![-1, 1]));
    assert_eq!(f.lines, vec![2, 3]);
    assert_eq!(f.classes(&schema()), Some(vec![1, 0]));
    assert_eq!(f.missing_cells(), 1);
    assert_eq!(
        f.to_csv_string().expect("csv"),
        "a,b_col,c,Result\n-1,1,0.5,-1\n1,0,,1\n"
    );
}

#[test]
fn label_is_optional_for_prediction() {
    let f = load("a,b_col,c\n0,1,2\n", LabelMode::Optional).expect("ok");
    assert_eq!(f.labels, None);
    let p = problems("a,b_col,c\n0,1,2\n", LabelMode::Required);
    assert_eq!(
        p,
        vec![Problem::MissingColumn {
            column: "Result".into()
        }]
    );
}

#[test]
fn empty_file_and_header_only() {
    assert_eq!(problems("", LabelMode::Optional), vec![Problem::EmptyFile]);
    assert_eq!(
        problems("a,b_col,c,Result\n", LabelMode::Optional),
        vec![Problem::HeaderOnly]
    );
}

#[test]
fn missing_extra_renamed_and_duplicate_columns() {
    let p = problems("a,B-col,zzz,a,Result\n1,1,1,1,1\n", LabelMode::Required);
    assert!(
        p.contains(&Problem::DuplicateColumn {
            column: "a".into(),
            first: 1,
            second: 4
        }),
        "{p:?}"
    );
    assert!(
        p.contains(&Problem::RenamedColumn {
            expected: "b_col".into(),
            found: "B-col".into()
        }),
        "{p:?}"
    );
    assert!(
        p.contains(&Problem::MissingColumn { column: "c".into() }),
        "{p:?}"
    );
    assert!(
        p.contains(&Problem::ExtraColumn {
            column: "zzz".into()
        }),
        "{p:?}"
    );
}

#[test]
fn cell_problems_name_column_first_line_and_count() {
    let text = "a,b_col,c,Result\n1,1,x,1\n2,1,1,1\n1,,1,1\n1,one,1,1\n1,1,1,0\n1,1,1,1\n1,1,1,1\n7,1,1,1\n";
    let p = problems(text, LabelMode::Required);
    assert!(
        p.contains(&Problem::WrongType {
            column: "c".into(),
            line: 2,
            value: "x".into(),
            expected: Dtype::Float64,
            rows: 1
        }),
        "{p:?}"
    );
    assert!(
        p.contains(&Problem::OutOfDomain {
            column: "a".into(),
            line: 3,
            value: "2".into(),
            allowed: vec![-1.0, 0.0, 1.0],
            rows: 2
        }),
        "{p:?}"
    );
    assert!(
        p.contains(&Problem::MissingCell {
            column: "b_col".into(),
            line: 4,
            rows: 1
        }),
        "{p:?}"
    );
    assert!(
        p.contains(&Problem::WrongType {
            column: "b_col".into(),
            line: 5,
            value: "one".into(),
            expected: Dtype::Int64,
            rows: 1
        }),
        "{p:?}"
    );
    assert!(
        p.contains(&Problem::OutOfDomain {
            column: "Result".into(),
            line: 6,
            value: "0".into(),
            allowed: vec![-1.0, 1.0],
            rows: 1
        }),
        "{p:?}"
    );
    assert_eq!(p.len(), 5, "{p:?}");
}

#[test]
fn ragged_rows_are_reported_once_with_a_count() {
    let p = problems(
        "a,b_col,c,Result\n1,1,1,1\n1,1\n1,1,1,1,1\n",
        LabelMode::Required,
    );
    assert_eq!(
        p,
        vec![Problem::RaggedRow {
            line: 3,
            expected: 4,
            found: 2,
            rows: 2
        }]
    );
}

#[test]
fn cells_the_f32_store_cannot_hold_exactly_are_rejected_not_rounded() {
    let yaml = "version: 1\ntarget:\n  column: Result\n  labels: {phishing: -1, legitimate: 1}\n  positive: phishing\ncolumns:\n  - { name: n, dtype: int64 }\n  - { name: c, dtype: float64 }\n";
    let schema = Schema::from_yaml_str(yaml, Path::new("schema.yaml")).expect("schema");
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("in.csv");
    // ±2^24 and f32::MAX (about 3.4028e38) are the largest magnitudes stored exactly/finitely.
    std::fs::write(&p, "n,c\n16777216,3.4e38\n-16777216,-1.5\n").expect("write");
    let f = Frame::read_csv(&p, &schema, LabelMode::Optional).expect("in range");
    assert_eq!(f.features[[0, 0]], 16_777_216.0);
    assert_eq!(f.features[[1, 0]], -16_777_216.0);
    assert!(f.features[[0, 1]].is_finite());
    std::fs::write(&p, "n,c\n16777217,1\n1,1e39\n-99999999,2\n").expect("write");
    let err = Frame::read_csv(&p, &schema, LabelMode::Optional).expect_err("out of range");
    let StageError::Data { problems, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        problems.contains(&Problem::WrongType {
            column: "n".into(),
            line: 2,
            value: "16777217".into(),
            expected: Dtype::Int64,
            rows: 2
        }),
        "{problems:?}"
    );
    assert!(
        problems.contains(&Problem::WrongType {
            column: "c".into(),
            line: 3,
            value: "1e39".into(),
            expected: Dtype::Float64,
            rows: 1
        }),
        "{problems:?}"
    );
    let text = err.to_string();
    assert!(text.contains("±16,777,216"), "{text}");
}

#[test]
fn int_cells_must_be_integers() {
    let p = problems("a,b_col,c\n1.0,1,1\n", LabelMode::Optional);
    assert!(
        matches!(&p[0], Problem::WrongType { column, .. } if column == "a"),
        "{p:?}"
    );
}

#[test]
fn select_keeps_lines_and_labels() {
    let f = load(
        "a,b_col,c,Result\n1,1,1,1\n0,0,0,-1\n-1,1,2,1\n",
        LabelMode::Required,
    )
    .expect("ok");
    let s = f.select(&[2, 0]);
    assert_eq!(s.lines, vec![4, 2]);
    assert_eq!(s.labels, Some(vec![1, 1]));
    assert_eq!(s.features[[0, 0]], -1.0);
}

#[test]
fn real_dataset_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/phisingData.csv");
    let schema = Schema::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.yaml"))
        .expect("schema");
    let f = Frame::read_csv(&path, &schema, LabelMode::Required).expect("dataset is valid");
    assert_eq!(f.features.dim(), (11055, 30));
    let labels = f.labels.expect("labels");
    assert_eq!(labels.iter().filter(|v| **v == 1).count(), 6157);
}

#[test]
fn ragged_first_row_names_its_line() {
    let p = problems("a,b_col,c,Result\n1,1,1\n1,1,1,1\n", LabelMode::Required);
    assert_eq!(
        p,
        vec![Problem::RaggedRow {
            line: 2,
            expected: 4,
            found: 3,
            rows: 1
        }]
    );
}

#[test]
fn every_row_longer_than_the_header() {
    let p = problems("a,b_col,c\n1,1,1,1\n1,1,1,1\n", LabelMode::Optional);
    assert_eq!(
        p,
        vec![Problem::RaggedRow {
            line: 2,
            expected: 3,
            found: 4,
            rows: 2
        }]
    );
}

#[test]
fn extra_columns_are_appended() {
    let f = load("a,b_col,c\n1,1,0.5\n0,0,\n", LabelMode::Optional).expect("ok");
    let pred = vec!["-1".to_string(), "1".to_string()];
    let prob = vec!["0.9".to_string(), "0.1".to_string()];
    let text = f
        .to_csv_string_with(&[("prediction", &pred), ("phishing_probability", &prob)])
        .expect("csv");
    assert_eq!(
        text,
        "a,b_col,c,prediction,phishing_probability\n1,1,0.5,-1,0.9\n0,0,,1,0.1\n"
    );
}

#[test]
fn csv_cells_with_commas_quotes_or_newlines_are_quoted() {
    let f = load("a,b_col,c\n1,1,0.5\n0,0,\n", LabelMode::Optional).expect("ok");
    let note = vec!["x, y".to_string(), "say \"hi\"\nbye".to_string()];
    let text = f.to_csv_string_with(&[("note", &note)]).expect("csv");
    assert_eq!(
        text,
        "a,b_col,c,note\n1,1,0.5,\"x, y\"\n0,0,,\"say \"\"hi\"\"\nbye\"\n"
    );
}

#[test]
fn rows_written_without_a_copy_match_the_selected_frame() {
    let f = load(
        "a,b_col,c,Result\n-1,1,0.5,-1\n1,0,,1\n0,1,2.25,1\n",
        LabelMode::Required,
    )
    .expect("ok");
    let dir = tempfile::tempdir().expect("tempdir");
    let (direct, copied) = (dir.path().join("d.csv"), dir.path().join("c.csv"));
    let rows = [2, 0];
    f.write_csv_rows(&direct, &rows).expect("rows");
    f.select(&rows).write_csv(&copied).expect("select");
    let text = std::fs::read_to_string(&direct).expect("read");
    assert_eq!(text, "a,b_col,c,Result\n0,1,2.25,1\n-1,1,0.5,-1\n");
    assert_eq!(text, std::fs::read_to_string(&copied).expect("read"));
    f.write_csv(&copied).expect("all");
    assert_eq!(
        std::fs::read_to_string(&copied).expect("read"),
        f.to_csv_string().expect("csv")
    );
}

#[test]
fn rows_moved_in_place_equal_the_selected_rows() {
    let f = load(
        "a,b_col,c,Result\n-1,1,0.5,-1\n1,0,,1\n0,1,2.25,1\n1,1,0.1,-1\n",
        LabelMode::Required,
    )
    .expect("ok");
    for rows in [vec![1, 3], vec![0, 1, 2, 3], vec![], vec![3, 0]] {
        let selected = f.select(&rows);
        let moved = f.clone().into_rows(&rows);
        assert_eq!(moved.features.dim(), selected.features.dim());
        assert!(moved
            .features
            .iter()
            .zip(selected.features.iter())
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(moved.labels, selected.labels);
        assert_eq!(moved.lines, selected.lines);
    }
    // A float64 cell keeps its short decimal form through the f32 storage.
    assert!(f.to_csv_string().expect("csv").contains(",0.1,"));
}
