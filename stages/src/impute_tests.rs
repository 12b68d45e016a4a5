use super::*;
use std::path::Path;

/// Reads a numeric CSV with a header; empty cells are NaN.
fn read_matrix(path: &Path) -> Array2<f64> {
    let text = std::fs::read_to_string(path).expect("read fixture");
    let mut lines = text.lines();
    let cols = lines.next().expect("header").split(',').count();
    let mut data = Vec::new();
    let mut rows = 0;
    for line in lines.filter(|l| !l.is_empty()) {
        for cell in line.split(',') {
            data.push(if cell.is_empty() {
                f64::NAN
            } else {
                cell.parse().expect("number")
            });
        }
        rows += 1;
    }
    Array2::from_shape_vec((rows, cols), data).expect("shape")
}

/// Whether the k nearest donors of cell (row, col) are ambiguous: the k-th and (k+1)-th
/// smallest distances tie and the tied donors disagree on the value.
fn tie_decides(imp: &KnnImputer, row: ndarray::ArrayView1<'_, f64>, col: usize) -> bool {
    let dist = imp.distances(row);
    let mut donors: Vec<(f64, f64)> = (0..imp.n_rows)
        .filter(|&i| !imp.fit[i * imp.n_features + col].is_nan())
        .map(|i| (dist[i], imp.fit[i * imp.n_features + col]))
        .filter(|(d, _)| !d.is_nan())
        .collect();
    let k = imp.n_neighbors;
    if donors.len() <= k {
        return false;
    }
    donors.sort_by(|a, b| a.0.total_cmp(&b.0));
    let kth = donors[k - 1].0;
    if donors[k].0 != kth {
        return false;
    }
    let tied: Vec<f64> = donors
        .iter()
        .filter(|(d, _)| *d == kth)
        .map(|(_, v)| *v)
        .collect();
    tied.iter().any(|v| *v != tied[0])
}

/// Every cell whose value does not depend on how equally distant donors are ordered matches
/// scikit-learn exactly; the tie-decided cells are counted (see the ignored strict test).
#[test]
fn golden_sklearn_fixture_untied_cells_within_1e9() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knn-impute");
    let train = read_matrix(&dir.join("train_with_holes.csv"));
    let test = read_matrix(&dir.join("test_with_holes.csv"));
    let imp = KnnImputer::fit(&train, 3).expect("fit");
    let mut checked = 0;
    for (input, expected) in [
        (&train, "expected_train_imputed.csv"),
        (&test, "expected_test_imputed.csv"),
    ] {
        let want = read_matrix(&dir.join(expected));
        let got = imp.transform(input).expect("transform");
        for ((r, c), w) in want.indexed_iter() {
            if input[[r, c]].is_nan() && tie_decides(&imp, input.row(r), c) {
                continue;
            }
            checked += 1;
            assert!(
                (got[[r, c]] - w).abs() <= 1e-9,
                "{expected} row {r} col {c}: {} vs {w}",
                got[[r, c]]
            );
        }
    }
    assert!(checked > 11_900, "{checked}");
}

#[test]
fn golden_sklearn_fixture_within_1e9() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knn-impute");
    let train = read_matrix(&dir.join("train_with_holes.csv"));
    let test = read_matrix(&dir.join("test_with_holes.csv"));
    let imp = KnnImputer::fit(&train, 3).expect("fit");
    for (input, expected) in [
        (&train, "expected_train_imputed.csv"),
        (&test, "expected_test_imputed.csv"),
    ] {
        let want = read_matrix(&dir.join(expected));
        let got = imp.transform(input).expect("transform");
        assert_eq!(got.dim(), want.dim());
        let bad: Vec<String> = want
            .indexed_iter()
            .filter(|((r, c), w)| (got[[*r, *c]] - **w).abs() > 1e-9)
            .map(|((r, c), w)| format!("row {r} col {c}: {} vs {w}", got[[r, c]]))
            .collect();
        // The fixture holds 12 significant digits.
        assert!(
            bad.is_empty(),
            "{expected}: {} cells differ: {:?}",
            bad.len(),
            &bad[..bad.len().min(10)]
        );
    }
}

#[test]
fn fast_path_returns_input_unchanged() {
    let x = Array2::from_shape_vec((2, 2), vec![1.0, 0.0, -1.0, 1.0]).expect("shape");
    let imp = KnnImputer::fit(&x, 3).expect("fit");
    assert_eq!(imp.transform(&x).expect("transform"), x);
}

