//! The one-sample two-sided Kolmogorov distribution `P(D_n > x)`, used by the asymptotic branch
//! of the two-sample KS test exactly as SciPy's `kstwo.sf` (Simard & L'Ecuyer's selection of
//! methods): Ruben–Gambino closed forms at the extremes, the Durbin matrix (Marsaglia–Tsang–Wang)
//! and Pomeranz recursion for exact values, the Smirnov one-sided series (doubled) in the upper
//! tail and the Pelz–Good expansion for large n. Reimplemented from the published algorithms.

use statrs::function::gamma::ln_gamma;

const E128: i32 = 128;
const MIN_LOG: f64 = -708.0;

fn two_pow(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// x · 2^e without intermediate overflow.
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= two_pow(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= two_pow(-1000);
        e += 1000;
    }
    x * two_pow(e as i32)
}

/// `P(D_n > x)` for the two-sided one-sample statistic.
pub fn kolmogorov_sf(n: u64, x: f64) -> f64 {
    if n == 0 || x.is_nan() {
        return f64::NAN;
    }
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * x;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |acc, i| {
                acc * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
            })
        } else {
            (log_nfactorial_div_n_pow_n(nf) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - x).powf(nf)).clamp(0.0, 1.0);
    }
    if x >= 0.5 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let nxx = t * x;
    if n <= 140 {
        if nxx <= 0.754693 {
            return (1.0 - dmtw_cdf(n, x)).clamp(0.0, 1.0);
        }
        if nxx <= 4.0 {
            return (1.0 - pomeranz_cdf(n, x)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    if nxx >= 370.0 {
        return 0.0;
    }
    if nxx >= 2.2 {
        return (2.0 * smirnov_sf(n, x)).clamp(0.0, 1.0);
    }
    let cdf = if n <= 100_000 && nf * x.powf(1.5) <= 1.4 {
        dmtw_cdf(n, x)
    } else {
        pelz_good_cdf(nf, x)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

/// log(n!/n^n) by Stirling's series with the n·log(n) removed up front.
fn log_nfactorial_div_n_pow_n(n: f64) -> f64 {
    #[expect(
        clippy::excessive_precision,
        reason = "the Stirling coefficients as published"
    )]
    const STIRLING: [f64; 8] = [
        -2.955065359477124183e-2,
        6.4102564102564102564e-3,
        -1.9175269175269175269e-3,
        8.4175084175084175084e-4,
        -5.952380952380952381e-4,
        7.9365079365079365079e-4,
        -2.7777777777777777778e-3,
        8.3333333333333333333e-2,
    ];
    let rn = 1.0 / n;
    let z = rn / n;
    let poly = STIRLING.iter().fold(0.0, |acc, c| acc * z + c);
    n.ln() / 2.0 - n + (2.0 * std::f64::consts::PI).ln() / 2.0 + rn * poly
}

/// One-sided `P(D_n^+ ≥ x)` by the Birnbaum–Tingey series
/// `x Σ_{j ≤ n(1-x)} C(n,j) (x + j/n)^(j-1) (1 - x - j/n)^(n-j)`, every term positive, in logs.
pub fn smirnov_sf(n: u64, x: f64) -> f64 {
    if x >= 1.0 {
        return 0.0;
    }
    if x <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    if n == 1 {
        return 1.0 - x;
    }
    if -2.0 * nf * x * x < MIN_LOG {
        return 0.0;
    }
    if x >= 1.0 - 1.0 / nf {
        return (1.0 - x).powf(nf);
    }
    if n > 1_000_000 {
        let logp = -(6.0 * nf * x + 1.0).powi(2) / 18.0 / nf;
        return if logp < -std::f64::consts::LN_2 {
            logp.exp()
        } else {
            1.0 + logp.exp_m1()
        };
    }
    let lnx = x.ln();
    let ln_n_fact = ln_gamma(nf + 1.0);
    let jmax = (nf * (1.0 - x)).floor() as u64;
    let mut sum = 0.0;
    for j in 0..=jmax {
        let jf = j as f64;
        let rest = (n - j) as f64 / nf - x;
        if rest <= 0.0 && j < n {
            continue;
        }
        let ln_c = ln_n_fact - ln_gamma(jf + 1.0) - ln_gamma(nf - jf + 1.0);
        let ln_term = ln_c + (jf - 1.0) * (x + jf / nf).ln() + (nf - jf) * rest.ln() + lnx;
        sum += ln_term.exp();
    }
    sum.clamp(0.0, 1.0)
}

/// `P(D_n ≤ d)` by Durbin's matrix, with Marsaglia–Tsang–Wang's scaled powering.
pub fn dmtw_cdf(n: u64, d: f64) -> f64 {
    if d >= 1.0 {
        return 1.0;
    }
    let nf = n as f64;
    let nd = nf * d;
    if nd <= 0.5 {
        return 0.0;
    }
    let k = nd.ceil() as usize;
    let h = k as f64 - nd;
    let m = 2 * k - 1;
    let mut v: Vec<f64> = (1..=m).map(|j| 1.0 - h.powi(j as i32)).collect();
    let mut w = vec![0.0; m];
    let mut fac = 1.0;
    for j in 1..=m {
        w[j - 1] = fac;
        fac /= j as f64;
        v[j - 1] *= fac;
    }
    let tt = (2.0 * h - 1.0).max(0.0).powi(m as i32) - 2.0 * h.powi(m as i32);
    v[m - 1] = (1.0 + tt) * fac;
    let mut hm = vec![0.0; m * m];
    for i in 1..m {
        for r in (i - 1)..m {
            hm[r * m + i] = w[r - (i - 1)];
        }
    }
    for r in 0..m {
        hm[r * m] = v[r];
    }
    for c in 0..m {
        hm[(m - 1) * m + c] = v[m - 1 - c];
    }
    let mut pw = vec![0.0; m * m];
    for i in 0..m {
        pw[i * m + i] = 1.0;
    }
    let (mut nn, mut expnt, mut hexp) = (n, 0i64, 0i64);
    let big = two_pow(E128);
    while nn > 0 {
        if nn % 2 == 1 {
            pw = matmul(&pw, &hm, m);
            expnt += hexp;
        }
        hm = matmul(&hm, &hm, m);
        hexp *= 2;
        if hm[(k - 1) * m + (k - 1)].abs() > big {
            for x in hm.iter_mut() {
                *x /= big;
            }
            hexp += i64::from(E128);
        }
        nn /= 2;
    }
    let mut p = pw[(k - 1) * m + (k - 1)];
    let small = two_pow(-E128);
    for i in 1..=n {
        p = i as f64 * p / nf;
        if p.abs() < small {
            p *= big;
            expnt -= i64::from(E128);
        }
    }
    if expnt != 0 {
        p = ldexp(p, expnt);
    }
    p.clamp(0.0, 1.0)
}

fn matmul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        for k in 0..m {
            let aik = a[i * m + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..m {
                out[i * m + j] += aik * b[k * m + j];
            }
        }
    }
    out
}

fn pomeranz_bounds(i: i64, n: i64, ll: i64, ceilf: i64, roundf: i64) -> (i64, i64) {
    let (j1, j2) = if i == 0 {
        (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let (half, odd) = ((i + 1) / 2, (i + 1) % 2);
        if odd == 0 {
            if half == n + 1 {
                (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1)
            }
        } else {
            (half - 1 - ll - 1, half + ll + roundf - 1)
        }
    };
    ((j1 + 2).max(0), j2.min(n))
}

/// `P(D_n ≤ x)` by Pomeranz's recursion (two rows of Poisson-weighted convolutions).
pub fn pomeranz_cdf(n: u64, x: f64) -> f64 {
    let nf = n as f64;
    let ni = n as i64;
    let t = nf * x;
    let ll = t.floor() as i64;
    let f = t - ll as f64;
    let g = f.min(1.0 - f);
    let ceilf = i64::from(f > 0.0);
    let roundf = i64::from(f > 0.5);
    let npw = (2 * (ll + 1)) as usize;
    let mut gp = vec![1.0; npw];
    let mut g2p = vec![1.0; npw];
    let mut g12p = vec![1.0; npw];
    let (a, b, c) = (g / nf, 2.0 * g / nf, (1.0 - 2.0 * g) / nf);
    for m in 1..npw {
        gp[m] = gp[m - 1] * a / m as f64;
        g2p[m] = g2p[m - 1] * b / m as f64;
        g12p[m] = g12p[m - 1] * c / m as f64;
    }
    let mut v0 = vec![0.0; npw];
    let mut v1 = vec![0.0; npw];
    v1[0] = 1.0;
    let (mut v0s, mut v1s) = (0i64, 0i64);
    let mut expnt = 0i64;
    let (mut j1, _) = pomeranz_bounds(0, ni, ll, ceilf, roundf);
    for i in 1..(2 * ni + 2) {
        let k1 = j1;
        std::mem::swap(&mut v0, &mut v1);
        std::mem::swap(&mut v0s, &mut v1s);
        v1.iter_mut().for_each(|v| *v = 0.0);
        let (nj1, j2) = pomeranz_bounds(i, ni, ll, ceilf, roundf);
        j1 = nj1;
        let pw = if i == 1 || i == 2 * ni + 1 {
            &gp
        } else if i % 2 == 1 {
            &g2p
        } else {
            &g12p
        };
        let ln2 = j2 - k1 + 1;
        if ln2 > 0 {
            let start = (k1 - v0s).max(0) as usize;
            let seg = &v0[start.min(npw)..(start + ln2 as usize).min(npw)];
            let kern = &pw[..(ln2 as usize).min(npw)];
            let conv_start = (j1 - k1) as usize;
            let conv_len = (j2 - j1 + 1).max(0) as usize;
            for (o, slot) in v1.iter_mut().take(conv_len).enumerate() {
                let idx = conv_start + o;
                let mut s = 0.0;
                for (p, sv) in seg.iter().enumerate() {
                    if idx >= p && idx - p < kern.len() {
                        s += sv * kern[idx - p];
                    }
                }
                *slot = s;
            }
            let mx = v1.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if mx > 0.0 && mx < two_pow(-E128) {
                v1.iter_mut().for_each(|v| *v *= two_pow(E128));
                expnt -= i64::from(E128);
            }
            v1s = v0s + j1 - k1;
        }
    }
    let mut ans = v1.get((ni - v1s).max(0) as usize).copied().unwrap_or(0.0);
    for m in 1..=n {
        if ans.abs() > two_pow(E128) {
            ans *= two_pow(-E128);
            expnt += i64::from(E128);
        }
        ans *= m as f64;
    }
    if expnt != 0 {
        ans = ldexp(ans, expnt);
    }
    ans.clamp(0.0, 1.0)
}

/// `P(D_n ≤ x)` by the Pelz–Good expansion (Li-Chien/Korolyuk terms transformed with the
/// Jacobi theta identity so they converge fast for small z = x·√n).
pub fn pelz_good_cdf(n: f64, x: f64) -> f64 {
    use std::f64::consts::PI;
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let (pi2, pi4, pi6) = (PI * PI, PI.powi(4), PI.powi(6));
    let sqrt2pi = (2.0 * PI).sqrt();
    let z = n.sqrt() * x;
    let (z2, z3, z4, z6) = (z * z, z.powi(3), z.powi(4), z.powi(6));
    let qlog = -pi2 / 8.0 / z2;
    if qlog < MIN_LOG {
        return 0.0;
    }
    let q = qlog.exp();
    let k1a = -z2;
    let k1b = pi2 / 4.0;
    let k2a = 6.0 * z6 + 2.0 * z4;
    let k2b = (2.0 * z4 - 5.0 * z2) * pi2 / 4.0;
    let k2c = pi4 * (1.0 - 2.0 * z2) / 16.0;
    let k3d = pi6 * (5.0 - 30.0 * z2) / 64.0;
    let k3c = pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0;
    let k3b = pi2 * (135.0 * z4 - 96.0 * z6) / 4.0;
    let k3a = -30.0 * z6 - 90.0 * z.powi(8);
    let mut kk = [0.0f64; 4];
    let maxk = (16.0 * z / PI).ceil() as i64;
    for k in (1..=maxk).rev() {
        let m = (2 * k - 1) as f64;
        let (m2, m4, m6) = (m * m, m.powi(4), m.powi(6));
        let qp = q.powf(8.0 * k as f64);
        let coeffs = [
            1.0,
            k1a + k1b * m2,
            k2a + k2b * m2 + k2c * m4,
            k3a + k3b * m2 + k3c * m4 + k3d * m6,
        ];
        for (s, c) in kk.iter_mut().zip(coeffs) {
            *s = *s * qp + c;
        }
    }
    let div = [z, 6.0 * z4, 72.0 * z.powi(7), 6480.0 * z.powi(10)];
    for (s, d) in kk.iter_mut().zip(div) {
        *s = *s * q * sqrt2pi / d;
    }
    let q2 = (-pi2 / 2.0 / z2).exp();
    let sqrt3z = 3f64.sqrt() * z;
    let (mut k2x, mut k3x) = (0.0, 0.0);
    for k in (1..=maxk).rev() {
        let kf = k as f64;
        let ks = kf * kf;
        let qp = q2.powf(ks);
        k2x += ks * qp;
        let kspi = PI * kf;
        k3x += (sqrt3z + kspi) * (sqrt3z - kspi) * ks * qp;
    }
    kk[2] += k2x * pi2 * sqrt2pi / (-36.0 * z3);
    kk[3] += k3x * pi2 * sqrt2pi / (216.0 * z6);
    for (i, s) in kk.iter_mut().enumerate() {
        *s /= n.powf(i as f64 / 2.0);
    }
    kk.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Kolmogorov limit Σ (-1)^(k-1) 2 e^(-2k²z²), for plausibility checks.
    fn kolmogorov_limit_sf(z: f64) -> f64 {
        (1..100)
            .map(|k| {
                let k = k as f64;
                2.0 * (-1f64).powf(k - 1.0) * (-2.0 * k * k * z * z).exp()
            })
            .sum()
    }

    #[test]
    fn methods_agree_where_their_ranges_meet() {
        // Durbin matrix and Pomeranz are both exact.
        for (n, x) in [(20u64, 0.15), (50, 0.12), (100, 0.1), (137, 0.09)] {
            let a = dmtw_cdf(n, x);
            let b = pomeranz_cdf(n, x);
            assert!((a - b).abs() < 1e-12, "n={n} x={x}: {a} vs {b}");
        }
        // Pelz–Good is an approximation of the exact Durbin value for large n.
        let (n, x) = (5000u64, 0.012);
        let a = dmtw_cdf(n, x);
        let b = pelz_good_cdf(n as f64, x);
        assert!((a - b).abs() < 1e-7, "{a} vs {b}");
    }

    #[test]
    fn large_n_approaches_the_kolmogorov_limit() {
        let n = 200_000u64;
        for z in [0.8, 1.0, 1.36, 1.6] {
            let p = kolmogorov_sf(n, z / (n as f64).sqrt());
            let lim = kolmogorov_limit_sf(z);
            assert!((p - lim).abs() < 3e-3, "z={z}: {p} vs {lim}");
        }
    }

    #[test]
    fn smirnov_tail_matches_closed_forms() {
        // n = 2, x in [1/2, 1): P(D+ ≥ x) = (1-x)^2 ... plus the j = 1 term when x ≤ 1/2.
        assert!((smirnov_sf(2, 0.6) - 0.16).abs() < 1e-15);
        // D_n ≥ x: the doubled one-sided tail for x ≥ 1/2 is exact.
        assert!((kolmogorov_sf(10, 0.6) - 2.0 * smirnov_sf(10, 0.6)).abs() < 1e-15);
        assert_eq!(kolmogorov_sf(10, 0.01), 1.0);
        assert_eq!(kolmogorov_sf(10, 1.0), 0.0);
    }
}
