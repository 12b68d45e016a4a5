//! train → evaluate (promotion) → bundle → predict on the real data, plus bad inputs.

#![expect(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

use std::path::{Path, PathBuf};

use netsec_models::SelectConfig;
use netsec_stages::*;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn schema() -> Schema {
    Schema::load(&repo("schema.yaml")).unwrap()
}

/// Writes `train.csv`/`test.csv` (every fifth data line to test, or all lines to both when
/// `full`), runs `transform`, and returns the transform dir.
fn transformed(dir: &Path, full: bool) -> PathBuf {
    let text = std::fs::read_to_string(repo("data/phisingData.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut tr, mut te) = (vec![header], vec![header]);
    for (i, l) in lines.enumerate() {
        if full || i % 5 != 0 {
            tr.push(l);
        }
        if full || i % 5 == 0 {
            te.push(l);
        }
    }
    std::fs::write(dir.join("train.csv"), tr.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("test.csv"), te.join("\n") + "\n").unwrap();
    let out = dir.join("transform");
    transform(
        &TransformConfig::default(),
        &dir.join("train.csv"),
        &dir.join("test.csv"),
        &schema(),
        &out,
    )
    .unwrap();
    out
}

fn quick_cfg() -> SelectConfig {
    SelectConfig {
        folds: 3,
        models: vec!["tree".into(), "forest".into()],
        ..Default::default()
    }
}

fn eval(
    dir: &Path,
    schema: &Schema,
    min_improvement: f64,
    current: Option<PathBuf>,
    tag: &str,
) -> EvaluateReport {
    let cfg = EvaluateConfig {
        min_improvement,
        ..Default::default()
    };
    eval_with(dir, schema, &cfg, current, tag).unwrap()
}

fn eval_with(
    dir: &Path,
    schema: &Schema,
    cfg: &EvaluateConfig,
    current: Option<PathBuf>,
    tag: &str,
) -> netsec_stages::Result<EvaluateReport> {
    let inputs = EvaluateInputs {
        transform_dir: dir.join("transform"),
        train_dir: dir.join("train"),
        compare_metrics: None,
        validate_report: None,
        schema,
        current_bundle: current,
        netsec_version: "0.1.0-test".into(),
        created_at: Some("2026-01-01T00:00:00Z".into()),
        params: serde_json::json!({"train": {"folds": 3}}),
    };
    let out = EvaluateOutputs {
        metrics_json: dir.join(format!("metrics-{tag}.json")),
        promotion_json: dir.join(format!("promotion-{tag}.json")),
        bundle_dir: dir.join(format!("bundle-{tag}")),
    };
    evaluate(cfg, inputs, out)
}

#[test]
fn train_evaluate_promote_and_reload() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    transformed(dir, false);
    let rep = train(&quick_cfg(), &dir.join("transform"), &dir.join("train")).unwrap();
    // Two trees, three forests and the votes of the best candidate with each candidate of the
    // other family (two trees or three forests).
    assert!([7, 8].contains(&rep.table.len()), "{}", rep.table.len());
    assert!(rep.table[5..].iter().all(|r| r.model == "vote"));
    assert!(rep.gap <= 0.05 && rep.cv_f1 > 0.9, "{rep:?}");
    // Grouped CV by default, the stratified figure beside it; a threshold from CV only.
    assert_eq!(rep.config.cv, netsec_models::CvKind::Grouped);
    assert_eq!(rep.other_cv.cv, netsec_models::CvKind::Stratified);
    assert!(rep.threshold > 0.0 && rep.threshold < 1.0);
    assert!(rep.oof_f1_at_threshold >= rep.oof_f1);
    let cv: CvReport =
        serde_json::from_slice(&std::fs::read(dir.join("train/cv.json")).unwrap()).unwrap();
    assert_eq!(cv, rep);

    let schema = schema();
    let first = eval(dir, &schema, 0.0, None, "a");
    assert!(first.promotion.promoted);
    assert_eq!(first.promotion.reason, "no current model");
    let t = &first.metrics.test;
    assert_eq!(t.rows, 2211);
    assert!(t.f1 > 0.94 && t.roc_auc.unwrap() > 0.98, "{t:?}");
    assert!((t.legitimate_f1 - t.f1).abs() < 0.05 && t.legitimate_f1 != t.f1);
    assert_eq!(first.metrics.positive_class, "phishing");
    let bundle = ModelBundle::load(&dir.join("bundle-a")).unwrap();
    assert_eq!(bundle.metrics, *t);
    // Test is scored at the CV threshold, which the bundle carries for predict and serve.
    assert_eq!(t.threshold, rep.threshold);
    assert_eq!(bundle.threshold(), rep.threshold);
    let c = &first.metrics.calibration;
    assert!(c.brier > 0.0 && c.brier < 0.1, "{c:?}");
    assert_eq!(c.bins.iter().map(|b| b.count).sum::<u64>(), 2211);
    assert_eq!(bundle.created_at.as_deref(), Some("2026-01-01T00:00:00Z"));
    let npy = std::fs::read(dir.join("transform/train.npy")).unwrap();
    assert_eq!(
        bundle.training_data_digest,
        blake3::hash(&npy).to_hex().to_string()
    );
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics-a.json")).unwrap()).unwrap();
    assert_eq!(metrics["test"]["f1"].as_f64(), Some(t.f1));
    assert_eq!(
        metrics["cv"]["table"].as_array().unwrap().len(),
        rep.table.len()
    );

    // Same model again: no improvement, so a positive threshold keeps the old bundle.
    let second = eval(dir, &schema, 0.01, Some(dir.join("bundle-a")), "b");
    assert!(!second.promotion.promoted, "{:?}", second.promotion);
    assert_eq!(second.promotion.old_f1, Some(t.f1));
    assert!(second.promotion.reason.contains("below `min_improvement`"));
    assert!(!dir.join("bundle-b").exists());
    let promo: Promotion =
        serde_json::from_slice(&std::fs::read(dir.join("promotion-b.json")).unwrap()).unwrap();
    assert_eq!(promo, second.promotion);
    let third = eval(dir, &schema, 0.0, Some(dir.join("bundle-a")), "c");
    assert!(third.promotion.promoted);

    // An incompatible (future-format) bundle is replaced, with the reason recorded.
    let text = std::fs::read_to_string(dir.join("bundle-a/bundle.json")).unwrap();
    std::fs::create_dir_all(dir.join("future")).unwrap();
    std::fs::write(
        dir.join("future/bundle.json"),
        text.replacen("\"format_version\":1", "\"format_version\":2", 1),
    )
    .unwrap();
    // A bundle without a creation time (the caller gave none) loads, and saves without one.
    std::fs::create_dir_all(dir.join("undated")).unwrap();
    let undated = text.replacen("\"created_at\":\"2026-01-01T00:00:00Z\",", "", 1);
    assert_ne!(undated, text);
    std::fs::write(dir.join("undated/bundle.json"), &undated).unwrap();
    let b = ModelBundle::load(&dir.join("undated")).unwrap();
    assert_eq!(b.created_at, None);
    assert_eq!(b.metrics, bundle.metrics);
    b.save(&dir.join("undated")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("undated/bundle.json")).unwrap(),
        undated
    );
    let err = ModelBundle::load(&dir.join("future"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("bundle format 2 is not supported"), "{err}");
    let fourth = eval(dir, &schema, 0.5, Some(dir.join("future")), "d");
    assert!(
        fourth.promotion.promoted && fourth.promotion.reason.contains("unusable"),
        "{:?}",
        fourth.promotion
    );
}

#[test]
fn refit_all_ships_the_chosen_candidate_fitted_on_train_and_test() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    transformed(dir, false);
    let rep = train(&quick_cfg(), &dir.join("transform"), &dir.join("train")).unwrap();
    let schema = schema();
    let cfg = EvaluateConfig {
        refit_all: true,
        ..Default::default()
    };
    let plain = eval(dir, &schema, 0.0, None, "plain");
    let refitted = eval_with(dir, &schema, &cfg, None, "refit").unwrap();
    // The test score is that of the model fitted on train alone, with or without the refit.
    assert_eq!(refitted.metrics, plain.metrics);
    let refit = refitted.promotion.refit.clone().expect("refit recorded");
    let (x_tr, y_tr) = netsec_stages::load_xy(&dir.join("transform/train.npy")).unwrap();
    let (x_te, y_te) = netsec_stages::load_xy(&dir.join("transform/test.npy")).unwrap();
    assert_eq!(refit.rows, y_tr.len() + y_te.len());
    let test_npy = std::fs::read(dir.join("transform/test.npy")).unwrap();
    assert_eq!(
        refit.test_data_digest,
        blake3::hash(&test_npy).to_hex().to_string()
    );
    let bundle = ModelBundle::load(&dir.join("bundle-refit")).unwrap();
    assert_eq!(bundle.refit.as_ref(), Some(&refit));
    assert_eq!(bundle.metrics, refitted.metrics.test);
    // The bundled model is the chosen candidate, same seed, fitted on train rows then test rows.
    let x = ndarray::concatenate(ndarray::Axis(0), &[x_tr.view(), x_te.view()]).unwrap();
    let y: Vec<u8> = y_tr.iter().chain(y_te.iter()).copied().collect();
    let expected = rep.table[rep.chosen]
        .params
        .fit(x.view(), &y, rep.config.seed)
        .unwrap();
    assert_eq!(bundle.model, expected);
    let trained = ModelBundle::load(&dir.join("bundle-plain")).unwrap();
    assert_ne!(bundle.model, trained.model);
    assert_eq!(trained.refit, None);
    let promo: Promotion =
        serde_json::from_slice(&std::fs::read(dir.join("promotion-refit.json")).unwrap()).unwrap();
    assert_eq!(promo, refitted.promotion);
    // Not promoted: nothing is refitted.
    let kept = EvaluateConfig {
        min_improvement: 0.5,
        refit_all: true,
    };
    let rep2 = eval_with(dir, &schema, &kept, Some(dir.join("bundle-refit")), "kept").unwrap();
    assert!(!rep2.promotion.promoted && rep2.promotion.refit.is_none());
    // A cv.json whose `chosen` names no row (damaged, or edited by hand) is an artifact error
    // naming the file, not a panic.
    let mut bad = rep.clone();
    bad.chosen = 99;
    std::fs::write(dir.join("train/cv.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
    let err = eval_with(dir, &schema, &cfg, None, "bad")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cv.json") && err.contains("`chosen` is 99"),
        "{err}"
    );
    // A cv.json whose chosen row is of another family than model.json: the two files come
    // from different runs, and the refit says so instead of shipping the wrong kind.
    let other = rep
        .table
        .iter()
        .position(|r| r.params.name() != rep.table[rep.chosen].params.name())
        .expect("a grid of more than one family");
    let mut mixed = rep.clone();
    mixed.chosen = other;
    std::fs::write(
        dir.join("train/cv.json"),
        serde_json::to_vec(&mixed).unwrap(),
    )
    .unwrap();
    let err = eval_with(dir, &schema, &cfg, None, "mixed")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("different runs")
            && err.contains(&format!(
                "model.json holds `{}`",
                rep.table[rep.chosen].params.name()
            )),
        "{err}"
    );
}

