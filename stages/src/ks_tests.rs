use super::*;
use std::collections::BTreeMap;
use std::path::Path;

use crate::frame::{Frame, LabelMode};
use crate::schema::Schema;

/// P(D ≥ h/lcm) by enumerating every arrangement of m x-steps and n y-steps.
fn brute_force(m: u64, n: u64, h: u64) -> f64 {
    let total = m + n;
    let g = gcd(m, n);
    let (mg, ng) = (m / g, n / g);
    let (mut hit, mut all) = (0u64, 0u64);
    for mask in 0u64..(1 << total) {
        if mask.count_ones() as u64 != m {
            continue;
        }
        all += 1;
        let (mut x, mut y, mut best) = (0i64, 0i64, 0i64);
        for bit in 0..total {
            if mask >> bit & 1 == 1 {
                x += 1;
            } else {
                y += 1;
            }
            best = best.max((x * ng as i64 - y * mg as i64).abs());
        }
        if best as u64 >= h {
            hit += 1;
        }
    }
    hit as f64 / all as f64
}

#[test]
fn exact_matches_path_enumeration() {
    for (m, n) in [
        (3u64, 3u64),
        (4, 4),
        (5, 3),
        (7, 4),
        (6, 4),
        (8, 6),
        (9, 3),
        (2, 9),
    ] {
        let g = gcd(m, n);
        let lcm = m / g * n;
        for h in 1..=lcm {
            let want = brute_force(m, n, h);
            let got = exact_p(m, n, g, h).expect("exact");
            assert!(
                (want - got).abs() < 1e-12,
                "m={m} n={n} h={h}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn hand_cases_equal_unequal_and_ties() {
    // Disjoint samples: D = 1, p = 2 / C(n1+n2, n1).
    let r = ks_2samp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]).expect("result");
    assert_eq!(r.statistic, 1.0);
    assert!((r.p_value - 0.1).abs() < 1e-15);
    assert_eq!(r.method, KsMethod::Exact);
    let r = ks_2samp(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0, 9.0]).expect("result");
    assert!((r.p_value - 2.0 / 126.0).abs() < 1e-15, "{}", r.p_value);
    // Ties: the ECDFs are compared after every copy of a value.
    let r = ks_2samp(&[1.0, 1.0, 2.0, 2.0], &[1.0, 2.0, 2.0, 2.0]).expect("result");
    assert_eq!(r.statistic, 0.25);
    assert!((r.p_value - brute_force(4, 4, 1)).abs() < 1e-15);
    // Identical samples: p = 1.
    let r = ks_2samp(&[0.0, 1.0, 1.0], &[1.0, 0.0, 1.0]).expect("result");
    assert_eq!((r.statistic, r.p_value), (0.0, 1.0));
    // NaN is dropped; an empty sample has no test.
    assert!(ks_2samp(&[f64::NAN], &[1.0]).is_none());
}

#[test]
fn large_samples_use_the_asymptotic_distribution() {
    let a: Vec<f64> = (0..12_000).map(|i| (i % 100) as f64).collect();
    let b: Vec<f64> = (0..9_000).map(|i| ((i * 7) % 103) as f64).collect();
    let r = ks_2samp(&a, &b).expect("result");
    assert_eq!(r.method, KsMethod::Asymptotic);
    let small = ks_2samp(&a[..10_000], &b).expect("result");
    assert_eq!(small.method, KsMethod::Exact);
    // Both are close to each other for such sizes (the distributions converge).
    assert!(r.p_value > 0.0 && r.p_value <= 1.0);
    assert!((r.statistic - small.statistic).abs() < 0.01);
}

#[derive(serde::Deserialize)]
struct Expected {
    drift_status: bool,
    p_value: f64,
}

