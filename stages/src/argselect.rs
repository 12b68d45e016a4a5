//! numpy's `argpartition` for float64 on x86-64 with AVX-512, emulated lane by lane, so that the
//! KNN imputer breaks ties among equally distant donors exactly as scikit-learn does there.
//!
//! numpy ≥ 2 hands `argpartition` of a float64 row to Intel's x86-simd-sort `argselect`: rows
//! holding a NaN go to `std::nth_element` (libstdc++ introselect, NaN last); other rows are
//! quick-selected with vectorised partitions (8-lane compress-stores around a median-of-8 pivot)
//! down to ≤ 256 elements, which are argsorted by a bitonic key/index network. Which of several
//! equal keys lands in the first k slots is a by-product of those exact steps, so they are
//! reproduced here: the lane permutations, blend masks and compress order of the vector code.
//! (Other CPUs run other numpy kernels and may break ties differently; the golden fixture was
//! produced on AVX-512, like this machine's numpy.)

const LANES: usize = 8;
const NETWORK_SIZE: usize = 256;

/// The argpartition of `values` around `kth`: a permutation of `0..n` whose first `kth + 1`
/// entries index the `kth + 1` smallest values (NaN largest).
pub(crate) fn argpartition(values: &[f64], kth: usize) -> Vec<usize> {
    let n = values.len();
    let mut arg: Vec<usize> = (0..n).collect();
    if n <= 1 {
        return arg;
    }
    if values.iter().any(|v| v.is_nan()) {
        nth_element(values, &mut arg, kth);
    } else {
        let max_iters = 2 * (n as f64).log2() as i64;
        argselect(values, &mut arg, kth, 0, n - 1, max_iters);
    }
    arg
}

fn argselect(
    arr: &[f64],
    arg: &mut [usize],
    pos: usize,
    left: usize,
    right: usize,
    max_iters: i64,
) {
    if max_iters <= 0 {
        // No progress (e.g. the pivot keeps equalling the minimum): x86-simd-sort hands the
        // range to std::sort.
        std_sort(&mut arg[left..=right], &|a, b| arr[a] < arr[b]);
        return;
    }
    if right + 1 - left <= NETWORK_SIZE {
        argsort_network(arr, &mut arg[left..=right]);
        return;
    }
    let pivot = pivot_median_of_8(arr, arg, left, right);
    let (pivot_index, smallest, biggest) = partition_unrolled(arr, arg, left, right + 1, pivot);
    if pivot != smallest && pos < pivot_index {
        argselect(arr, arg, pos, left, pivot_index - 1, max_iters - 1);
    } else if pivot != biggest && pos >= pivot_index {
        argselect(arr, arg, pos, pivot_index, right, max_iters - 1);
    }
}

fn pivot_median_of_8(arr: &[f64], arg: &[usize], left: usize, right: usize) -> f64 {
    if right - left >= LANES {
        let size = (right - left) / 8;
        let mut v: Vec<f64> = (1..=8).map(|i| arr[arg[left + i * size]]).collect();
        v.sort_by(f64::total_cmp);
        v[4]
    } else {
        arr[arg[right]]
    }
}

/// Running min/max of everything a partition looked at.
struct Range {
    smallest: f64,
    biggest: f64,
}

impl Range {
    fn see(&mut self, v: f64) {
        if v < self.smallest {
            self.smallest = v;
        }
        if v > self.biggest {
            self.biggest = v;
        }
    }
}

/// One 8-lane register partition: lanes < pivot are compress-stored at `l`, lanes ≥ pivot at
/// the end of `..r`, both in lane order. Returns how many were ≥ pivot.
fn partition_vec(
    arr: &[f64],
    arg: &mut [usize],
    l: usize,
    r: usize,
    lanes: &[usize; LANES],
    pivot: f64,
    range: &mut Range,
) -> usize {
    let ge: Vec<bool> = lanes.iter().map(|&i| arr[i] >= pivot).collect();
    let amount_ge = ge.iter().filter(|g| **g).count();
    let mut lo = l;
    let mut hi = r - amount_ge;
    for (j, &i) in lanes.iter().enumerate() {
        range.see(arr[i]);
        if ge[j] {
            arg[hi] = i;
            hi += 1;
        } else {
            arg[lo] = i;
            lo += 1;
        }
    }
    amount_ge
}

fn load(arg: &[usize], at: usize) -> [usize; LANES] {
    let mut v = [0usize; LANES];
    v.copy_from_slice(&arg[at..at + LANES]);
    v
}