#[test]
fn train_enforces_the_overfit_gap() {
    let tmp = tempfile::tempdir().unwrap();
    transformed(tmp.path(), false);
    let cfg = SelectConfig {
        max_overfit_gap: 0.0001,
        ..quick_cfg()
    };
    let err = train(
        &cfg,
        &tmp.path().join("transform"),
        &tmp.path().join("train"),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("exceeds `max_overfit_gap` 0.0001"),
        "{err}"
    );
    assert!(!tmp.path().join("train/model.json").exists());
    let bad = SelectConfig {
        models: vec!["knn".into()],
        ..quick_cfg()
    };
    let err = train(
        &bad,
        &tmp.path().join("transform"),
        &tmp.path().join("train"),
    )
    .unwrap_err();
    assert!(
        matches!(&err, StageError::Config { key, .. } if key == "train.models"),
        "{err}"
    );
}

/// A bundle trained on all rows, shared by the predict tests.
fn full_bundle(dir: &Path) -> ModelBundle {
    transformed(dir, true);
    // All 11,055 rows exceed the default `cv_max_rows`; CV on every row keeps the bundle (and
    // the counts the predict tests expect) that of full-data selection.
    let cfg = SelectConfig {
        cv_max_rows: 0,
        ..quick_cfg()
    };
    train(&cfg, &dir.join("transform"), &dir.join("train")).unwrap();
    eval(dir, &schema(), 0.0, None, "full");
    ModelBundle::load(&dir.join("bundle-full")).unwrap()
}

