use super::*;
use crate::error::ErrorKind;

const SCHEMA: &str = "version: 1\ntarget:\n  column: y\n  labels: {phishing: -1, legitimate: 1}\n  positive: phishing\ncolumns:\n  - { name: a, dtype: int64, allowed: [-1, 0, 1] }\n  - { name: b, dtype: int64, allowed: [-1, 1] }\n";

fn schema() -> Schema {
    Schema::from_yaml_str(SCHEMA, Path::new("s.yaml")).expect("schema")
}

fn rows(n: usize, f: impl Fn(usize) -> (i64, i64, i64)) -> String {
    let mut s = String::from("a,b,y\n");
    for i in 0..n {
        let (a, b, y) = f(i);
        s.push_str(&format!("{a},{b},{y}\n"));
    }
    s
}

fn balanced(i: usize) -> (i64, i64, i64) {
    (
        (i % 3) as i64 - 1,
        if i.is_multiple_of(2) { 1 } else { -1 },
        if i % 5 < 2 { -1 } else { 1 },
    )
}

fn run(
    cfg: &ValidateConfig,
    train: &str,
    test: &str,
    reference: Option<&str>,
) -> (Result<ValidationReport>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("train.csv"), train).expect("w");
    std::fs::write(d.join("test.csv"), test).expect("w");
    if let Some(r) = reference {
        std::fs::write(d.join("ref.csv"), r).expect("w");
    }
    let refp = d.join("ref.csv");
    let res = validate(
        cfg,
        &d.join("train.csv"),
        &d.join("test.csv"),
        reference.map(|_| refp.as_path()),
        &schema(),
        &d.join("out"),
    );
    let report = std::fs::read_to_string(d.join("out/report.yaml")).unwrap_or_default();
    (res, report)
}

#[test]
fn same_distribution_is_accepted() {
    let (res, text) = run(
        &ValidateConfig::default(),
        &rows(200, balanced),
        &rows(50, balanced),
        None,
    );
    let rep = res.expect("accepted");
    assert_eq!(rep.summary.decision, Decision::Accepted);
    assert_eq!(rep.summary.columns_tested, 3);
    let back: ValidationReport = serde_norway::from_str(&text).expect("report parses");
    assert_eq!(back.drift["train_vs_test"].columns.len(), 3);
    assert!(text.contains("p_value"), "{text}");
}

#[test]
fn schema_problems_reject_and_still_write_the_report() {
    let bad = "a,b,y\n1,1,1\n5,1,1\n";
    let (res, text) = run(&ValidateConfig::default(), &rows(20, balanced), bad, None);
    let e = res.expect_err("rejected");
    assert_eq!(e.kind(), ErrorKind::Rejected);
    assert!(e.to_string().contains("line 3"), "{e}");
    assert!(text.contains("decision: rejected"), "{text}");
    assert!(text.contains("out_of_domain"), "{text}");
}

#[test]
fn drift_rejects_per_fail_on() {
    let shifted = rows(60, |i| {
        (
            1,
            if i.is_multiple_of(2) { 1 } else { -1 },
            if i % 5 < 2 { -1 } else { 1 },
        )
    });
    let train = rows(200, balanced);
    let share = ValidateConfig {
        fail_on: FailOn::Share,
        ..Default::default()
    };
    let (res, text) = run(&share, &train, &shifted, None);
    // 1 of 3 columns drifts: 33% > 20%.
    let e = res.expect_err("rejected");
    assert!(matches!(e, StageError::DataRejected { .. }));
    assert!(
        e.to_string().contains("train_vs_test") && e.to_string().contains("a"),
        "{e}"
    );
    assert!(text.contains("drift: true"), "{text}");
    let never = ValidateConfig {
        fail_on: FailOn::Never,
        ..Default::default()
    };
    let (res, _) = run(&never, &train, &shifted, None);
    assert_eq!(res.expect("never fails").summary.drifted, 1);
    let lenient = ValidateConfig {
        fail_on: FailOn::Share,
        max_drift_share: 0.5,
        ..Default::default()
    };
    assert!(run(&lenient, &train, &shifted, None).0.is_ok());
    let any = ValidateConfig {
        fail_on: FailOn::Any,
        max_drift_share: 0.9,
        ..Default::default()
    };
    assert!(run(&any, &train, &shifted, None).0.is_err());
}

