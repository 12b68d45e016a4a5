//! Builds the SDK client from the remote's config and the environment: region, endpoint,
//! addressing style, timeouts, retries and credentials, without probing the EC2 metadata
//! service when nothing is configured (that probe costs seconds on machines off EC2).

use crate::error::Target;
use crate::location::Location;
use aws_config::imds;
use aws_config::meta::region::ProvideRegion;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{Credentials, ProvideCredentials, Region, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use netsec_engine::remote::{RemoteError, RemoteErrorKind};
use std::collections::BTreeMap;
use std::time::Duration;

/// The settings of an `s3://` remote (see `backend.rs` for the table keys they come from).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Config {
    /// `s3://bucket/prefix`
    pub url: String,
    pub endpoint: Option<String>,
    pub path_style: Option<bool>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// `timeout` of the remote's table: the wait for an answer to one request (see
    /// [`DEFAULT_TIMEOUT`]); `None` = the default.
    pub timeout: Option<Duration>,
}

/// Connecting must be quick to fail: a dead endpoint is reported in seconds, not minutes.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default wait for the response head of a request without a large body (the remote's
/// `timeout`). A request carrying a part waits longer, in proportion to the part
/// ([`transfer_timeout`]). Stalled transfers are caught sooner by the SDK's stalled-stream
/// protection (no progress for 5 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The slowest upload or copy rate waited for, in bytes per second.
pub const MIN_RATE: u64 = 1024 * 1024;
/// Attempts per request inside the SDK: one. The engine retries a failed object (three
/// attempts with backoff); a second retry layer here multiplied the wait on a dead endpoint.
pub const MAX_ATTEMPTS: u32 = 1;

/// The wait for the response to a request carrying `bytes` (its body is sent within it).
pub fn transfer_timeout(timeout: Duration, bytes: u64) -> Duration {
    timeout + Duration::from_secs(bytes / MIN_RATE)
}

/// Environment variables that supply static credentials.
pub const CREDENTIAL_VARS: &str =
    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys)";

/// Where the credentials come from.
enum Source {
    Static(Credentials),
    /// The SDK's chain: profile files, web identity, container, then (only if asked) IMDS.
    Chain,
}

fn var<'a>(env: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    env.get(name)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