#[test]
fn predict_sample_and_reject_bad_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bundle = full_bundle(dir);
    let out = dir.join("pred.csv");
    let rep = predict_to_file(&bundle, &repo("data/sample-predict-input.csv"), &out).unwrap();
    assert_eq!((rep.rows, rep.phishing, rep.legitimate), (12, 4, 8));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().clone();
    assert_eq!(header.len(), 33);
    assert_eq!(&header[30], "prediction");
    assert_eq!(&header[31], "prediction_label");
    assert_eq!(&header[32], "phishing_probability");
    let t = bundle.threshold();
    let mut preds = Vec::new();
    for r in rdr.records() {
        let r = r.unwrap();
        let label: i64 = r[30].parse().unwrap();
        let p: f64 = r[32].parse().unwrap();
        // At least four decimals; the decision was taken on the unrounded value.
        assert!(
            r[32].split('.').nth(1).map(str::len) >= Some(4),
            "{:?}",
            &r[32]
        );
        if (p - t).abs() > 1e-4 {
            assert_eq!(label == -1, p >= t, "p {p} threshold {t}");
        }
        assert_eq!(
            &r[31],
            if label == -1 {
                "phishing"
            } else {
                "legitimate"
            }
        );
        preds.push(label);
    }
    assert_eq!(preds, vec![1, 1, -1, 1, 1, 1, 1, -1, 1, -1, 1, -1]);
    // Same rows with the label column present: accepted, label echoed before the predictions.
    let mut sink = Vec::new();
    let labelled = dir.join("labelled.csv");
    let src = std::fs::read_to_string(repo("data/phisingData.csv")).unwrap();
    std::fs::write(
        &labelled,
        src.lines().take(4).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    assert_eq!(predict(&bundle, &labelled, &mut sink).unwrap().rows, 3);
    assert!(String::from_utf8(sink)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .ends_with("Result,prediction,prediction_label,phishing_probability"));

    let sample = std::fs::read_to_string(repo("data/sample-predict-input.csv")).unwrap();
    let problems = |name: &str, text: &str| -> Vec<Problem> {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        match predict(&bundle, &p, &mut Vec::new()).unwrap_err() {
            StageError::Data { problems, .. } => problems,
            other => panic!("{other}"),
        }
    };
    // Wrong columns: the first column dropped.
    let dropped: String = sample
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string() + "\n")
        .collect();
    let p = problems("dropped.csv", &dropped);
    assert!(
        p.contains(&Problem::MissingColumn {
            column: "having_IP_Address".into()
        }),
        "{p:?}"
    );
    // A non-numeric cell on data line 3 (file line 4).
    let mut lines: Vec<String> = sample.lines().map(String::from).collect();
    lines[3] = lines[3].replacen("-1", "abc", 1);
    let p = problems("text.csv", &(lines.join("\n") + "\n"));
    assert!(
        p.iter()
            .any(|p| matches!(p, Problem::WrongType { line: 4, value, .. } if value == "abc")),
        "{p:?}"
    );
    assert_eq!(problems("empty.csv", ""), vec![Problem::EmptyFile]);
}

