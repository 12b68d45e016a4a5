//! Real-browser test: the real server on an ephemeral loopback port, headless Chromium loads
//! `/?demo=sample`, whose script fetches `/sample.csv` and uploads it through the page's own
//! multipart upload path; the rendered DOM must hold 12 result rows. Screenshots (desktop and
//! phone widths) are saved under the target directory as test artifacts.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use tokio::net::TcpListener;
use tokio::process::Command;

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// `target/serve-artifacts/` (next to the profile directories).
fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    let dir = target.join("serve-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

async fn run_chromium(exe: &Path, extra: &[String], url: &str) -> (bool, String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new(exe);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        // Virtual time waits for the page's fetches (sample download, upload) to settle.
        "--virtual-time-budget=20000",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let child = cmd.spawn().expect("spawn chromium");
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("chromium timed out")
        .expect("chromium output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_uploads_the_sample_in_headless_chromium_and_shows_12_rows() {
    let Some(browser) = chromium() else {
        eprintln!(
            "NOTE: chromium not installed (apt-get install chromium); real-browser test skipped"
        );
        return;
    };
    let repo = temp_repo(true);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(netsec_serve::serve(
        listener,
        config(repo.path()),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let url = format!("http://{addr}/?demo=sample");

    let (ok, dom, stderr) = run_chromium(&browser, &["--dump-dom".into()], &url).await;
    assert!(ok, "chromium failed: {stderr}");
    assert!(
        dom.contains("data-result-rows=\"12\""),
        "page did not render 12 rows:\n{dom}\n{stderr}"
    );
    let tbody = dom
        .split("<tbody>")
        .nth(1)
        .and_then(|s| s.split("</tbody>").next())
        .expect("results table body");
    assert_eq!(tbody.matches("<tr").count(), 12, "{tbody}");
    // The highlighted rows are exactly the rows the API calls phishing.
    let (app, _) = common::app(config(repo.path()));
    let api = post(&app, "/predict", "text/csv", SAMPLE).await.json();
    let phishing = api["summary"]["phishing"].as_u64().expect("phishing");
    assert!(phishing > 0);
    assert_eq!(
        tbody.matches("<tr class=\"phishing\">").count() as u64,
        phishing
    );
    assert!(dom.contains("12 rows"), "summary missing");
    assert!(
        dom.contains(api["model"]["version"].as_str().expect("version")),
        "model card missing"
    );

    let dir = artifacts_dir();
    for (name, size) in [
        ("serve-page.png", "1280,1500"),
        ("serve-page-phone.png", "390,1600"),
    ] {
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        let (ok, _, stderr) = run_chromium(
            &browser,
            &[
                format!("--screenshot={}", path.display()),
                format!("--window-size={size}"),
            ],
            &url,
        )
        .await;
        assert!(ok, "screenshot failed: {stderr}");
        let png = std::fs::read(&path).expect("screenshot written");
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        assert!(png.len() > 10_000, "suspiciously small screenshot");
        eprintln!("screenshot: {}", path.display());
    }

    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown")
        .expect("join")
        .expect("serve");
}
