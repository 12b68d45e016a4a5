//! `OutIndex`: every stage's outs in one sorted list, to answer "which stage produces this
//! path?" in O(log n) and to find overlapping outs in one linear pass.
//!
//! Paths are ordered component by component (`/` sorts before every other byte), so the paths
//! inside a directory form one contiguous run right after it: `d`, `d/a`, `d/b/c`, `d-x`. Two
//! outs overlap only if some *adjacent* pair does (a directory's successor lies inside it when
//! anything does), and, once outs are known not to overlap, the one out containing a dep is its
//! predecessor in that order.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::pipeline::Stage;
use crate::repo_path::{count_comparison, RepoPath};

/// `a` against `b` in component order (`/` below every other byte; paths hold no NUL).
fn cmp_paths(a: &str, b: &str) -> Ordering {
    count_comparison();
    let key = |x: u8| if x == b'/' { 0 } else { x };
    a.bytes().map(key).cmp(b.bytes().map(key))
}

/// Two outs of different stages that overlap: `second` comes later in (stage name, declaration)
/// order, so the error points at the later declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    pub first: (String, RepoPath),
    pub second: (String, RepoPath),
}

/// The outs of all stages, sorted in component order, each with its stage.
#[derive(Debug, Default)]
pub struct OutIndex {
    /// (out, index of its stage in name order, index of the out in its stage).
    outs: Vec<(RepoPath, usize, usize)>,
}

impl OutIndex {
    /// Index the outs of `stages` (whose name order gives the stage indices). Outs of different
    /// stages must not overlap (the outs of one stage are checked when it is validated).
    pub fn build(stages: &BTreeMap<String, Stage>) -> Result<OutIndex, Overlap> {
        let mut outs: Vec<(RepoPath, usize, usize)> = stages
            .values()
            .enumerate()
            .flat_map(|(i, s)| {
                s.outs
                    .iter()
                    .enumerate()
                    .map(move |(j, o)| (o.path.clone(), i, j))
            })
            .collect();
        outs.sort_by(|a, b| cmp_paths(a.0.as_str(), b.0.as_str()));
        // Of the overlapping adjacent pairs, the first in (stage, out) order.
        let key = |k: usize| (outs[k].1, outs[k].2);
        let mut found: Option<(usize, usize)> = None;
        for k in 1..outs.len() {
            if outs[k].0.is_within(&outs[k - 1].0) {
                let pair = if key(k - 1) <= key(k) {
                    (k - 1, k)
                } else {
                    (k, k - 1)
                };
                let rank = |p: (usize, usize)| (key(p.0), key(p.1));
                if found.is_none_or(|f| rank(pair) < rank(f)) {
                    found = Some(pair);
                }
            }
        }
        if let Some((x, y)) = found {
            let names: Vec<&String> = stages.keys().collect();
            let named = |k: usize| (names[outs[k].1].clone(), outs[k].0.clone());
            return Err(Overlap {
                first: named(x),
                second: named(y),
            });
        }
        Ok(OutIndex { outs })
    }

    /// The stages (by name-order index) whose outs overlap `path`: the out containing it, if
    /// any, and every out inside it. Sorted, without duplicates.
    pub fn producers(&self, path: &RepoPath) -> Vec<usize> {
        let p = path.as_str();
        // First out sorting after `path`: everything inside `path` starts here.
        let after = self
            .outs
            .partition_point(|o| cmp_paths(o.0.as_str(), p) != Ordering::Greater);
        let mut found = Vec::new();
        if let Some(prev) = after.checked_sub(1).map(|k| &self.outs[k]) {
            if path.is_within(&prev.0) {
                found.push(prev.1);
            }
        }
        for o in &self.outs[after..] {
            if !o.0.is_within(path) {
                break;
            }
            found.push(o.1);
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Whether some stage produces `path`, or something inside it.
    pub fn is_produced(&self, path: &RepoPath) -> bool {
        !self.producers(path).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Action, Out};

    fn stage(name: &str, outs: &[&str]) -> (String, Stage) {
        let st = Stage {
            name: name.into(),
            action: Action::Command(vec!["true".into()]),
            deps: Vec::new(),
            outs: outs
                .iter()
                .map(|p| Out {
                    path: RepoPath::parse(p).unwrap(),
                    cache: true,
                    persist: false,
                    metric: false,
                    plot: false,
                })
                .collect(),
            params: Vec::new(),
            wdir: RepoPath::root(),
            desc: None,
            frozen: false,
            always_changed: false,
            run: Default::default(),
        };
        (name.into(), st)
    }

    fn rp(s: &str) -> RepoPath {
        RepoPath::parse(s).unwrap()
    }

    #[test]
    fn component_order_keeps_a_directory_contiguous() {
        let stages: BTreeMap<_, _> = [
            stage("a", &["d"]),
            stage("b", &["d-x", "d.y"]),
            stage("c", &["e/f"]),
        ]
        .into();
        let idx = OutIndex::build(&stages).unwrap();
        assert_eq!(idx.producers(&rp("d/inner/file")), vec![0]);
        assert_eq!(idx.producers(&rp("d")), vec![0]);
        assert_eq!(idx.producers(&rp("d-x")), vec![1]);
        assert!(idx.producers(&rp("d-")).is_empty());
        assert!(idx.producers(&rp("dx")).is_empty());
        // A directory dep depends on every out written inside it.
        assert_eq!(idx.producers(&rp("e")), vec![2]);
        assert!(idx.producers(&rp("e/g")).is_empty());
    }

    #[test]
    fn overlaps_are_found_between_stages_whatever_lies_between() {
        // `d` contains both others; `d/a` and `d/z` do not overlap, yet the pair is found.
        let stages: BTreeMap<_, _> = [
            stage("a", &["x", "d"]),
            stage("b", &["d/z"]),
            stage("c", &["d/a"]),
        ]
        .into();
        let err = OutIndex::build(&stages).unwrap_err();
        assert_eq!(err.first, ("a".to_string(), rp("d")));
        assert_eq!(err.second, ("c".to_string(), rp("d/a")));
        let same: BTreeMap<_, _> = [stage("a", &["o"]), stage("b", &["o"])].into();
        let err = OutIndex::build(&same).unwrap_err();
        assert_eq!((err.first.0.as_str(), err.second.0.as_str()), ("a", "b"));
        let apart: BTreeMap<_, _> = [stage("a", &["d", "d-x/y"]), stage("b", &["d-x/z"])].into();
        assert!(OutIndex::build(&apart).is_ok());
    }
}
