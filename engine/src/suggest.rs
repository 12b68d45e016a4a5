//! "Did you mean …?": the closest known word to a misspelt one.

/// The candidate nearest to `word` by edit distance, when it is close enough to be a typo
/// (at most a third of the word's length, at least 2: a swap of two letters).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars (inputs are short keys).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_are_matched_and_strangers_are_not() {
        let keys = ["outs", "deps", "params", "cmd"];
        assert_eq!(closest("outz", keys), Some("outs"));
        assert_eq!(closest("parms", keys), Some("params"));
        assert_eq!(closest("foreach", keys), None);
    }
}
