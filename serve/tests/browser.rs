//! Real-browser test: the real server on an ephemeral loopback port, headless Chromium loads
//! `/?demo=sample`, whose script fetches `/sample.csv` and uploads it through the page's own
//! multipart upload path; the rendered DOM must hold 12 result rows. Screenshots (desktop and
//! phone widths) are saved under the target directory as test artifacts. `/?demo=sample-csv`
//! then clicks the page's CSV download, which Chromium saves to a directory set in the
//! profile's preferences; the file is read back with a CSV reader.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::*;
use tokio::net::TcpListener;
use tokio::process::Command;

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
    run_chromium_in(exe, extra, url, None).await
}

/// As [`run_chromium`]; downloads are saved without asking into `downloads` when given.
async fn run_chromium_in(
    exe: &Path,
    extra: &[String],
    url: &str,
    downloads: Option<&Path>,
) -> (bool, String, String) {
    let profile = tempfile::tempdir().expect("profile dir");
    if let Some(dir) = downloads {
        let prefs = serde_json::json!({
            "download": {"default_directory": dir, "prompt_for_download": false}
        });
        std::fs::create_dir_all(profile.path().join("Default")).expect("profile Default");
        std::fs::write(
            profile.path().join("Default/Preferences"),
            serde_json::to_vec(&prefs).expect("prefs"),
        )
        .expect("write Preferences");
    }
    let mut cmd = Command::new(exe);
    cmd.args(common::chromium::HEADLESS_FLAGS)
        .args([
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
    let Some(browser) = common::chromium::chromium() else {
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

/// The bundle of `temp_repo` with a decision threshold of 0.04 (not 0.5, so the page must
/// apply the bundle's) and a legitimate class whose name needs CSV quoting.
const THRESHOLD: f64 = 0.04;
const LEGIT: &str = "legitimate, \"ok\"";

fn tuned_repo() -> tempfile::TempDir {
    let repo = temp_repo(false);
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&bundle_bytes(0)).expect("bundle JSON");
    bundle["metrics"]["threshold"] = serde_json::json!(THRESHOLD);
    bundle["schema"]["target"]["labels"] = serde_json::json!({"phishing": -1, LEGIT: 1});
    std::fs::create_dir_all(repo.path().join("final_model")).expect("mkdir");
    std::fs::write(
        repo.path().join("final_model/bundle.json"),
        serde_json::to_vec(&bundle).expect("encode"),
    )
    .expect("write bundle");
    repo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_shows_the_threshold_and_downloads_the_shown_results_as_csv() {
    let Some(browser) = common::chromium::chromium() else {
        return;
    };
    let repo = tuned_repo();
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
    let downloads = tempfile::tempdir().expect("downloads dir");
    let url = format!("http://{addr}/?demo=sample-csv");
    let (ok, dom, stderr) = run_chromium_in(
        &browser,
        &["--dump-dom".into()],
        &url,
        Some(downloads.path()),
    )
    .await;
    assert!(ok, "chromium failed: {stderr}");
    assert!(
        dom.contains("data-result-rows=\"12\""),
        "no results:\n{dom}"
    );
    // The threshold in the model card, the summary and the legend.
    assert!(
        dom.contains("<dt>decision threshold</dt><dd>0.0400</dd>"),
        "model card lacks the threshold:\n{dom}"
    );
    assert!(dom.contains("decision threshold 0.0400"), "summary:\n{dom}");
    assert!(
        dom.contains("prediction -1 = phishing, 1 = legitimate, \"ok\"; phishing when phishing_probability ≥ 0.0400"),
        "legend:\n{dom}"
    );

    // Chromium writes the file when the download completes (`.crdownload` until then).
    let file = downloads
        .path()
        .join("sample-predict-input-predictions.csv");
    for _ in 0..100 {
        if file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let csv_text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        let names: Vec<_> = std::fs::read_dir(downloads.path())
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        panic!(
            "no download at {} ({e}); found {names:?}\n{stderr}",
            file.display()
        )
    });

    // The same rows as the API's answer for the same upload: inputs, coding, name, probability.
    let (app, _) = common::app(config(repo.path()));
    let api = post(&app, "/predict", "text/csv", SAMPLE).await.json();
    assert_eq!(api["model"]["threshold"], serde_json::json!(THRESHOLD));
    let api_rows = api["rows"].as_array().expect("rows");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let features: Vec<String> = SAMPLE
        .lines()
        .next()
        .expect("sample header")
        .split(',')
        .map(str::to_string)
        .collect();
    let mut expected = features.clone();
    expected.extend(["prediction", "prediction_label", "phishing_probability"].map(String::from));
    assert_eq!(header, expected);
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("the download is valid CSV");
    assert_eq!(records.len(), 12);
    let mut phishing_below_half = 0;
    for (i, (rec, row)) in records.iter().zip(api_rows).enumerate() {
        for (j, name) in features.iter().enumerate() {
            let want = match &row[name] {
                serde_json::Value::Null => String::new(),
                v => v.to_string(),
            };
            assert_eq!(rec[j], want, "row {i} column {name}");
        }
        let n = features.len();
        let p: f64 = rec[n + 2].parse().expect("probability");
        assert_eq!(
            p,
            row["phishing_probability"].as_f64().expect("p"),
            "row {i}: unrounded"
        );
        let code: i64 = rec[n].parse().expect("prediction");
        assert_eq!(
            code,
            row["prediction"].as_i64().expect("prediction"),
            "row {i}"
        );
        let (want_code, want_name) = if p >= THRESHOLD {
            (-1, "phishing")
        } else {
            (1, LEGIT)
        };
        assert_eq!((code, &rec[n + 1]), (want_code, want_name), "row {i}");
        if code == -1 && p < 0.5 {
            phishing_below_half += 1;
        }
    }
    // The legitimate name has a comma and quotes: the file must quote it.
    assert!(
        csv_text.contains(",\"legitimate, \"\"ok\"\"\","),
        "{csv_text}"
    );
    // The fixture's forest gives the sample rows 0.025, 0.05, 0.075…: two of them are
    // phishing only under the bundle's threshold.
    assert!(phishing_below_half > 0, "the threshold changed no row");

    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown")
        .expect("join")
        .expect("serve");
}