fn credential_source(
    env: &BTreeMap<String, String>,
    profile: Option<&str>,
) -> Result<Source, RemoteError> {
    let key = var(env, "AWS_ACCESS_KEY_ID");
    let secret = var(env, "AWS_SECRET_ACCESS_KEY");
    // An explicit `profile` in the remote's table wins over keys in the environment.
    if profile.is_none() {
        match (key, secret) {
            (Some(k), Some(s)) => {
                let token = var(env, "AWS_SESSION_TOKEN").map(str::to_string);
                return Ok(Source::Static(Credentials::new(
                    k,
                    s,
                    token,
                    None,
                    "environment",
                )));
            }
            (Some(_), None) => {
                return Err(RemoteError::new(
                    RemoteErrorKind::Denied,
                    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
                )
                .with_hint(format!("set both: {CREDENTIAL_VARS}")))
            }
            (None, Some(_)) => {
                return Err(RemoteError::new(
                    RemoteErrorKind::Denied,
                    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
                )
                .with_hint(format!("set both: {CREDENTIAL_VARS}")))
            }
            (None, None) => {}
        }
    }
    let home_file = |name: &str| {
        var(env, "HOME").is_some_and(|h| std::path::Path::new(h).join(".aws").join(name).is_file())
    };
    let configured = profile.is_some()
        || [
            "AWS_PROFILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ]
        .iter()
        .any(|v| var(env, v).is_some())
        || home_file("credentials")
        || home_file("config")
        // IMDS only when asked for explicitly: probing it off EC2 costs seconds per command.
        || var(env, "AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("false"));
    if configured {
        Ok(Source::Chain)
    } else {
        Err(RemoteError::new(RemoteErrorKind::Denied, "no AWS credentials found").with_hint(format!(
            "set {CREDENTIAL_VARS}, or AWS_PROFILE with ~/.aws/credentials, or the remote's `profile`; \
             on EC2 set AWS_EC2_METADATA_DISABLED=false to use the instance role"
        )))
    }
}

fn endpoint(cfg: &S3Config, env: &BTreeMap<String, String>) -> Result<Option<String>, RemoteError> {
    let (ep, from) = match (
        &cfg.endpoint,
        var(env, "AWS_ENDPOINT_URL_S3"),
        var(env, "AWS_ENDPOINT_URL"),
    ) {
        (Some(e), _, _) => (e.trim().to_string(), "the remote's `endpoint`"),
        (None, Some(e), _) => (e.trim().to_string(), "AWS_ENDPOINT_URL_S3"),
        (None, None, Some(e)) => (e.trim().to_string(), "AWS_ENDPOINT_URL"),
        (None, None, None) => return Ok(None),
    };
    if !(ep.starts_with("http://") || ep.starts_with("https://")) || ep.contains('@') {
        return Err(RemoteError::new(
            RemoteErrorKind::Other,
            format!("invalid S3 endpoint `{ep}` (from {from})"),
        )
        .with_hint("write it as http://HOST:PORT or https://HOST, without credentials"));
    }
    Ok(Some(ep.trim_end_matches('/').to_string()))
}

async fn region(cfg: &S3Config, env: &BTreeMap<String, String>) -> String {
    if let Some(r) = cfg
        .region
        .as_deref()
        .or(var(env, "AWS_REGION"))
        .or(var(env, "AWS_DEFAULT_REGION"))
    {
        return r.trim().to_string();
    }
    // The profile's `region` (files only: the SDK's full region chain would also ask IMDS).
    let mut profile = ProfileFileRegionProvider::builder();
    if let Some(p) = cfg.profile.as_deref().or(var(env, "AWS_PROFILE")) {
        profile = profile.profile_name(p);
    }
    match profile.build().region().await {
        Some(r) => r.to_string(),
        None => "us-east-1".to_string(),
    }
}

fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Everything [`crate::S3Remote`] needs, resolved.
pub(crate) struct Built {
    pub client: aws_sdk_s3::Client,
    pub target: Target,
}

pub(crate) async fn build(
    cfg: &S3Config,
    loc: &Location,
    env: &BTreeMap<String, String>,
) -> Result<Built, RemoteError> {
    let profile = cfg
        .profile
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let source = credential_source(env, profile)?;
    let endpoint = endpoint(cfg, env)?;
    let region = region(cfg, env).await;
    let path_style = cfg.path_style.unwrap_or(endpoint.is_some());
    let shown_endpoint = endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    let target = Target {
        url: loc.url(),
        bucket: loc.bucket.clone(),
        endpoint: shown_endpoint,
    };

    let http = http_client();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(cfg.timeout.unwrap_or(DEFAULT_TIMEOUT))
        .build();
    let retries = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http.clone())
        .region(Region::new(region.clone()))
        .timeout_config(timeouts)
        .retry_config(retries);
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(ep) = &endpoint {
        loader = loader.endpoint_url(ep);
    }
    loader = match source {
        Source::Static(c) => loader.credentials_provider(c),
        Source::Chain => {
            let conf = ProviderConfig::without_region()
                .with_http_client(http)
                .with_region(Some(Region::new(region.clone())));
            let imds = imds::Client::builder()
                .configure(&conf)
                .connect_timeout(Duration::from_secs(1))
                .read_timeout(Duration::from_secs(1))
                .max_attempts(1)
                .build();
            let mut chain =
                aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                    .configure(conf)
                    .region(Region::new(region.clone()))
                    .imds_client(imds);
            if let Some(p) = profile {
                chain = chain.profile_name(p);
            }
            let chain = chain.build().await;
            // Resolve once now, so a broken profile is reported as such, before any transfer.
            if let Err(e) = chain.provide_credentials().await {
                return Err(RemoteError::new(
                    RemoteErrorKind::Denied,
                    format!("could not load AWS credentials: {e}"),
                )
                .with_hint(format!(
                    "check AWS_PROFILE / ~/.aws/credentials, or set {CREDENTIAL_VARS}"
                )));
            }
            loader.credentials_provider(chain)
        }
    };
    let sdk = loader.load().await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(path_style)
        .build();
    Ok(Built {
        client: aws_sdk_s3::Client::from_conf(conf),
        target,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn nothing_configured_is_denied_without_probing() {
        let e = credential_source(&env(&[("HOME", "/nonexistent")]), None)
            .err()
            .unwrap();
        assert_eq!(e.kind, RemoteErrorKind::Denied);
        assert!(e.hint.unwrap().contains("AWS_ACCESS_KEY_ID"));
        let imds = env(&[
            ("HOME", "/nonexistent"),
            ("AWS_EC2_METADATA_DISABLED", "false"),
        ]);
        assert!(matches!(credential_source(&imds, None), Ok(Source::Chain)));
    }

    #[test]
    fn half_a_key_pair_names_the_missing_variable_only() {
        let e = credential_source(&env(&[("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")]), None)
            .err()
            .unwrap();
        assert!(e.message.contains("AWS_SECRET_ACCESS_KEY is not"));
        let e = credential_source(&env(&[("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")]), None)
            .err()
            .unwrap();
        assert!(!e.to_string().contains("s3cr3t-value"));
    }

    #[test]
    fn endpoint_precedence_and_validation() {
        let cfg = S3Config::default();
        let both = env(&[
            ("AWS_ENDPOINT_URL", "http://a:1"),
            ("AWS_ENDPOINT_URL_S3", "http://b:2/"),
        ]);
        assert_eq!(
            endpoint(&cfg, &both).unwrap().as_deref(),
            Some("http://b:2")
        );
        let own = S3Config {
            endpoint: Some("http://c:3".into()),
            ..S3Config::default()
        };
        assert_eq!(
            endpoint(&own, &both).unwrap().as_deref(),
            Some("http://c:3")
        );
        let bad = env(&[("AWS_ENDPOINT_URL", "127.0.0.1:9000")]);
        assert!(endpoint(&cfg, &bad)
            .unwrap_err()
            .message
            .contains("AWS_ENDPOINT_URL"));
    }
}
