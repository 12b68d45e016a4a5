//! `s3://bucket/prefix` URLs: the bucket and the key prefix every remote key is placed under.

use netsec_engine::remote::{RemoteError, RemoteErrorKind};

/// A parsed remote URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    /// Empty, or ends with `/` (`team/project/`).
    pub prefix: String,
}

impl Location {
    /// Parses `s3://bucket`, `s3://bucket/`, `s3://bucket/a/b` (same as `…/a/b/`).
    pub fn parse(url: &str) -> Result<Location, RemoteError> {
        let bad = |why: &str| {
            RemoteError::new(
                RemoteErrorKind::Other,
                format!("invalid S3 remote url `{url}`: {why}"),
            )
            .with_hint("write it as s3://BUCKET or s3://BUCKET/PREFIX")
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("it does not start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("the bucket name is empty"));
        }
        // Bucket names: 3-63 of lowercase letters, digits, '.', '-' (plus '_' that some clones
        // accept); anything else is certainly a typo such as a credential pasted into the url.
        if bucket.len() < 3
            || bucket.len() > 63
            || !bucket.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
            })
        {
            return Err(bad(&format!("`{bucket}` is not a valid bucket name")));
        }
        let trimmed = prefix.trim_matches('/');
        if trimmed.split('/').any(|seg| seg == "." || seg == "..") {
            return Err(bad("the prefix may not contain `.` or `..` segments"));
        }
        let prefix = if trimmed.is_empty() {
            String::new()
        } else {
            format!("{trimmed}/")
        };
        Ok(Location {
            bucket: bucket.to_string(),
            prefix,
        })
    }

    /// The full object key of a key relative to the remote's root.
    pub fn full_key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key.trim_start_matches('/'))
    }

    /// `s3://bucket/prefix` in canonical form.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let l = Location::parse("s3://my-bucket/team/proj").unwrap();
        assert_eq!(l.bucket, "my-bucket");
        assert_eq!(l.prefix, "team/proj/");
        assert_eq!(
            l.full_key("files/blake3/ab/cd"),
            "team/proj/files/blake3/ab/cd"
        );
        assert_eq!(Location::parse("s3://b12/").unwrap().prefix, "");
        assert_eq!(Location::parse("s3://b12").unwrap().full_key("x"), "x");
        assert_eq!(Location::parse("s3://b12//a//").unwrap().prefix, "a/");
    }

    #[test]
    fn errors_name_the_url() {
        for bad in [
            "http://b/x",
            "s3://",
            "s3:///x",
            "s3://Upper/x",
            "s3://ab",
            "s3://b12/../x",
        ] {
            let e = Location::parse(bad).unwrap_err();
            assert!(e.message.contains(bad), "{e}");
            assert_eq!(e.kind, RemoteErrorKind::Other);
        }
    }
}
