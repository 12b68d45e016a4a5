//! Model selection: CV table, determinism, enforced bars, config validation.
#![expect(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

mod common;

use common::phishing;
use netsec_models::*;

fn subset() -> (ndarray::Array2<f64>, Vec<u8>) {
    let (x, y) = phishing();
    (
        x.slice(ndarray::s![..2500, ..]).to_owned(),
        y[..2500].to_vec(),
    )
}

#[test]
fn select_fills_the_table_and_is_deterministic() {
    let (x, y) = subset();
    let cfg = SelectConfig {
        models: vec!["tree".into(), "forest".into(), "logistic".into()],
        ..Default::default()
    };
    let a = select(x.view(), &y, &cfg).unwrap();
    // Two trees, three forests, two logistic regressions, then the votes of the best candidate
    // with each candidate of the second-best family.
    let singles = &a.table[..7];
    let votes = &a.table[7..];
    assert!(singles.iter().all(|r| r.model != "vote"));
    let best = singles.iter().map(|r| r.f1_mean).fold(f64::MIN, f64::max);
    let leader = singles.iter().position(|r| r.f1_mean == best).unwrap();
    let partners: Vec<&Params> = votes
        .iter()
        .map(|r| {
            let Params::Vote(vote) = &r.params else {
                panic!("{:?}", r.params)
            };
            assert_eq!(vote.members.len(), 2);
            assert_eq!(vote.members[0], singles[leader].params);
            &vote.members[1]
        })
        .collect();
    let runner_up = partners[0].name();
    assert_ne!(runner_up, singles[leader].model);
    let family: Vec<&Params> = singles
        .iter()
        .filter(|r| r.model == runner_up)
        .map(|r| &r.params)
        .collect();
    assert_eq!(partners, family);
    // The runner-up family holds the best candidate outside the leader's family.
    let outside = singles
        .iter()
        .filter(|r| r.model != singles[leader].model)
        .map(|r| r.f1_mean)
        .fold(f64::MIN, f64::max);
    assert!(singles
        .iter()
        .any(|r| r.model == runner_up && r.f1_mean == outside));
    assert!(a.threshold > 0.0 && a.threshold < 1.0);
    assert!(a.oof_f1_at_threshold >= a.oof_f1, "{a:?}");
    assert_eq!(a.other_cv.cv, CvKind::Stratified);
    for r in &a.table {
        assert_eq!(r.fold_f1.len(), 5);
        assert!(r.f1_mean > 0.8 && r.roc_auc_mean > 0.9, "{r:?}");
    }
    let best = a.table.iter().map(|r| r.f1_mean).fold(f64::MIN, f64::max);
    assert_eq!(a.table[a.chosen].f1_mean, best);
    assert_eq!(a.model.name(), a.table[a.chosen].model);
    assert!((a.gap - (a.train_f1 - a.cv_f1)).abs() < 1e-15);
    let b = select(x.view(), &y, &cfg).unwrap();
    assert_eq!(
        serde_json::to_string(&a.model).unwrap(),
        serde_json::to_string(&b.model).unwrap()
    );
    assert_eq!(
        serde_json::to_string(&a.table).unwrap(),
        serde_json::to_string(&b.table).unwrap()
    );
}

#[test]
fn select_enforces_expected_score_and_overfit_gap() {
    let (x, y) = subset();
    let cfg = SelectConfig {
        models: vec!["tree".into()],
        expected_score: 0.999,
        ..Default::default()
    };
    let err = select(x.view(), &y, &cfg).unwrap_err();
    assert!(
        matches!(err, ModelError::BelowExpectedScore { expected, .. } if expected == 0.999),
        "{err}"
    );
    assert!(
        err.to_string().contains("below `expected_score` 0.9990"),
        "{err}"
    );
    let cfg = SelectConfig {
        models: vec!["tree".into()],
        max_overfit_gap: 0.001,
        ..Default::default()
    };
    let err = select(x.view(), &y, &cfg).unwrap_err();
    let ModelError::Overfit { gap, .. } = err else {
        panic!("{err}")
    };
    assert!(gap > 0.001);
}

