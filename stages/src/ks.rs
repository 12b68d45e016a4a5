//! Two-sample Kolmogorov–Smirnov test, two-sided, matching SciPy's `ks_2samp` default method.
//!
//! SciPy's `method="auto"` computes the exact null distribution when both samples have at most
//! 10,000 values and the asymptotic one otherwise (or when the exact computation fails). Exact:
//! the statistic is an integer `h` on the lattice of step `1/lcm(n1, n2)`, and the p-value is the
//! share of monotone lattice paths from (0, 0) to (n1, n2) that leave the band
//! `|x/n1 - y/n2| < h/lcm`. Equal sizes use the alternating binomial series in Horner form;
//! unequal sizes use Hodges' "inside" recursion rewritten by Viehmann (arXiv:2102.08037) to carry
//! `1 - p` directly, which stays accurate for tiny and for near-one p-values. Asymptotic: the
//! one-sample two-sided Kolmogorov distribution at `n = round(n1·n2/(n1+n2))`, see
//! `kolmogorov.rs`. Both follow SciPy's arithmetic step by step so the p-values agree to
//! rounding; the code is our own.

use crate::kolmogorov::kolmogorov_sf;

/// SciPy's `MAX_AUTO_N`: above this sample size the asymptotic distribution is used.
pub const MAX_EXACT_N: usize = 10_000;

/// Which distribution produced a p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    Exact,
    Asymptotic,
}

/// The result of one test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KsResult {
    /// sup |F1 - F2|.
    pub statistic: f64,
    pub p_value: f64,
    pub method: KsMethod,
}

/// Two-sided two-sample KS test of `a` against `b`. NaN values are dropped first (SciPy would
/// propagate them); `None` when either sample is then empty.
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Option<KsResult> {
    let mut a: Vec<f64> = a.iter().copied().filter(|v| !v.is_nan()).collect();
    let mut b: Vec<f64> = b.iter().copied().filter(|v| !v.is_nan()).collect();
    if a.is_empty() || b.is_empty() {
        return None;
    }
    a.sort_unstable_by(f64::total_cmp);
    b.sort_unstable_by(f64::total_cmp);
    let (n1, n2) = (a.len() as u64, b.len() as u64);
    let g = gcd(n1, n2);
    let (n1g, n2g) = (n1 / g, n2 / g);
    let h = max_gap(&a, &b, n1g, n2g);
    let lcm = n1g * n2;
    let statistic = h as f64 / lcm as f64;

    // SciPy also gives up on the exact method when the lattice would overflow a C int.
    let exact_allowed =
        a.len().max(b.len()) <= MAX_EXACT_N && (n1g as f64) < (i32::MAX as f64) / (n2g as f64);
    if exact_allowed {
        if let Some(p) = exact_p(n1, n2, g, h) {
            return Some(KsResult {
                statistic,
                p_value: p.clamp(0.0, 1.0),
                method: KsMethod::Exact,
            });
        }
    }
    let (m, n) = if n1 >= n2 {
        (n1 as f64, n2 as f64)
    } else {
        (n2 as f64, n1 as f64)
    };
    let en = m * n / (m + n);
    let p = kolmogorov_sf(en.round_ties_even() as u64, statistic);
    Some(KsResult {
        statistic,
        p_value: p.clamp(0.0, 1.0),
        method: KsMethod::Asymptotic,
    })
}

/// max over all values of |c1·n2g - c2·n1g|, where c1, c2 count the values ≤ it in each sample:
/// the statistic times lcm(n1, n2), computed exactly in integers.
fn max_gap(a: &[f64], b: &[f64], n1g: u64, n2g: u64) -> u64 {
    let (mut i, mut j) = (0usize, 0usize);
    let mut best: i128 = 0;
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.min(*y),
            (Some(x), None) => *x,
            (None, Some(y)) => *y,
            (None, None) => break,
        };
        // Right-continuous ECDFs: take every tie of `v` on both sides before comparing.
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        let gap = (i as i128 * n2g as i128 - j as i128 * n1g as i128).abs();
        best = best.max(gap);
    }
    best as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Exact two-sided p-value for the lattice statistic `h`; `None` when the computation is
/// unusable (SciPy then falls back to the asymptotic distribution).
fn exact_p(n1: u64, n2: u64, g: u64, h: u64) -> Option<f64> {
    if h == 0 {
        return Some(1.0);
    }
    let p = if n1 == n2 {
        prob_outside_square(n1, h)
    } else {
        outer_prob_inside(n1, n2, g, h)
    };
    (p.is_finite() && (0.0..=1.0).contains(&p)).then_some(p)
}

/// Equal sizes: P(D ≥ h/n) = 2·Σ_k (-1)^(k+1) C(2n, n-kh)/C(2n, n), evaluated from the
/// innermost term outwards (P = A1(1 - A2(1 - A3(…)))) to avoid cancellation.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    let (n, h) = (n as i64, h as i64);
    let mut p = 0.0f64;
    let mut k = n / h;
    while k >= 0 {
        let mut term = 1.0f64;
        for j in 0..h {
            term = (n - k * h - j) as f64 * term / (n + k * h + j + 1) as f64;
        }
        p = term * (1.0 - p);
        k -= 1;
    }
    2.0 * p
}

/// Unequal sizes: the share of lattice paths that touch or cross `|x/m - y/n| ≥ h/lcm`,
/// built column by column over a sliding window of reachable rows, each cell holding the
/// probability that a path reaching it has already left the band.
fn outer_prob_inside(n1: u64, n2: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if n1 >= n2 {
        (n1 as i64, n2 as i64)
    } else {
        (n2 as i64, n1 as i64)
    };
    let (g, h) = (g as i64, h as i64);
    let (mg, ng) = (m / g, n / g);
    let ceil_div = |a: i64, b: i64| -> i64 { -((-a).div_euclid(b)) };
    let mut minj: i64 = 0;
    let mut maxj: i64 = ceil_div(h, mg).min(n + 1);
    let mut curlen = maxj - minj;
    let len = (2 * maxj + 2).min(n + 1).max(1) as usize;
    let mut a = vec![1.0f64; len];
    for v in a.iter_mut().take(maxj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        minj = ((ng * i - h).div_euclid(mg) + 1).max(0).min(n);
        maxj = ceil_div(ng * i + h, mg).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        for jj in 0..(maxj - minj) {
            let j = jj + minj;
            let prev = a
                .get((jj + minj - lastminj) as usize)
                .copied()
                .unwrap_or(1.0);
            val = (prev * i as f64 + val * j as f64) / (i + j) as f64;
            if let Some(slot) = a.get_mut(jj as usize) {
                *slot = val;
            }
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            let start = curlen as usize;
            let end = ((curlen + lastlen - curlen) as usize).min(a.len());
            for v in a.iter_mut().take(end).skip(start) {
                *v = 1.0;
            }
        }
    }
    a.get((maxj - minj - 1) as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
#[path = "ks_tests.rs"]
mod tests;
