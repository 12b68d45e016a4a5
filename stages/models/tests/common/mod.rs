//! Shared test helpers: the real phishing CSV and small synthetic sets.

#![allow(dead_code)]

use ndarray::Array2;

/// The bundled dataset, label mapped to 1 = phishing (Result −1).
pub fn phishing() -> (Array2<f64>, Vec<u8>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/phisingData.csv");
    let mut rdr = csv::Reader::from_path(path).expect("data/phisingData.csv");
    let mut cells = Vec::new();
    let mut y = Vec::new();
    for rec in rdr.records() {
        let rec = rec.expect("record");
        for v in rec.iter().take(30) {
            cells.push(v.parse::<f64>().expect("number"));
        }
        y.push(u8::from(&rec[30] == "-1"));
    }
    (
        Array2::from_shape_vec((y.len(), 30), cells).expect("shape"),
        y,
    )
}

/// A 3-valued "x0 == x1" problem: every single split (on x0, x1 or the noise column x2) has
/// zero gini gain at the root, yet depth 2 separates the classes perfectly.
pub fn equality_xor() -> (Array2<f64>, Vec<u8>) {
    let mut cells = Vec::new();
    let mut y = Vec::new();
    for rep in 0..4 {
        for a in [-1.0, 0.0, 1.0] {
            for b in [-1.0, 0.0, 1.0] {
                for c in [-1.0, 0.0, 1.0] {
                    let _ = rep;
                    cells.extend([a, b, c]);
                    y.push(u8::from(a == b));
                }
            }
        }
    }
    (
        Array2::from_shape_vec((y.len(), 3), cells).expect("shape"),
        y,
    )
}

pub fn accuracy(y: &[u8], proba: &[f64]) -> f64 {
    y.iter()
        .zip(proba)
        .filter(|(&t, &p)| t == u8::from(p >= 0.5))
        .count() as f64
        / y.len() as f64
}
