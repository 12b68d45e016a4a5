//! Clipping of client-supplied text echoed in error replies, so a 5 MB cell yields a short
//! 422 rather than a reply three times its size.

/// Longest echo of client text, in bytes (cut at a character boundary).
pub const MAX_ECHO: usize = 200;

/// `text` itself when short, else its first [`MAX_ECHO`] bytes, `…` and the full length.
pub fn clip(text: &str) -> String {
    if text.len() <= MAX_ECHO {
        return text.to_string();
    }
    let mut cut = MAX_ECHO;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &text[..cut], text.len())
}

/// Clips every string inside a JSON value (problem records carry the offending cell).
pub fn clip_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.len() > MAX_ECHO => *s = clip(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(clip_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(clip_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_long_text_at_a_char_boundary() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(300);
        let c = clip(&long);
        assert!(c.len() < MAX_ECHO + 30, "{c}");
        assert!(c.ends_with("(600 bytes)"), "{c}");
    }
}
