//! Credential redaction: the one place that decides what of a URI may appear in a message.
//! A `user:password@` part becomes `***@`; hosts, ports and paths stay (they help debugging).

/// `uri` with its userinfo replaced by `***`.
pub fn redact_uri(uri: &str) -> String {
    redact_uris_in(uri)
}

/// `text` with the userinfo of every `scheme://user:pass@host` it contains replaced by `***`
/// (driver errors sometimes quote the whole URI).
pub fn redact_uris_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str("***");
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_only() {
        assert_eq!(
            redact_uri("https://u:secret@host:5000/x"),
            "https://***@host:5000/x"
        );
        assert_eq!(redact_uri("http://127.0.0.1:5000"), "http://127.0.0.1:5000");
        assert_eq!(
            redact_uris_in("failed mongodb://a:b@h:1/?x=1 and s3://bucket/k@v"),
            "failed mongodb://***@h:1/?x=1 and s3://bucket/k@v"
        );
    }
}
