//! Gradient boosting with early stopping: the inner validation split keeps identical feature
//! vectors together (as the split and grouped CV do), each booster keeps exactly the rounds up
//! to its lowest held-out log-loss, and the candidate is in the default grid that grouped-CV
//! selection scores.
#![expect(clippy::unwrap_used, reason = "a failing unwrap is a failing test")]

mod common;

use common::{accuracy, phishing};
use ndarray::{Array2, ArrayView2, Axis};
use netsec_models::{
    default_grid, validation_split, BoostingParams, EarlyStopping, GradientBoosting, Groups, Model,
    ModelError, Params,
};

fn first_rows(n: usize) -> (Array2<f64>, Vec<u8>) {
    let (x, y) = phishing();
    (x.slice(ndarray::s![..n, ..]).to_owned(), y[..n].to_vec())
}

/// Summed log-loss of the first `k` trees of `m` on `(x, y)`.
fn held_out_loss(m: &GradientBoosting, k: usize, x: ArrayView2<f64>, y: &[u8]) -> f64 {
    x.outer_iter()
        .zip(y)
        .map(|(row, &t)| {
            let raw: f64 = m.base_score
                + m.trees[..k]
                    .iter()
                    .map(|tr| tr.predict_row(row))
                    .sum::<f64>();
            let p = 1.0 / (1.0 + (-raw).exp());
            -(if t == 1 { p.ln() } else { (1.0 - p).ln() })
        })
        .sum()
}

#[test]
fn inner_split_keeps_identical_vectors_together_and_is_stratified() {
    let (x, y) = phishing();
    let (fit, val) = validation_split(x.view(), &y, 0.1, 42).unwrap();
    assert_eq!(fit.len() + val.len(), y.len());
    let share = val.len() as f64 / y.len() as f64;
    assert!((0.08..0.12).contains(&share), "{share}");
    let groups = Groups::new(x.view(), None).of_row;
    let mut side = vec![None; groups.len()];
    for (rows, s) in [(&fit, 0u8), (&val, 1u8)] {
        for &i in rows {
            let g = groups[i] as usize;
            assert!(
                side[g].is_none_or(|v| v == s),
                "group {g} straddles the inner split"
            );
            side[g] = Some(s);
        }
    }
    // Both classes, in about the data's proportion.
    let pos =
        |rows: &[usize]| rows.iter().filter(|&&i| y[i] == 1).count() as f64 / rows.len() as f64;
    assert!(
        (pos(&val) - pos(&fit)).abs() < 0.03,
        "{} {}",
        pos(&val),
        pos(&fit)
    );
    // Seeded.
    assert_eq!(
        validation_split(x.view(), &y, 0.1, 42).unwrap(),
        (fit.clone(), val.clone())
    );
    assert_ne!(validation_split(x.view(), &y, 0.1, 43).unwrap().1, val);
}

#[test]
fn each_booster_keeps_the_rounds_up_to_its_best_held_out_loss() {
    let (x, y) = first_rows(3000);
    let es = EarlyStopping {
        validation_fraction: 0.2,
        patience: 10,
    };
    // A fast learning rate overfits within the round budget, so the booster must stop.
    let params = BoostingParams {
        n_rounds: 400,
        learning_rate: 0.5,
        max_depth: 6,
        min_samples_leaf: 1,
        l2: 0.0,
        early_stopping: Some(es),
        ..Default::default()
    };
    let m = GradientBoosting::fit(x.view(), &y, &params, 5).unwrap();
    let kept = m.trees.len();
    assert!(kept > 0 && kept < 400, "{kept} trees kept");

    // The same booster without early stopping, on the same fit rows, run `patience` rounds
    // past the stop: its first `kept` trees are the kept ones, and its held-out loss is lowest
    // after exactly `kept` trees.
    let (fit, val) = validation_split(x.view(), &y, 0.2, 5).unwrap();
    let pick = |rows: &[usize]| -> Vec<u8> { rows.iter().map(|&i| y[i]).collect() };
    let longer = GradientBoosting::fit(
        x.select(Axis(0), &fit).view(),
        &pick(&fit),
        &BoostingParams {
            n_rounds: kept + es.patience,
            early_stopping: None,
            ..params.clone()
        },
        5,
    )
    .unwrap();
    assert_eq!(longer.base_score, m.base_score);
    assert_eq!(&longer.trees[..kept], &m.trees[..]);
    assert_eq!(
        longer.trees.len(),
        kept + es.patience,
        "no early exhaustion"
    );
    let (xv, yv) = (x.select(Axis(0), &val), pick(&val));
    let losses: Vec<f64> = (0..=longer.trees.len())
        .map(|k| held_out_loss(&longer, k, xv.view(), &yv))
        .collect();
    let best = (0..losses.len())
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .unwrap();
    assert_eq!(best, kept, "held-out losses {losses:?}");
    let acc = accuracy(
        &y,
        Model::Boosting(m)
            .predict_proba(x.view())
            .unwrap()
            .as_slice()
            .unwrap(),
    );
    assert!(acc > 0.93, "{acc}");
}

#[test]
fn early_stopping_is_seeded_validated_and_optional_in_json() {
    let (x, y) = first_rows(2000);
    let params = BoostingParams {
        n_rounds: 200,
        learning_rate: 0.3,
        subsample: 0.8,
        early_stopping: Some(EarlyStopping::default()),
        ..Default::default()
    };
    let a = GradientBoosting::fit(x.view(), &y, &params, 11).unwrap();
    assert_eq!(a, GradientBoosting::fit(x.view(), &y, &params, 11).unwrap());
    assert_ne!(a, GradientBoosting::fit(x.view(), &y, &params, 12).unwrap());

    for es in [
        EarlyStopping {
            validation_fraction: 0.0,
            patience: 5,
        },
        EarlyStopping {
            validation_fraction: 0.6,
            patience: 5,
        },
        EarlyStopping {
            validation_fraction: f64::NAN,
            patience: 5,
        },
        EarlyStopping {
            validation_fraction: 0.1,
            patience: 0,
        },
    ] {
        let bad = BoostingParams {
            early_stopping: Some(es),
            ..params.clone()
        };
        let err = GradientBoosting::fit(x.view(), &y, &bad, 0).unwrap_err();
        assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
        assert!(err.to_string().contains("early_stopping"), "{err}");
    }

    // Off, the key is not written, and params written before it existed still load.
    let plain = serde_json::to_value(BoostingParams::default()).unwrap();
    assert!(plain.get("early_stopping").is_none(), "{plain}");
    let old: BoostingParams = serde_json::from_value(plain).unwrap();
    assert_eq!(old.early_stopping, None);
    let on = serde_json::to_string(&params).unwrap();
    assert_eq!(serde_json::from_str::<BoostingParams>(&on).unwrap(), params);
    assert!(serde_json::from_str::<BoostingParams>(
        r#"{"early_stopping": {"validation_fraction": 0.1, "patience": 5, "tol": 1}}"#
    )
    .is_err());
}

#[test]
fn the_default_boosting_grid_has_an_early_stopped_stochastic_candidate() {
    let grid = default_grid("boosting").unwrap();
    let es: Vec<&BoostingParams> = grid
        .iter()
        .filter_map(|p| match p {
            Params::Boosting(b) if b.early_stopping.is_some() => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(es.len(), 1);
    assert!(es[0].subsample < 1.0 && es[0].learning_rate < 0.1);
}
