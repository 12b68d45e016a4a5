//! Text from disk or the network made safe for a terminal: control characters (escape
//! sequences, carriage returns, bells…) are shown escaped (`\u{1b}`, `\r`) instead of acting
//! on the terminal.

use std::borrow::Cow;

/// `s` with every control character escaped as Rust does (`\n`, `\t`, `\u{1b}`); borrowed when
/// there is none, which is the common case.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_only() {
        assert!(matches!(printable("f1 ≥ 0.9 — ok"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\ry\n\u{7}"), "x\\ry\\n\\u{7}");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m");
    }
}