#[test]
fn row_with_nothing_in_common_gets_the_mean() {
    let fit = Array2::from_shape_vec((3, 2), vec![1.0, f64::NAN, 3.0, f64::NAN, 5.0, 2.0])
        .expect("shape");
    let imp = KnnImputer::fit(&fit, 2).expect("fit");
    let x = Array2::from_shape_vec((1, 2), vec![f64::NAN, f64::NAN]).expect("shape");
    let got = imp.transform(&x).expect("transform");
    assert_eq!(got.row(0).to_vec(), vec![3.0, 2.0]);
}

#[test]
fn ties_follow_numpy_and_nan_distances_weigh_nothing() {
    assert_eq!(
        crate::argselect::argpartition(&[2.0, 1.0, 1.0, 1.0, 0.5], 2)[..3].to_vec(),
        vec![4, 1, 3]
    );
    assert_eq!(
        crate::argselect::argpartition(&[f64::NAN, 1.0, f64::NAN], 1),
        vec![1, 0, 2]
    );
    // One donor at a defined distance, one at NaN: the NaN one is chosen but weighs 0.
    let fit = Array2::from_shape_vec((2, 3), vec![1.0, f64::NAN, 4.0, f64::NAN, 2.0, 8.0])
        .expect("shape");
    let imp = KnnImputer::fit(&fit, 3).expect("fit");
    let x = Array2::from_shape_vec((1, 3), vec![1.0, f64::NAN, f64::NAN]).expect("shape");
    let got = imp.transform(&x).expect("transform");
    // Column 2: donors are rows 0 (distance 0) and 1 (nothing in common) → 4.
    assert_eq!(got[[0, 2]], 4.0);
}

#[test]
fn serde_roundtrip_keeps_missing_cells() {
    let fit = Array2::from_shape_vec((2, 2), vec![1.0, f64::NAN, 0.0, 1.0]).expect("shape");
    let imp = KnnImputer::fit(&fit, 3).expect("fit");
    let json = serde_json::to_string(&imp).expect("json");
    assert!(json.contains("null"));
    let back: KnnImputer = serde_json::from_str(&json).expect("back");
    assert!(back.fit[1].is_nan());
    let x = Array2::from_shape_vec((1, 2), vec![f64::NAN, 1.0]).expect("shape");
    assert_eq!(
        back.transform(&x).expect("t"),
        imp.transform(&x).expect("t")
    );
}

#[test]
fn wrong_width_and_empty_column_are_errors() {
    let fit = Array2::from_shape_vec((2, 2), vec![1.0, f64::NAN, 0.0, f64::NAN]).expect("shape");
    assert!(KnnImputer::fit(&fit, 3).is_err());
    let ok = Array2::from_shape_vec((1, 2), vec![1.0, 2.0]).expect("shape");
    let imp = KnnImputer::fit(&ok, 3).expect("fit");
    assert!(imp.transform(&Array2::<f64>::zeros((1, 3))).is_err());
}

#[test]
fn a_bounded_fit_keeps_every_kth_row() {
    let x = Array2::from_shape_fn((10, 2), |(i, j)| (i * 2 + j) as f64);
    let all = KnnImputer::fit_bounded(&x, 3, 0).expect("fit");
    assert_eq!(all, KnnImputer::fit(&x, 3).expect("fit"));
    assert_eq!(KnnImputer::fit_bounded(&x, 3, 10).expect("fit"), all);
    // 10 rows, at most 4: every 3rd row (0, 3, 6, 9).
    let some = KnnImputer::fit_bounded(&x, 3, 4).expect("fit");
    assert_eq!(some.n_rows, 4);
    assert_eq!(some.fit, vec![0.0, 1.0, 6.0, 7.0, 12.0, 13.0, 18.0, 19.0]);
    // Filling uses the kept rows only: the nearest kept rows to (NaN, 9) are 3 and 6 (b = 7, 13).
    let q = Array2::from_shape_vec((1, 2), vec![f64::NAN, 9.0]).expect("shape");
    let filled = KnnImputer::fit_bounded(&x, 2, 4)
        .expect("fit")
        .transform(&q)
        .expect("transform");
    assert_eq!(filled[[0, 0]], 9.0);
}
