//! A binary decision tree stored as flat arrays (portable JSON, fast traversal) and the
//! histogram grower shared by CART (gini) and gradient boosting (Newton steps).

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use crate::bins::Binned;
use crate::data::Feature;
use crate::rng::SplitMix64;

/// A fitted tree. Node 0 is the root; a node whose `left` is 0 is a leaf (the root is never a
/// child) and the right child of node `n` is always `left[n] + 1`, which lets traversal pick a
/// child without a branch. Rows with `x[feature] <= threshold` (or NaN) go left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub feature: Vec<u32>,
    pub threshold: Vec<f64>,
    pub left: Vec<u32>,
    /// Leaf output: the positive-class probability (CART) or a raw score (boosting).
    pub value: Vec<f64>,
}

impl Tree {
    /// The leaf value reached by `row`.
    pub fn predict_row<T: Feature>(&self, row: ArrayView1<T>) -> f64 {
        let mut n = 0usize;
        while self.left[n] != 0 {
            n = self.left[n] as usize
                + usize::from(row[self.feature[n] as usize].to_f64() > self.threshold[n]);
        }
        self.value[n]
    }

    /// The leaf value reached by a contiguous feature row.
    #[inline]
    pub fn predict_slice(&self, row: &[f64]) -> f64 {
        let mut n = 0usize;
        while self.left[n] != 0 {
            // Branch-free child choice: the comparison is data-dependent and mispredicts often.
            n = self.left[n] as usize
                + usize::from(row[self.feature[n] as usize] > self.threshold[n]);
        }
        self.value[n]
    }

    /// Adds this tree's output for each row of `flat` (row-major, `p` columns) to `acc`.
    pub fn accumulate(&self, flat: &[f64], p: usize, acc: &mut [f64]) {
        for (a, row) in acc.iter_mut().zip(flat.chunks_exact(p)) {
            *a += self.predict_slice(row);
        }
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.value.len()
    }

    /// Depth of the deepest leaf (a lone root has depth 0).
    pub fn depth(&self) -> usize {
        let mut best = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((n, d)) = stack.pop() {
            best = best.max(d);
            if self.left[n] != 0 {
                stack.push((self.left[n] as usize, d + 1));
                stack.push((self.left[n] as usize + 1, d + 1));
            }
        }
        best
    }

    fn push(&mut self) -> usize {
        self.feature.push(0);
        self.threshold.push(0.0);
        self.left.push(0);
        self.value.push(0.0);
        self.value.len() - 1
    }
}

/// How a node is scored and what a leaf outputs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Criterion {
    /// Row stats `(weight, weight·y)`; leaf = positive share; best split taken even at zero
    /// gain (like scikit-learn) so that XOR-like interactions can be found.
    Gini,
    /// Row stats `(hessian, gradient)`; leaf = −G/(H+λ); a split must gain more than `min_gain`.
    Newton { lambda: f64, min_gain: f64 },
}

impl Criterion {
    fn score(self, a: f64, b: f64) -> f64 {
        match self {
            Criterion::Gini => {
                if a > 0.0 {
                    (b * b + (a - b) * (a - b)) / a
                } else {
                    0.0
                }
            }
            Criterion::Newton { lambda, .. } => b * b / (a + lambda),
        }
    }

    fn leaf(self, a: f64, b: f64) -> f64 {
        match self {
            Criterion::Gini => {
                if a > 0.0 {
                    b / a
                } else {
                    0.0
                }
            }
            Criterion::Newton { lambda, .. } => -b / (a + lambda),
        }
    }
}

/// Limits on growth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowSpec {
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    /// Features examined per split.
    pub max_features: usize,
    /// With sampled features: `false` examines `max_features` features that are not constant
    /// in the node; `true` stops after `max_features` draws, constant ones included, as soon
    /// as one of them was splittable (scikit-learn's rule; more random in deep nodes, where
    /// most 3-valued features are already fixed).
    pub count_constant_draws: bool,
    pub criterion: Criterion,
}

/// Running sums `(a, b, count)` of one histogram bin or node.
type Acc = [f64; 3];

fn add(acc: &mut Acc, s: &Acc) {
    acc[0] += s[0];
    acc[1] += s[1];
    acc[2] += s[2];
}

/// The best split found so far: (gain, feature, last bin going left, threshold).
type Best = Option<(f64, usize, u8, f64)>;

