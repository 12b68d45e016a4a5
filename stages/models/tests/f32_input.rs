//! `f32` feature storage: every learner fitted on `f32` input gives the model it gives on
//! `f64` input of the same values (the bundled data's -1/0/1 codes are exact in `f32`), and
//! scores rows alike.
#![expect(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

mod common;

use common::phishing;
use ndarray::{s, Array2};
use netsec_models::*;

fn data() -> (Array2<f64>, Array2<f32>, Vec<u8>) {
    let (x, y) = phishing();
    let x = x.slice(s![..3000, ..]).to_owned();
    let narrow = x.mapv(|v| v as f32);
    (x, narrow, y[..3000].to_vec())
}

#[test]
fn every_family_fits_the_same_model_on_f32_input() {
    let (x, narrow, y) = data();
    let mut grid: Vec<Params> = KNOWN_MODELS
        .iter()
        .flat_map(|m| default_grid(m).unwrap())
        .collect();
    grid.push(Params::Boosting(BoostingParams {
        n_rounds: 40,
        early_stopping: Some(EarlyStopping::default()),
        subsample: 0.8,
        ..Default::default()
    }));
    for params in &grid {
        let wide = params.fit(x.view(), &y, 7).unwrap();
        let thin = params.fit(narrow.view(), &y, 7).unwrap();
        assert_eq!(wide, thin, "{params:?}");
        assert_eq!(
            wide.predict_proba(x.view()).unwrap(),
            thin.predict_proba(narrow.view()).unwrap(),
            "{params:?}"
        );
    }
}

#[test]
fn selection_on_f32_input_chooses_and_scores_alike() {
    let (x, narrow, y) = data();
    let cfg = SelectConfig {
        models: vec!["tree".into(), "boosting".into()],
        cv_max_rows: 1500,
        expected_score: 0.0,
        max_overfit_gap: 1.0,
        ..Default::default()
    };
    let wide = select(x.view(), &y, &cfg).unwrap();
    let thin = select(narrow.view(), &y, &cfg).unwrap();
    assert_eq!(wide.model, thin.model);
    assert_eq!(wide.cv_f1, thin.cv_f1);
    assert_eq!(wide.threshold, thin.threshold);
    assert_eq!(
        Groups::new(x.view(), Some(&y)),
        Groups::new(narrow.view(), Some(&y))
    );
}