#[test]
fn config_defaults_and_unknown_models() {
    let cfg: SelectConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(cfg, SelectConfig::default());
    assert_eq!(
        (cfg.folds, cfg.seed, cfg.expected_score, cfg.max_overfit_gap),
        (5, 42, 0.6, 0.05)
    );
    assert_eq!(cfg.models, KNOWN_MODELS.to_vec());
    assert!(serde_json::from_str::<SelectConfig>(r#"{"fold": 3}"#).is_err());
    let bad = SelectConfig {
        models: vec!["xgboost".into()],
        ..Default::default()
    };
    let (x, y) = subset();
    let err = select(x.view(), &y, &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown model `xgboost`; known models: logistic, svm, tree, forest, boosting"
    );
    let none = SelectConfig {
        models: vec![],
        ..Default::default()
    };
    assert_eq!(
        select(x.view(), &y, &none).unwrap_err(),
        ModelError::NoCandidates
    );
}

#[test]
fn grouped_cv_is_more_pessimistic_than_plain_cv_on_duplicated_data() {
    let (x, y) = subset();
    let plain = SelectConfig {
        models: vec!["tree".into()],
        cv: CvKind::Stratified,
        ..Default::default()
    };
    // A full-depth tree memorises duplicates: its grouped gap (~0.06) exceeds the default bar.
    let grouped = SelectConfig {
        cv: CvKind::Grouped,
        max_overfit_gap: 1.0,
        ..plain.clone()
    };
    let a = select(x.view(), &y, &plain).unwrap();
    let b = select(x.view(), &y, &grouped).unwrap();
    assert!(
        b.cv_f1 < a.cv_f1,
        "grouped {} vs plain {}",
        b.cv_f1,
        a.cv_f1
    );
    // Each reports the other kind for the same candidate.
    assert_eq!(a.other_cv.cv, CvKind::Grouped);
    assert_eq!(b.other_cv.cv, CvKind::Stratified);
    assert!(a.other_cv.f1_mean < a.cv_f1);
}

#[test]
fn above_cv_max_rows_cv_runs_on_a_subsample_and_the_refit_on_every_row() {
    let (x, y) = subset();
    let cfg = SelectConfig {
        models: vec!["forest".into(), "logistic".into()],
        ensemble: false,
        max_overfit_gap: 1.0,
        cv_max_rows: 1000,
        ..Default::default()
    };
    let a = select(x.view(), &y, &cfg).unwrap();
    // 2,500 rows in ⌈2500 / 1000⌉ = 3 grouped parts: one of them, about 833 rows.
    assert!((700..=1000).contains(&a.cv_rows), "{}", a.cv_rows);
    // Forests draw `cv_max_rows` rows per tree in CV and in the refit alike.
    let Params::Forest(p) = &a.table[0].params else {
        panic!("{:?}", a.table[0].params)
    };
    assert_eq!(p.max_samples, Some(1000));
    let refit = select(
        x.view(),
        &y,
        &SelectConfig {
            models: vec!["forest".into()],
            ..cfg.clone()
        },
    )
    .unwrap();
    let Model::Forest(f) = &refit.model else {
        panic!("{}", refit.model.name())
    };
    assert_eq!(f.params.max_samples, Some(1000));
    // The refit sees every row: its train F1 is scored on all 2,500.
    assert!(refit.train_f1 > refit.cv_f1, "{refit:?}");
    let b = select(x.view(), &y, &cfg).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    // At or below the cap (and with 0) every row is used and forests keep their defaults.
    let all = select(
        x.view(),
        &y,
        &SelectConfig {
            cv_max_rows: 0,
            ..cfg.clone()
        },
    )
    .unwrap();
    assert_eq!(all.cv_rows, 2500);
    let Params::Forest(p) = &all.table[0].params else {
        panic!()
    };
    assert_eq!(p.max_samples, None);
    let bad = SelectConfig {
        cv_max_rows: 20,
        ..cfg
    };
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("cv_max_rows"));
}