/// Grows one tree on `rows` (indices into `binned`; row `r` has stats `(a, b, weight)`),
/// adding each split's gain to `importance[feature]`.
///
/// With all features examined, each node's all-feature histogram is kept and the larger
/// child's is derived by subtraction (only the smaller child is scanned). With feature
/// sampling, features are drawn in a seeded order and scanned one at a time until
/// `max_features` non-constant ones have been seen.
pub(crate) fn grow(
    binned: &Binned,
    rows: &mut [u32],
    stats: &[Acc],
    spec: &GrowSpec,
    rng: &mut SplitMix64,
    importance: &mut [f64],
) -> Tree {
    let mut tree = Tree {
        feature: vec![],
        threshold: vec![],
        left: vec![],
        value: vec![],
    };
    let p = binned.n_features;
    let full = spec.max_features >= p;
    let n_bins = binned.offsets[p];
    let mut order: Vec<usize> = (0..p).collect();
    let mut scratch = vec![[0.0f64; 3]; n_bins];
    let root = tree.push();
    let root_hist = if full {
        Some(build_all(binned, rows, stats, n_bins))
    } else {
        None
    };
    let mut stack = vec![(root, 0usize, rows.len(), 0usize, root_hist)];
    while let Some((node, start, end, depth, hist)) = stack.pop() {
        let part = &mut rows[start..end];
        let total = match &hist {
            // Every feature's bins sum to the node total; feature 0's are as good as any.
            Some(h) => h[..binned.offsets[1]].iter().fold([0.0; 3], |mut t, b| {
                add(&mut t, b);
                t
            }),
            None => part.iter().fold([0.0; 3], |mut t, &r| {
                add(&mut t, &stats[r as usize]);
                t
            }),
        };
        let [ta, tb, count] = total;
        tree.value[node] = spec.criterion.leaf(ta, tb);
        let pure = matches!(spec.criterion, Criterion::Gini) && (tb <= 0.0 || tb >= ta);
        let min_leaf = spec.min_samples_leaf as f64;
        if pure
            || depth >= spec.max_depth
            || count < spec.min_samples_split as f64
            || count < 2.0 * min_leaf
        {
            continue;
        }
        let parent = spec.criterion.score(ta, tb);
        let mut best: Best = None;
        if let Some(h) = &hist {
            for f in 0..p {
                let fh = &h[binned.offsets[f]..binned.offsets[f + 1]];
                scan(binned, spec, f, fh, total, parent, &mut best);
            }
        } else {
            rng.shuffle(&mut order);
            let (mut drawn, mut splittable) = (0, 0);
            for &f in order.iter() {
                drawn += 1;
                let fh = &mut scratch[..binned.bins[f].len()];
                fh.iter_mut().for_each(|c| *c = [0.0; 3]);
                for &r in part.iter() {
                    add(
                        &mut fh[binned.row(r as usize)[f] as usize],
                        &stats[r as usize],
                    );
                }
                if fh.iter().filter(|c| c[2] > 0.0).count() >= 2 {
                    splittable += 1;
                    scan(binned, spec, f, fh, total, parent, &mut best);
                }
                let seen = if spec.count_constant_draws {
                    drawn
                } else {
                    splittable
                };
                if seen >= spec.max_features && splittable > 0 {
                    break;
                }
            }
        }
        let Some((gain, f, last_left, thr)) = best else {
            continue;
        };
        if let Criterion::Newton { min_gain, .. } = spec.criterion {
            if gain <= min_gain {
                continue;
            }
        }
        importance[f] += gain.max(0.0);
        // Partition the node's rows in place: codes <= last_left first.
        let mut i = 0;
        for k in 0..part.len() {
            if binned.row(part[k] as usize)[f] <= last_left {
                part.swap(i, k);
                i += 1;
            }
        }
        let (lh, rh) = match hist {
            Some(mut h) => {
                let left_small = i <= part.len() - i;
                let small_rows = if left_small { &part[..i] } else { &part[i..] };
                let small = build_all(binned, small_rows, stats, n_bins);
                h.iter_mut().zip(&small).for_each(|(a, b)| {
                    a[0] -= b[0];
                    a[1] -= b[1];
                    a[2] -= b[2];
                });
                if left_small {
                    (Some(small), Some(h))
                } else {
                    (Some(h), Some(small))
                }
            }
            None => (None, None),
        };
        let l = tree.push();
        let r = tree.push(); // always l + 1
        tree.feature[node] = f as u32;
        tree.threshold[node] = thr;
        tree.left[node] = l as u32;
        // Right pushed first so the left subtree is grown first.
        stack.push((r, start + i, end, depth + 1, rh));
        stack.push((l, start, start + i, depth + 1, lh));
    }
    tree
}

/// The all-feature histogram of `rows`.
fn build_all(binned: &Binned, rows: &[u32], stats: &[Acc], n_bins: usize) -> Vec<Acc> {
    let mut h = vec![[0.0f64; 3]; n_bins];
    let offs = &binned.offsets[..binned.n_features];
    for &r in rows {
        let s = &stats[r as usize];
        for (&o, &c) in offs.iter().zip(binned.row(r as usize)) {
            add(&mut h[o + c as usize], s);
        }
    }
    h
}

/// Scans the bin boundaries of feature `f` (histogram `fh`) and records a better split.
fn scan(
    binned: &Binned,
    spec: &GrowSpec,
    f: usize,
    fh: &[Acc],
    total: Acc,
    parent: f64,
    best: &mut Best,
) {
    let min_leaf = spec.min_samples_leaf as f64;
    let mut left = [0.0; 3];
    let mut prev: Option<usize> = None;
    for (b, c) in fh.iter().enumerate() {
        if c[2] <= 0.0 {
            continue;
        }
        if let Some(pb) = prev {
            // Split between the previous non-empty bin `pb` (left) and `b` (right).
            let rc = total[2] - left[2];
            if left[2] >= min_leaf && rc >= min_leaf {
                let gain = spec.criterion.score(left[0], left[1])
                    + spec.criterion.score(total[0] - left[0], total[1] - left[1])
                    - parent;
                if best.is_none_or(|(g, ..)| gain > g) {
                    let fb = &binned.bins[f];
                    *best = Some((gain, f, pb as u8, 0.5 * (fb.hi[pb] + fb.lo[b])));
                }
            }
        }
        add(&mut left, c);
        prev = Some(b);
    }
}