#[test]
fn golden_scipy_fixture_every_column_within_1e9() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/fixtures/ks-drift-denizarda1");
    let schema = Schema::load(&root.join("../schema.yaml")).expect("schema");
    let train =
        Frame::read_csv(&dir.join("train.csv"), &schema, LabelMode::Required).expect("train");
    let test = Frame::read_csv(&dir.join("test.csv"), &schema, LabelMode::Required).expect("test");
    let text = std::fs::read_to_string(dir.join("report.yaml")).expect("report");
    let expected: BTreeMap<String, Expected> = serde_norway::from_str(&text).expect("yaml");
    assert_eq!(expected.len(), 31);
    for (name, want) in &expected {
        let (a, b): (Vec<f64>, Vec<f64>) = match schema.columns.iter().position(|c| &c.name == name)
        {
            Some(j) => (
                train.features.column(j).mapv(f64::from).to_vec(),
                test.features.column(j).mapv(f64::from).to_vec(),
            ),
            None => {
                let la = train.labels.as_ref().expect("labels");
                let lb = test.labels.as_ref().expect("labels");
                (
                    la.iter().map(|v| *v as f64).collect(),
                    lb.iter().map(|v| *v as f64).collect(),
                )
            }
        };
        let got = ks_2samp(&a, &b).expect("result");
        assert_eq!(got.method, KsMethod::Exact, "{name}");
        assert!(
            (got.p_value - want.p_value).abs() <= 1e-9,
            "{name}: {} vs {}",
            got.p_value,
            want.p_value
        );
        assert_eq!(got.p_value < 0.05, want.drift_status, "{name}");
    }
}

/// `i·mul mod modulus + off` for i in 0..n: samples both SciPy and Rust can generate.
fn modular(n: usize, mul: usize, modulus: usize, off: usize) -> Vec<f64> {
    (0..n).map(|i| ((i * mul) % modulus + off) as f64).collect()
}

/// p-values computed with SciPy 1.17.1 `ks_2samp` (default method) on the same samples.
#[test]
fn scipy_pinned_cases_exact_and_asymptotic() {
    type Case = (&'static str, Vec<f64>, Vec<f64>, f64, KsMethod);
    let cases: [Case; 6] = [
        (
            "big_unequal",
            modular(12000, 7919, 1000, 0),
            modular(9000, 104729, 1013, 0),
            0.3674720189509276,
            KsMethod::Asymptotic,
        ),
        (
            "big_shift",
            modular(15000, 7919, 1000, 0),
            modular(20000, 104729, 1000, 8),
            0.6399232532954398,
            KsMethod::Asymptotic,
        ),
        (
            "small_vs_big",
            modular(30, 7919, 1000, 0),
            modular(10001, 104729, 1000, 0),
            0.9255905636940789,
            KsMethod::Asymptotic,
        ),
        (
            "tiny_vs_big",
            modular(5, 7919, 1000, 300),
            modular(12000, 104729, 1000, 0),
            0.0011304732590079994,
            KsMethod::Asymptotic,
        ),
        (
            "exact_edge",
            modular(3000, 7919, 1000, 0),
            modular(7001, 104729, 1000, 5),
            0.9999999983884661,
            KsMethod::Exact,
        ),
        (
            "exact_equal",
            modular(2500, 7919, 1000, 0),
            modular(2500, 104729, 1000, 20),
            0.6757383293702753,
            KsMethod::Exact,
        ),
    ];
    for (name, a, b, want, method) in cases {
        let r = ks_2samp(&a, &b).expect("result");
        assert_eq!(r.method, method, "{name}");
        assert!(
            (r.p_value - want).abs() <= 1e-9,
            "{name}: {} vs {want}",
            r.p_value
        );
    }
}

/// `kstwo.sf(x, n)` from SciPy, across every branch of the method selection.
#[test]
fn kolmogorov_sf_matches_scipy_kstwo() {
    let cases = [
        (5000u64, 0.012, 0.4639912166690192),
        (5000, 0.02, 0.03613941395325637),
        (5000, 0.03, 0.00024159234422666817),
        (5000, 0.004, 0.9999977369528622),
        (100000, 0.003, 0.3284563327726956),
        (100000, 0.0005, 1.0),
        (150, 0.05, 0.8290828416799794),
        (150, 0.15, 0.002067286298751634),
        (60, 0.1, 0.5521961259289287),
        (60, 0.2, 0.014023403960275127),
        (60, 0.3, 2.7617543388165356e-05),
        (9, 0.3, 0.32439191684739876),
        (3000, 0.6, 0.0),
        (200000, 0.004, 0.003314212822560255),
        (2000000, 0.001, 0.03660662431970485),
        (2000000, 0.0001, 1.0),
        (1000, 0.09, 1.6911775984434787e-07),
    ];
    for (n, x, want) in cases {
        let got = crate::kolmogorov::kolmogorov_sf(n, x);
        assert!((got - want).abs() <= 1e-9, "n={n} x={x}: {got} vs {want}");
    }
}