/// Scalar prologue shared by both partitions: shortens the range to a multiple of `step`.
fn scalar_prologue(
    arr: &[f64],
    arg: &mut [usize],
    left: &mut usize,
    right: &mut usize,
    step: usize,
    pivot: f64,
    range: &mut Range,
) {
    for _ in 0..((*right - *left) % step) {
        let v = arr[arg[*left]];
        range.see(v);
        if v < pivot {
            *left += 1;
        } else {
            *right -= 1;
            arg.swap(*left, *right);
        }
    }
}

/// `partition_avx512_unrolled` with 4 registers per step; `right` is exclusive.
fn partition_unrolled(
    arr: &[f64],
    arg: &mut [usize],
    mut left: usize,
    mut right: usize,
    pivot: f64,
) -> (usize, f64, f64) {
    const UNROLL: usize = 4;
    if right - left <= 8 * UNROLL * LANES {
        return partition_single(arr, arg, left, right, pivot);
    }
    let mut range = Range {
        smallest: f64::INFINITY,
        biggest: f64::NEG_INFINITY,
    };
    scalar_prologue(
        arr,
        arg,
        &mut left,
        &mut right,
        UNROLL * LANES,
        pivot,
        &mut range,
    );
    if left == right {
        return (left, range.smallest, range.biggest);
    }
    let vec_left: Vec<[usize; LANES]> =
        (0..UNROLL).map(|ii| load(arg, left + LANES * ii)).collect();
    let vec_right: Vec<[usize; LANES]> = (0..UNROLL)
        .map(|ii| load(arg, right - LANES * (UNROLL - ii)))
        .collect();
    // Unsigned like the C++ (`arrsize_t`): r_store may wrap below zero and back.
    let mut r_store = right - LANES;
    let mut l_store = left;
    left += UNROLL * LANES;
    right -= UNROLL * LANES;
    while right != left {
        let vecs: Vec<[usize; LANES]> =
            if r_store.wrapping_add(LANES).wrapping_sub(right) < left.wrapping_sub(l_store) {
                right -= UNROLL * LANES;
                (0..UNROLL)
                    .map(|ii| load(arg, right + ii * LANES))
                    .collect()
            } else {
                let v = (0..UNROLL).map(|ii| load(arg, left + ii * LANES)).collect();
                left += UNROLL * LANES;
                v
            };
        for v in &vecs {
            let gt = partition_vec(
                arr,
                arg,
                l_store,
                r_store.wrapping_add(LANES),
                v,
                pivot,
                &mut range,
            );
            l_store += LANES - gt;
            r_store = r_store.wrapping_sub(gt);
        }
    }
    for v in vec_left.iter().chain(&vec_right) {
        let gt = partition_vec(
            arr,
            arg,
            l_store,
            r_store.wrapping_add(LANES),
            v,
            pivot,
            &mut range,
        );
        l_store += LANES - gt;
        r_store = r_store.wrapping_sub(gt);
    }
    (l_store, range.smallest, range.biggest)
}

/// `partition_avx512` (one register per step); `right` is exclusive.
fn partition_single(
    arr: &[f64],
    arg: &mut [usize],
    mut left: usize,
    mut right: usize,
    pivot: f64,
) -> (usize, f64, f64) {
    let mut range = Range {
        smallest: f64::INFINITY,
        biggest: f64::NEG_INFINITY,
    };
    scalar_prologue(arr, arg, &mut left, &mut right, LANES, pivot, &mut range);
    if left == right {
        return (left, range.smallest, range.biggest);
    }
    if right - left == LANES {
        let v = load(arg, left);
        let gt = partition_vec(arr, arg, left, left + LANES, &v, pivot, &mut range);
        return (left + LANES - gt, range.smallest, range.biggest);
    }
    let vec_left = load(arg, left);
    let vec_right = load(arg, right - LANES);
    let mut r_store = right - LANES;
    let mut l_store = left;
    left += LANES;
    right -= LANES;
    while right != left {
        let v = if r_store.wrapping_add(LANES).wrapping_sub(right) < left.wrapping_sub(l_store) {
            right -= LANES;
            load(arg, right)
        } else {
            let v = load(arg, left);
            left += LANES;
            v
        };
        let gt = partition_vec(
            arr,
            arg,
            l_store,
            r_store.wrapping_add(LANES),
            &v,
            pivot,
            &mut range,
        );
        r_store = r_store.wrapping_sub(gt);
        l_store += LANES - gt;
    }
    let gt = partition_vec(
        arr,
        arg,
        l_store,
        r_store + LANES,
        &vec_left,
        pivot,
        &mut range,
    );
    l_store += LANES - gt;
    let gt = partition_vec(
        arr,
        arg,
        l_store,
        l_store + LANES,
        &vec_right,
        pivot,
        &mut range,
    );
    l_store += LANES - gt;
    (l_store, range.smallest, range.biggest)
}

