use super::*;
use std::path::Path;

/// Rows of `cases.txt`: kth; cells `s/c` (value sqrt(s / c · 30), built like the imputer's
/// distances) or `nan`; numpy 2.4.6 `argpartition` output on an AVX-512 machine. The emulation
/// must reproduce the whole permutation.
#[test]
fn matches_numpy_avx512_argpartition_exactly() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/argpartition/cases.txt");
    let text = std::fs::read_to_string(path).expect("fixture");
    let mut checked = 0;
    for (line_no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#'))
    {
        let parts: Vec<&str> = line.split(';').collect();
        let kth: usize = parts[0].parse().expect("kth");
        let values: Vec<f64> = parts[1]
            .split(',')
            .map(|v| match v.split_once('/') {
                Some((s, c)) => {
                    let (s, c): (f64, f64) = (s.parse().expect("sum"), c.parse().expect("count"));
                    (s / c * 30.0).sqrt()
                }
                None => f64::NAN,
            })
            .collect();
        let want: Vec<usize> = parts[2]
            .split(',')
            .map(|v| v.parse().expect("index"))
            .collect();
        let got = argpartition(&values, kth);
        assert_eq!(
            got,
            want,
            "case on line {} (n = {})",
            line_no + 1,
            values.len()
        );
        checked += 1;
    }
    assert_eq!(checked, 79);
}

#[test]
fn small_and_degenerate_inputs() {
    assert_eq!(argpartition(&[], 0), Vec::<usize>::new());
    assert_eq!(argpartition(&[3.0], 0), vec![0]);
    let all_equal = vec![1.0; 300];
    let p = argpartition(&all_equal, 2);
    let mut sorted = p.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..300).collect::<Vec<_>>());
}
