//! A real `netsec serve` child process for tests that talk to it over TCP, and a plain
//! HTTP/1.1 client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use super::netsec_exe;

/// A running `netsec serve`, killed when dropped (also when an assertion fails).
pub struct Server {
    pub pid: u32,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Server {
    pub fn start(root: &Path, extra: &[&str]) -> Server {
        Server::start_limited(root, extra, None)
    }

    /// [`Server::start`] under a soft open-file limit of `nofile` (through `sh -c ulimit`).
    pub fn start_limited(root: &Path, extra: &[&str], nofile: Option<u32>) -> Server {
        std::fs::write(root.join("pipeline.toml"), "").expect("write pipeline.toml");
        Server::spawn(root, extra, nofile)
    }

    /// `netsec serve` in a repository that already has its `pipeline.toml`.
    pub fn start_in_repo(root: &Path, extra: &[&str]) -> Server {
        Server::spawn(root, extra, None)
    }

    fn spawn(root: &Path, extra: &[&str], nofile: Option<u32>) -> Server {
        let mut cmd = match nofile {
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(netsec_exe());
                c
            }
            None => Command::new(netsec_exe()),
        };
        let mut child = cmd
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
            pid: child.id(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most 30 s) for a stderr line containing `needle` and returns it.
    pub fn wait_line(&mut self, needle: &str) -> String {
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
    pub fn url(&mut self) -> String {
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
    pub fn stop(mut self) -> String {
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
pub fn http_get(url: &str, path_and_query: &str) -> (String, String) {
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

impl Server {
    /// `host:port` of the URL.
    pub fn host(&mut self) -> String {
        self.url().trim_start_matches("http://").to_string()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Sends `request` as is on a new connection and reads until the server closes it or `wait`
/// passes; the status code of the reply (`None`: closed without a reply) and its bytes.
pub fn raw(host: &str, request: &[u8], wait: Duration) -> (Option<u16>, Vec<u8>) {
    let mut s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(wait)).expect("timeout");
    let _ = s.write_all(request);
    let mut reply = Vec::new();
    let mut buf = [0u8; 65536];
    let start = Instant::now();
    while start.elapsed() < wait {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    (status_of(&reply), reply)
}

/// The status code of an HTTP/1.x reply's first line.
pub fn status_of(reply: &[u8]) -> Option<u16> {
    let line = reply.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split_whitespace();
    if !words.next()?.starts_with("HTTP/") {
        return None;
    }
    words.next()?.parse().ok()
}
