//! SDK failures classified into the engine's `RemoteErrorKind`s, with messages that name the
//! operation, the `s3://` location and the endpoint, and never quote a credential.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use std::fmt;

use netsec_engine::remote::{RemoteError, RemoteErrorKind};

/// A local file error (reading the upload source, writing the download target).
pub(crate) fn io_error(what: &str, path: &std::path::Path, e: &std::io::Error) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Other,
        format!("{what} {}: {e}", path.display()),
    )
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

/// Turns an SDK failure of operation `op` on `key` into an [`RemoteError`].
pub(crate) fn classify<E>(
    err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    op: &str,
    key: Option<&str>,
    t: &Target,
) -> RemoteError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_string);
    let server_msg = err.message().map(str::to_string);
    // The key itself is shown by Display (`key`: …); the message says where.
    let what = format!("{op} on {}", t.url);
    let mut e = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => RemoteError::new(
            RemoteErrorKind::Unreachable,
            format!("{what}: cannot reach {}: {}", t.endpoint, Chain(&err)),
        )
        .with_hint(format!(
            "is the S3 endpoint {} up and reachable? (set by the remote's `endpoint`, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)",
            t.endpoint
        )),
        SdkError::ResponseError(_) => RemoteError::new(
            RemoteErrorKind::Unreachable,
            format!("{what}: the connection to {} broke off: {}", t.endpoint, Chain(&err)),
        )
        .with_hint(format!("is the S3 endpoint {} healthy?", t.endpoint)),
        SdkError::ServiceError(_) => service_error(&what, code.as_deref(), server_msg.as_deref(), status, t),
        _ => RemoteError::new(RemoteErrorKind::Other, format!("{what}: {}", Chain(&err))),
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
) -> RemoteError {
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
        Some("NoSuchBucket") => RemoteError::new(
            RemoteErrorKind::NotFound,
            format!("{what}: bucket `{}` does not exist ({detail})", t.bucket),
        )
        .with_hint(format!(
            "create the bucket, or fix the remote's url (on endpoint {})",
            t.endpoint
        )),
        // The content arrived damaged (the checksum the SDK sent did not match what the server got).
        Some("BadDigest" | "InvalidDigest" | "XAmzContentSHA256Mismatch" | "InvalidChecksum") => {
            RemoteError::new(
                RemoteErrorKind::Corrupt,
                format!("{what}: corrupted in transit ({detail})"),
            )
        }
        // The request is malformed: retrying sends the same thing again.
        Some(
            "InvalidObjectName" | "KeyTooLongError" | "InvalidArgument" | "InvalidRequest"
            | "InvalidBucketName" | "MalformedXML",
        ) => RemoteError::new(
            RemoteErrorKind::Invalid,
            format!("{what}: refused ({detail})"),
        ),
        Some("NoSuchKey") | Some("NotFound") | Some("NoSuchUpload") => RemoteError::new(
            RemoteErrorKind::NotFound,
            format!("{what}: not found ({detail})"),
        ),
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
        ) => RemoteError::new(
            RemoteErrorKind::Denied,
            format!("{what}: denied ({detail})"),
        )
        .with_hint(denied_hint),
        _ => match status {
            Some(404) => RemoteError::new(
                RemoteErrorKind::NotFound,
                format!("{what}: not found ({detail})"),
            ),
            Some(401 | 403) => RemoteError::new(
                RemoteErrorKind::Denied,
                format!("{what}: denied ({detail})"),
            )
            .with_hint(denied_hint),
            Some(s) if s >= 500 => RemoteError::new(
                RemoteErrorKind::Unreachable,
                format!("{what}: server error ({detail})"),
            )
            .with_hint(format!(
                "the S3 endpoint {} answered with an error; retry later",
                t.endpoint
            )),
            _ => RemoteError::new(RemoteErrorKind::Other, format!("{what}: {detail}")),
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