/// Release-mode timing: `cargo test --release -p netsec-stages --test models_stages -- --ignored`.
#[test]
#[ignore = "timing; run in release"]
fn predict_100k_rows_under_a_second() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    transformed(dir, false);
    train(
        &SelectConfig::default(),
        &dir.join("transform"),
        &dir.join("train"),
    )
    .unwrap();
    eval(dir, &schema(), 0.0, None, "big");
    let bundle = ModelBundle::load(&dir.join("bundle-big")).unwrap();
    let src = std::fs::read_to_string(repo("data/phisingData.csv")).unwrap();
    let mut lines = src.lines();
    let header = lines
        .next()
        .unwrap()
        .rsplit_once(',')
        .unwrap()
        .0
        .to_string();
    let rows: Vec<&str> = lines.map(|l| l.rsplit_once(',').unwrap().0).collect();
    let mut text = header + "\n";
    for i in 0..100_000 {
        text.push_str(rows[(i * 7919) % rows.len()]);
        text.push('\n');
    }
    let input = dir.join("big.csv");
    std::fs::write(&input, text).unwrap();
    // Where the time goes, for the report.
    let t = std::time::Instant::now();
    let frame = Frame::read_csv(&input, &bundle.schema, LabelMode::Optional).unwrap();
    let read = t.elapsed();
    let x = bundle.preprocessor.transform(&frame.features).unwrap();
    let imputed = t.elapsed();
    let p = bundle.model.predict_proba(x.view()).unwrap();
    let predicted = t.elapsed();
    let cells: Vec<String> = p.iter().map(|v| format!("{v}")).collect();
    let _ = frame.to_csv_string_with(&[("p", &cells)]).unwrap();
    eprintln!(
        "read {read:.2?}, impute {:.2?}, predict {:.2?}, format {:.2?}",
        imputed - read,
        predicted - imputed,
        t.elapsed() - predicted
    );
    // End to end, as `netsec predict` does it: load the bundle, read, predict, write.
    let t = std::time::Instant::now();
    let bundle = ModelBundle::load(&dir.join("bundle-big")).unwrap();
    let loaded = t.elapsed();
    let rep = predict_to_file(&bundle, &input, &dir.join("big-out.csv")).unwrap();
    eprintln!("bundle load {loaded:.2?}");
    let took = t.elapsed();
    eprintln!(
        "model {} — predict 100k rows end to end: {took:.2?}",
        bundle.model.name()
    );
    assert_eq!(rep.rows, 100_000);
    assert!(took.as_secs_f64() < 1.0, "{took:?}");
}