/// A register: 8 keys and their indices.
#[derive(Clone, Copy)]
struct Reg {
    key: [f64; LANES],
    idx: [usize; LANES],
}

/// In-register compare-exchange against a permutation of itself: lanes whose bit is set in
/// `mask` keep the max, the others the min; a lane keeps its own index when its result equals
/// its own key (so equal keys never move).
fn cmp_merge(r: &mut Reg, partner: impl Fn(usize) -> usize, mask: u8) {
    let (k, i) = (r.key, r.idx);
    for l in 0..LANES {
        let p = partner(l);
        let (a, b) = (k[l], k[p]);
        let v = if mask >> l & 1 == 1 {
            if a > b {
                a
            } else {
                b
            }
        } else if a < b {
            a
        } else {
            b
        };
        r.key[l] = v;
        r.idx[l] = if v == a { i[l] } else { i[p] };
    }
}

fn sort_register(r: &mut Reg) {
    cmp_merge(r, |l| l ^ 1, 0xAA);
    cmp_merge(r, |l| l ^ 3, 0xCC);
    cmp_merge(r, |l| l ^ 1, 0xAA);
    cmp_merge(r, |l| 7 - l, 0xF0);
    cmp_merge(r, |l| l ^ 2, 0xCC);
    cmp_merge(r, |l| l ^ 1, 0xAA);
}

fn merge_register(r: &mut Reg) {
    cmp_merge(r, |l| l ^ 4, 0xF0);
    cmp_merge(r, |l| l ^ 2, 0xCC);
    cmp_merge(r, |l| l ^ 1, 0xAA);
}

/// Lane-wise compare-exchange of two registers (min to `a`); equal keys stay put.
fn coex(regs: &mut [Reg], a: usize, b: usize) {
    for l in 0..LANES {
        let (ka, kb) = (regs[a].key[l], regs[b].key[l]);
        let min = if ka < kb { ka } else { kb };
        if min != ka {
            regs[a].key[l] = kb;
            regs[b].key[l] = ka;
            let t = regs[a].idx[l];
            regs[a].idx[l] = regs[b].idx[l];
            regs[b].idx[l] = t;
        }
    }
}

fn reverse(r: &mut Reg) {
    r.key.reverse();
    r.idx.reverse();
}

fn bitonic_merge_regs(regs: &mut [Reg]) {
    let nv = regs.len();
    for i in 0..nv / 2 {
        reverse(&mut regs[nv - i - 1]);
        coex(regs, i, nv - i - 1);
        reverse(&mut regs[nv - i - 1]);
    }
    let mut num = nv / 2;
    while num >= 2 {
        for j in (0..nv).step_by(num) {
            for i in 0..num / 2 {
                coex(regs, i + j, i + j + num / 2);
            }
        }
        num /= 2;
    }
    for r in regs.iter_mut() {
        merge_register(r);
    }
}

/// `argsort_n<256>`: pad to a power-of-two number of registers with +inf, sort each register,
/// then merge pairs, quads, … of registers.
fn argsort_network(arr: &[f64], arg: &mut [usize]) {
    let n = arg.len();
    let mut nv = NETWORK_SIZE / LANES;
    while nv > 1 && n * 2 <= nv * LANES {
        nv /= 2;
    }
    let mut regs: Vec<Reg> = (0..nv)
        .map(|v| {
            let mut r = Reg {
                key: [f64::INFINITY; LANES],
                idx: [usize::MAX; LANES],
            };
            for l in 0..LANES {
                if let Some(&i) = arg.get(v * LANES + l) {
                    r.key[l] = arr[i];
                    r.idx[l] = i;
                }
            }
            r
        })
        .collect();
    for r in regs.iter_mut() {
        sort_register(r);
    }
    let mut per = 2;
    while per <= nv {
        for chunk in regs.chunks_mut(per) {
            bitonic_merge_regs(chunk);
        }
        per *= 2;
    }
    for (p, slot) in arg.iter_mut().enumerate() {
        *slot = regs[p / LANES].idx[p % LANES];
    }
}