#[test]
fn reference_comparison_is_reported() {
    let reference = rows(100, |i| (-1, if i.is_multiple_of(2) { 1 } else { -1 }, 1));
    let cfg = ValidateConfig {
        fail_on: FailOn::Never,
        ..Default::default()
    };
    let (res, _) = run(
        &cfg,
        &rows(200, balanced),
        &rows(50, balanced),
        Some(&reference),
    );
    let rep = res.expect("never fails");
    let d = &rep.drift["reference_vs_data"];
    assert_eq!(d.current_rows, 250);
    assert!(d.columns["a"].drift && d.columns["y"].drift);
}

#[test]
fn bad_config_is_invalid() {
    let cfg = ValidateConfig {
        drift_alpha: 0.0,
        ..Default::default()
    };
    let (res, _) = run(&cfg, &rows(10, balanced), &rows(10, balanced), None);
    assert_eq!(res.expect_err("bad").kind(), ErrorKind::Invalid);
}

#[test]
fn real_split_is_accepted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = Schema::load(&root.join("../schema.yaml")).expect("schema");
    let dir = tempfile::tempdir().expect("tempdir");
    crate::ingest::ingest(
        &Default::default(),
        &root.join("../data/phisingData.csv"),
        &schema,
        dir.path(),
    )
    .expect("ingest");
    let rep = validate(
        &ValidateConfig::default(),
        &dir.path().join("train.csv"),
        &dir.path().join("test.csv"),
        None,
        &schema,
        &dir.path().join("v"),
    )
    .expect("the duplicate-aware split does not drift");
    assert_eq!(rep.summary.columns_tested, 31);
}

#[test]
fn large_samples_need_an_effect_not_only_a_p_value() {
    // 400,000 vs 100,000 rows. In the test, 1 row in 40 has `a` set to 1: D ≈ 0.017, a
    // difference nobody would act on, yet p ≈ 1e-19. Only D ≥ min_effect makes it drift.
    let train = rows(400_000, balanced);
    let nudged = rows(100_000, |i| {
        let (a, b, y) = balanced(i);
        (if i.is_multiple_of(40) { 1 } else { a }, b, y)
    });
    let (res, _) = run(&ValidateConfig::default(), &train, &nudged, None);
    let report = res.expect("a negligible shift passes the default gate");
    let a = &report.drift["train_vs_test"].columns["a"];
    assert!(a.p_value < 1e-6 && a.statistic < 0.03 && !a.drift, "{a:?}");
    assert!(a.psi < 0.01, "{a:?}");
    assert_eq!(report.summary.drifted, 0);
    // The p-value alone would have rejected it.
    let p_only = ValidateConfig {
        min_effect: 0.0,
        ..Default::default()
    };
    assert!(run(&p_only, &train, &nudged, None).0.is_err());
    // A real shift: `a` replaced by a constant in 30% of the test rows.
    let shifted = rows(100_000, |i| {
        let (a, b, y) = balanced(i);
        (if i % 10 < 3 { 1 } else { a }, b, y)
    });
    let (res, text) = run(&ValidateConfig::default(), &train, &shifted, None);
    let e = res.expect_err("a real shift fails the default gate");
    assert!(matches!(e, StageError::DataRejected { .. }), "{e}");
    assert!(e.to_string().contains("D ≥ 0.1"), "{e}");
    assert!(text.contains("psi:"), "{text}");
}

#[test]
fn min_effect_out_of_range_names_the_field() {
    let cfg = ValidateConfig {
        min_effect: 1.5,
        ..Default::default()
    };
    let e = cfg.validate().expect_err("rejected");
    assert!(
        matches!(&e, StageError::Config { key, .. } if key == "min_effect"),
        "{e}"
    );
}
