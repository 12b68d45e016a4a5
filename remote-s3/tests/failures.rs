//! Failures against the real server: each maps to the right kind, carries a useful hint,
//! comes back within a bounded time, and never quotes the secret.

#![allow(clippy::unwrap_used)]

mod support;

use netsec_engine::remote::{RemoteError, RemoteErrorKind};
use netsec_remote_s3::{S3Config, S3Remote};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::*;

fn full_text(e: &RemoteError) -> String {
    // shown with --nocapture, to review the wording
    eprintln!("{e}\n  hint: {}", e.hint.as_deref().unwrap_or("-"));
    format!("{e} | {:?} | {}", e, e.hint.clone().unwrap_or_default())
}

#[test]
fn missing_key_is_not_found() {
    let Some(env) = server() else { return };
    let r = open(&env, "missing");
    assert!(!r.exists("files/blake3/no/pe").unwrap());
    let e = r.get_bytes("files/blake3/no/pe").unwrap_err();
    assert_eq!(e.kind, RemoteErrorKind::NotFound, "{}", full_text(&e));
    assert_eq!(e.key.as_deref(), Some("files/blake3/no/pe"));
    let dir = tempfile::tempdir().unwrap();
    let e = r
        .get_file("files/blake3/no/pe", &dir.path().join("x"), &|_| {})
        .unwrap_err();
    assert_eq!(e.kind, RemoteErrorKind::NotFound, "{e}");
    let e = r.copy("files/blake3/no/pe", "artifact/x").unwrap_err();
    assert_eq!(e.kind, RemoteErrorKind::NotFound, "{e}");
}

#[test]
fn missing_bucket_is_not_found_with_a_hint() {
    let Some(env) = server() else { return };
    let r = S3Remote::open(&config("s3://netsec-no-such-bucket-4711/p"), &env).unwrap();
    let e = r.put_bytes("files/blake3/ab/cd", b"x").unwrap_err();
    assert_eq!(e.kind, RemoteErrorKind::NotFound, "{}", full_text(&e));
    assert!(e.message.contains("netsec-no-such-bucket-4711"), "{e}");
    assert!(e.hint.as_deref().unwrap_or("").contains("bucket"), "{e:?}");
    let e = r.list("files/").unwrap_err();
    assert_eq!(e.kind, RemoteErrorKind::NotFound, "{e}");
}

#[test]
fn wrong_secret_is_denied_and_never_quoted() {
    let Some(mut env) = server() else { return };
    let secret = "wR0ngS3cretV4lue+with/Slashes0123456789";
    env.insert("AWS_SECRET_ACCESS_KEY".into(), secret.into());
    let r = S3Remote::open(&config(&unique_url("denied")), &env).unwrap();
    assert!(!format!("{r:?}").contains(secret));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f");
    std::fs::write(&f, b"data").unwrap();
    let errors = [
        r.put_bytes("files/blake3/ab/cd", b"x").unwrap_err(),
        r.put_file("files/blake3/ab/ce", &f, &|_| {}).unwrap_err(),
        r.get_bytes("files/blake3/ab/cd").unwrap_err(),
        r.list("").unwrap_err(),
        r.exists("files/blake3/ab/cd").unwrap_err(),
        r.delete(&["files/blake3/ab/cd".into()]).unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e.kind, RemoteErrorKind::Denied, "{e}");
        let text = full_text(&e);
        assert!(!text.contains(secret), "secret leaked: {text}");
        assert!(
            e.hint
                .as_deref()
                .unwrap_or("")
                .contains("AWS_SECRET_ACCESS_KEY"),
            "{text}"
        );
    }
}

#[test]
fn no_credentials_is_denied_at_once_without_imds() {
    let Some(env) = server() else { return };
    let mut bare: BTreeMap<String, String> = BTreeMap::new();
    bare.insert("HOME".into(), "/nonexistent".into());
    bare.insert("S3_ENDPOINT".into(), env["S3_ENDPOINT"].clone());
    bare.insert("AWS_ENDPOINT_URL".into(), env["S3_ENDPOINT"].clone());
    let t = Instant::now();
    let e = S3Remote::open(&config(&unique_url("nocreds")), &bare).unwrap_err();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(e.kind, RemoteErrorKind::Denied);
    assert!(e.message.contains("no AWS credentials"), "{e}");
    assert!(e.hint.unwrap().contains("AWS_ACCESS_KEY_ID"));
}

#[test]
fn closed_port_is_unreachable_within_seconds() {
    let Some(mut env) = server() else { return };
    // A port nobody listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    env.insert("AWS_ENDPOINT_URL".into(), endpoint.clone());
    env.remove("AWS_ENDPOINT_URL_S3");
    let secret = env["AWS_SECRET_ACCESS_KEY"].clone();
    let r = S3Remote::open(&config(&unique_url("down")), &env).unwrap();
    assert_eq!(r.endpoint(), endpoint);
    let t = Instant::now();
    let e = r.exists("files/blake3/ab/cd").unwrap_err();
    let took = t.elapsed();
    assert_eq!(e.kind, RemoteErrorKind::Unreachable, "{e}");
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} (3 attempts with backoff)"
    );
    assert!(e.message.contains(&endpoint), "{e}");
    assert!(e.hint.as_deref().unwrap_or("").contains(&endpoint), "{e:?}");
    assert!(!full_text(&e).contains(&secret));
    let e = r.put_bytes("files/blake3/ab/cd", b"x").unwrap_err();
    assert_eq!(e.kind, RemoteErrorKind::Unreachable, "{e}");
}

#[test]
fn bad_urls_and_endpoints_are_named() {
    let Some(env) = server() else { return };
    let e = S3Remote::open(&config("s3://Bad_Bucket!/x"), &env).unwrap_err();
    assert!(e.message.contains("s3://Bad_Bucket!/x"), "{e}");
    let cfg = S3Config {
        url: unique_url("badep"),
        endpoint: Some("127.0.0.1:9000".into()),
        ..S3Config::default()
    };
    let e = S3Remote::open(&cfg, &env).unwrap_err();
    assert!(e.message.contains("127.0.0.1:9000"), "{e}");
}