/// libstdc++'s `__unguarded_partition_pivot`: median of (first+1, mid, last-1) moved to
/// `first`, then Hoare partition around it; returns the cut.
fn unguarded_partition_pivot(
    arg: &mut [usize],
    first: usize,
    last: usize,
    less: &dyn Fn(usize, usize) -> bool,
) -> usize {
    let mid = first + (last - first) / 2;
    let (a, b, c) = (first + 1, mid, last - 1);
    let m = if less(arg[a], arg[b]) {
        if less(arg[b], arg[c]) {
            b
        } else if less(arg[a], arg[c]) {
            c
        } else {
            a
        }
    } else if less(arg[a], arg[c]) {
        a
    } else if less(arg[b], arg[c]) {
        c
    } else {
        b
    };
    arg.swap(first, m);
    let (mut lo, mut hi) = (first + 1, last);
    loop {
        while less(arg[lo], arg[first]) {
            lo += 1;
        }
        hi -= 1;
        while less(arg[first], arg[hi]) {
            hi -= 1;
        }
        if lo >= hi {
            return lo;
        }
        arg.swap(lo, hi);
        lo += 1;
    }
}

/// libstdc++'s `__insertion_sort` on `[first, last)`.
fn insertion_sort(
    arg: &mut [usize],
    first: usize,
    last: usize,
    less: &dyn Fn(usize, usize) -> bool,
) {
    for i in (first + 1)..last {
        let v = arg[i];
        if less(v, arg[first]) {
            arg.copy_within(first..i, first + 1);
            arg[first] = v;
        } else {
            unguarded_linear_insert(arg, i, less);
        }
    }
}

fn unguarded_linear_insert(arg: &mut [usize], i: usize, less: &dyn Fn(usize, usize) -> bool) {
    let v = arg[i];
    let mut j = i;
    while less(v, arg[j - 1]) {
        arg[j] = arg[j - 1];
        j -= 1;
    }
    arg[j] = v;
}

fn floor_log2(n: usize) -> i64 {
    i64::from(usize::BITS - 1 - n.leading_zeros())
}

/// Heap sort of the whole range, the depth-limit fallback of libstdc++'s introsort and
/// introselect (`__partial_sort` / `__heap_select`); only reached on adversarial inputs.
fn heap_fallback(
    arg: &mut [usize],
    first: usize,
    last: usize,
    less: &dyn Fn(usize, usize) -> bool,
) {
    arg[first..last].sort_by(|a, b| {
        if less(*a, *b) {
            std::cmp::Ordering::Less
        } else if less(*b, *a) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
}

/// libstdc++ `std::sort` (introsort with threshold 16, then the final insertion sort).
fn std_sort(arg: &mut [usize], less: &dyn Fn(usize, usize) -> bool) {
    const THRESHOLD: usize = 16;
    fn introsort_loop(
        arg: &mut [usize],
        first: usize,
        mut last: usize,
        mut depth: i64,
        less: &dyn Fn(usize, usize) -> bool,
    ) {
        while last - first > THRESHOLD {
            if depth == 0 {
                heap_fallback(arg, first, last, less);
                return;
            }
            depth -= 1;
            let cut = unguarded_partition_pivot(arg, first, last, less);
            introsort_loop(arg, cut, last, depth, less);
            last = cut;
        }
    }
    let n = arg.len();
    if n < 2 {
        return;
    }
    introsort_loop(arg, 0, n, floor_log2(n) * 2, less);
    if n > THRESHOLD {
        insertion_sort(arg, 0, THRESHOLD, less);
        for i in THRESHOLD..n {
            unguarded_linear_insert(arg, i, less);
        }
    } else {
        insertion_sort(arg, 0, n, less);
    }
}

/// libstdc++ `std::nth_element` with "NaN is largest" ordering.
fn nth_element(arr: &[f64], arg: &mut [usize], nth: usize) {
    let less = |a: usize, b: usize| -> bool {
        let (x, y) = (arr[a], arr[b]);
        if !x.is_nan() && !y.is_nan() {
            x < y
        } else {
            !x.is_nan()
        }
    };
    let (mut first, mut last) = (0usize, arg.len());
    let mut depth = floor_log2(arg.len()) * 2;
    while last - first > 3 {
        if depth == 0 {
            heap_fallback(arg, first, last, &less);
            return;
        }
        depth -= 1;
        let cut = unguarded_partition_pivot(arg, first, last, &less);
        if cut <= nth {
            first = cut;
        } else {
            last = cut;
        }
    }
    insertion_sort(arg, first, last, &less);
}

#[cfg(test)]
#[path = "argselect_tests.rs"]
mod tests;
