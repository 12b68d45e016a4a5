//! Experiment names: given with `-n`, else generated as adjective-noun (`brave-otter`).

use crate::error::Error;

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "bold", "brave", "brisk", "calm", "clever", "cosy", "crisp", "dapper",
    "eager", "fair", "fancy", "fleet", "gentle", "glad", "grand", "hardy", "jolly", "keen",
    "lucid", "lively", "mellow", "merry", "nimble", "noble", "plucky", "proud", "quiet", "rapid",
    "shiny", "sly", "snug", "sunny", "swift", "tidy", "vivid", "warm", "witty", "zesty",
];
const NOUNS: &[&str] = &[
    "otter", "heron", "lynx", "badger", "falcon", "marten", "puffin", "walrus", "beaver", "bison",
    "crane", "dingo", "egret", "ferret", "gecko", "ibis", "jackal", "koala", "lemur", "mole",
    "newt", "ocelot", "panda", "quail", "raven", "seal", "tapir", "urchin", "viper", "wombat",
    "yak", "zebra", "moose", "owl", "hare", "finch", "stoat", "vole", "wren", "kiwi",
];

/// Check a name given with `-n`: it becomes a file name and a git ref component.
pub fn check(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && !name.ends_with('.')
        && !name.contains("..")
        && !name.ends_with(".lock");
    if ok {
        Ok(())
    } else {
        Err(Error::Usage {
            message: format!("invalid experiment name `{name}`"),
            hint: Some(
                "use 1-64 letters, digits, `-`, `_` or `.`, starting with a letter or digit".into(),
            ),
        })
    }
}

/// A generated name not in `taken`. `seed` varies the choice between calls.
pub fn generate(seed: &[u8], taken: &dyn Fn(&str) -> bool) -> String {
    let h = blake3::hash(seed);
    let b = h.as_bytes();
    for i in 0..(ADJECTIVES.len() * NOUNS.len()) {
        let x = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
            .wrapping_add(i as u64 * 7919);
        let a = ADJECTIVES[(x % ADJECTIVES.len() as u64) as usize];
        let n = NOUNS[((x / ADJECTIVES.len() as u64) % NOUNS.len() as u64) as usize];
        let name = format!("{a}-{n}");
        if !taken(&name) {
            return name;
        }
    }
    let mut n = 2;
    loop {
        let name = format!("exp-{n}");
        if !taken(&name) {
            return name;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_generated_unique() {
        assert!(check("lr-0.1_b").is_ok());
        for bad in ["", "../x", "a/b", ".x", "a..b", "x.lock", &"a".repeat(65)] {
            assert!(check(bad).is_err(), "{bad}");
        }
        let first = generate(b"s", &|_| false);
        let second = generate(b"s", &|n| n == first);
        assert_ne!(first, second);
        assert!(check(&first).is_ok());
    }
}
