//! `netsec serve` as a user starts it: the real binary on `127.0.0.1:0`, its start lines (the
//! bound URL, the model) and its access lines on stderr, read back by the test.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use common::*;

/// A running `netsec serve`, killed when dropped (also when an assertion fails).
struct Server {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    fn start(root: &Path, extra: &[&str]) -> Server {
        std::fs::write(root.join("pipeline.toml"), "").expect("write pipeline.toml");
        let mut child = Command::new(netsec_exe())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .current_dir(root)
            .env_remove("RUST_LOG")
            .env_remove("NETSEC_SERVE_TOKEN")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn netsec serve");
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 30 s) for a stderr line containing `needle` and returns it.
    fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no stderr line with {needle:?}; stderr so far:\n{}",
            self.seen.join("\n")
        );
    }

    /// The URL of the `Listening on http://…` start line.
    fn url(&mut self) -> String {
        let line = self.wait_line("Listening on ");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        assert!(
            !url.ends_with(":0"),
            "the printed port is the requested 0: {line}"
        );
        url
    }

    /// Kills the server and returns everything it wrote on stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader thread ends at EOF; collect what is left.
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        self.seen.join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET; returns the status line and the body.
fn http_get(url: &str, path_and_query: &str) -> (String, String) {
    let host = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path_and_query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read response");
    let status = text.lines().next().unwrap_or("").to_string();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn start_lines_name_the_bound_url_and_model_and_verbose_logs_each_request_without_its_query() {
    let repo = temp_repo(true);
    let mut server = Server::start(repo.path(), &["-v"]);
    let url = server.url();
    let model = server.wait_line("Model ");
    assert!(
        model.contains("(forest, test F1 0.") && model.contains("final_model/bundle.json"),
        "{model}"
    );

    let (status, body) = http_get(&url, "/health?token=s3cret-in-query");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"model_loaded\":true"), "{body}");
    let access = server.wait_line("GET /health 200 ");
    assert!(access.contains("INFO"), "{access}");
    assert!(
        access.ends_with('B') && access.contains("ms "),
        "duration and bytes missing: {access}"
    );
    let (status, _) = http_get(&url, "/no-such-page?token=s3cret-in-query");
    assert!(status.contains("404"), "{status}");
    server.wait_line("GET /no-such-page 404 ");

    let stderr = server.stop();
    assert!(
        !stderr.contains("s3cret-in-query"),
        "the query string reached the log:\n{stderr}"
    );
}

#[test]
fn default_verbosity_shows_the_start_lines_and_no_model_yet_but_no_access_lines() {
    let repo = temp_repo(false);
    let mut server = Server::start(repo.path(), &[]);
    let url = server.url();
    server.wait_line("no model yet");
    let (status, body) = http_get(&url, "/health");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"model_loaded\":false"), "{body}");
    let stderr = server.stop();
    assert!(
        !stderr.contains("GET /health"),
        "access line at default verbosity:\n{stderr}"
    );
}
