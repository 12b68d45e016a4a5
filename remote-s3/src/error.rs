//! Errors of the S3 remote, classified like the engine's `RemoteErrorKind` so the binary can
//! map them one to one, and built from SDK errors without ever quoting a credential.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use std::fmt;

/// What went wrong (mirrors `netsec::remote::RemoteErrorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The key, or the bucket, does not exist.
    NotFound,
    /// Credentials missing or rejected, signature mismatch, access denied.
    Denied,
    /// Could not connect, timed out, connection dropped.
    Unreachable,
    /// Content damaged in transit: the server or the SDK found a checksum mismatch.
    Corrupt,
    /// Anything else: local I/O, an unexpected answer, a bad URL.
    Other,
}

/// A failed S3 operation. `message` names the operation and the `s3://` location, never a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", display(.key, .message))]
pub struct S3Error {
    pub kind: ErrorKind,
    /// Key relative to the remote's root, when one is concerned.
    pub key: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

fn display(key: &Option<String>, message: &str) -> String {
    match key {
        Some(k) => format!("`{k}`: {message}"),
        None => message.to_string(),
    }
}

impl S3Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> S3Error {
        S3Error {
            kind,
            key: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> S3Error {
        self.key = Some(key.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> S3Error {
        self.hint = Some(hint.into());
        self
    }

    /// A local file error (reading the upload source, writing the download target).
    pub(crate) fn io(what: &str, path: &std::path::Path, e: &std::io::Error) -> S3Error {
        S3Error::new(ErrorKind::Other, format!("{what} {}: {e}", path.display()))
    }
}

/// Where a request went, for messages and hints.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `s3://bucket/prefix`
    pub url: String,
    pub bucket: String,
    /// The endpoint the client talks to (`https://s3.<region>.amazonaws.com` when none was set).
    pub endpoint: String,
}

/// Turns an SDK failure of operation `op` on `key` into an [`S3Error`].
pub(crate) fn classify<E>(
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    op: &str,
    key: Option<&str>,
    t: &Target,
) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let server_msg = err.message().map(str::to_string);
    // The key itself is shown by Display (`key`: …); the message says where.
    let what = format!("{op} on {}", t.url);
    let mut e = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => S3Error::new(
            ErrorKind::Unreachable,
            format!("{what}: cannot reach {}: {}", t.endpoint, Chain(&err)),
        )
        .with_hint(format!(
            "is the S3 endpoint {} up and reachable? (set by the remote's `endpoint`, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)",
            t.endpoint
        )),
        SdkError::ResponseError(_) => S3Error::new(
            ErrorKind::Unreachable,
            format!("{what}: the connection to {} broke off: {}", t.endpoint, Chain(&err)),
        )
        .with_hint(format!("is the S3 endpoint {} healthy?", t.endpoint)),
        SdkError::ServiceError(_) => service_error(&what, code.as_deref(), server_msg.as_deref(), status, t),
        _ => S3Error::new(ErrorKind::Other, format!("{what}: {}", Chain(&err))),
    };
    if let Some(k) = key.filter(|k| !k.is_empty()) {
        e = e.with_key(k);
    }
    e
}

fn service_error(
    what: &str,
    code: Option<&str>,
    msg: Option<&str>,
    status: Option<u16>,
    t: &Target,
) -> S3Error {
    let detail = match (code, msg) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        (None, Some(m)) => m.to_string(),
        (None, None) => format!("HTTP {}", status.map_or("?".to_string(), |s| s.to_string())),
    };
    let denied_hint =
        "check the credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), \
                       AWS_PROFILE, and that they may access the bucket";
    match code {
        Some("NoSuchBucket") => S3Error::new(
            ErrorKind::NotFound,
            format!("{what}: bucket `{}` does not exist ({detail})", t.bucket),
        )
        .with_hint(format!(
            "create the bucket, or fix the remote's url (on endpoint {})",
            t.endpoint
        )),
        // The content arrived damaged (the checksum the SDK sent did not match what the server got).
        Some("BadDigest" | "InvalidDigest" | "XAmzContentSHA256Mismatch" | "InvalidChecksum") => {
            S3Error::new(
                ErrorKind::Corrupt,
                format!("{what}: corrupted in transit ({detail})"),
            )
        }
        Some("NoSuchKey") | Some("NotFound") | Some("NoSuchUpload") => {
            S3Error::new(ErrorKind::NotFound, format!("{what}: not found ({detail})"))
        }
        Some(
            "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
            | "AccessDenied"
            | "ExpiredToken"
            | "InvalidToken"
            | "TokenRefreshRequired"
            | "InvalidClientTokenId"
            | "AllAccessDisabled"
            | "AuthorizationHeaderMalformed",
        ) => S3Error::new(ErrorKind::Denied, format!("{what}: denied ({detail})"))
            .with_hint(denied_hint),
        _ => match status {
            Some(404) => S3Error::new(ErrorKind::NotFound, format!("{what}: not found ({detail})")),
            Some(401 | 403) => {
                S3Error::new(ErrorKind::Denied, format!("{what}: denied ({detail})"))
                    .with_hint(denied_hint)
            }
            Some(s) if s >= 500 => S3Error::new(
                ErrorKind::Unreachable,
                format!("{what}: server error ({detail})"),
            )
            .with_hint(format!(
                "the S3 endpoint {} answered with an error; retry later",
                t.endpoint
            )),
            _ => S3Error::new(ErrorKind::Other, format!("{what}: {detail}")),
        },
    }
}

/// The error and its sources on one line (the SDK's top-level message alone says "dispatch failure").
pub(crate) struct Chain<'a, E: ?Sized>(pub &'a E);

impl<E: std::error::Error + ?Sized> fmt::Display for Chain<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut last = self.0.to_string();
        let mut source = self.0.source();
        while let Some(s) = source {
            let text = s.to_string();
            // hyper and the SDK often repeat the inner message in the outer one
            if !last.contains(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            source = s.source();
        }
        Ok(())
    }
}
