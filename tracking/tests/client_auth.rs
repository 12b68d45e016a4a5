//! The client sends the configured credentials and never repeats them in errors: a one-shot
//! local HTTP listener captures the raw request and answers 401.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread;

use netsec_tracking::{Auth, MlflowClient, TrackingConfig, TrackingError};

/// Serves one request with `status`/`body`; returns the request's header lines.
fn one_shot(status: &str, body: &'static str) -> (String, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let status = status.to_string();
    let h = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut headers = Vec::new();
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_string();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            headers.push(line);
        }
        let mut rest = vec![0u8; len];
        reader.read_exact(&mut rest).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        headers
    });
    (uri, h)
}

fn cfg(uri: String, auth: Auth) -> TrackingConfig {
    TrackingConfig {
        uri,
        experiment: "e".into(),
        required: false,
        auth,
    }
}

#[test]
fn basic_auth_header_sent_and_not_echoed() {
    let (uri, h) = one_shot(
        "401 Unauthorized",
        r#"{"error_code":"UNAUTHENTICATED","message":"bad credentials"}"#,
    );
    let client = MlflowClient::new(&cfg(
        uri,
        Auth::Basic {
            username: "alice".into(),
            password: "s3cr3t-pw".into(),
        },
    ));
    let err = client.experiment_id("exp").unwrap_err();
    let headers = h.join().unwrap();
    assert!(
        headers[0].starts_with("GET /api/2.0/mlflow/experiments/get-by-name?experiment_name=exp "),
        "{headers:?}"
    );
    // base64("alice:s3cr3t-pw")
    assert!(
        headers
            .iter()
            .any(|l| l == "Authorization: Basic YWxpY2U6czNjcjN0LXB3"),
        "{headers:?}"
    );
    assert!(
        matches!(err, TrackingError::Http { status: 401, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?} {:?}", err.hint());
    assert!(shown.contains("UNAUTHENTICATED"), "{shown}");
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("YWxpY2U6"),
        "{shown}"
    );
    assert!(!format!("{client:?}").contains("s3cr3t"));
}

#[test]
fn bearer_token_header_sent() {
    let (uri, h) = one_shot("200 OK", r#"{"experiment":{"experiment_id":"7"}}"#);
    let client = MlflowClient::new(&cfg(uri, Auth::Bearer("tok-123".into())));
    assert_eq!(client.experiment_id("exp").unwrap(), "7");
    let headers = h.join().unwrap();
    assert!(
        headers.iter().any(|l| l == "Authorization: Bearer tok-123"),
        "{headers:?}"
    );
}

#[test]
fn no_auth_no_header_and_unreachable_is_typed() {
    let (uri, h) = one_shot("200 OK", r#"{"experiment":{"experiment_id":"1"}}"#);
    let client = MlflowClient::new(&cfg(uri, Auth::None));
    client.experiment_id("exp").unwrap();
    let headers = h.join().unwrap();
    assert!(!headers
        .iter()
        .any(|l| l.to_ascii_lowercase().starts_with("authorization")));

    // A port nobody listens on (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = MlflowClient::new(&cfg(format!("http://127.0.0.1:{port}"), Auth::None));
    let err = client.experiment_id("exp").unwrap_err();
    assert!(matches!(err, TrackingError::Unreachable { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("services.sh"));
}
