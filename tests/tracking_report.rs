//! Tracking and reports through the real binary on the repository's pipeline: an MLflow run
//! read back from a real server (started by `scripts/services.sh`), the failure policy
//! (unreachable → warning + exit 0, `tracking.required = true` → exit 5), plots, timings,
//! `metrics show/diff`, and the HTML report rendered in headless Chromium.
//!
//! The MLflow test skips with a note only when `MLFLOW_TRACKING_URI` is unset and
//! `NETSEC_REQUIRE_SERVICES` is not `1` (scripts/test.sh sets both, so CI cannot skip).

#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use netsec_tracking::{Auth, MlflowClient, TrackingConfig};
use serde_json::Value;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The server URI, `None` (with a note) when the test may skip.
fn mlflow_uri() -> Option<String> {
    match std::env::var("MLFLOW_TRACKING_URI") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() == Ok("1") => panic!(
            "NETSEC_REQUIRE_SERVICES=1 but MLFLOW_TRACKING_URI is unset: \
             eval \"$(scripts/services.sh start mlflow)\""
        ),
        _ => {
            eprintln!(
                "note: MLFLOW_TRACKING_URI is unset; skipping the MLflow server test \
                 (scripts/test.sh starts a server)"
            );
            None
        }
    }
}

/// An experiment name no other run of the tests uses.
fn experiment() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("netsec-test-{}-{nanos}", std::process::id())
    })
}

fn netsec(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_netsec"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("MLFLOW_TRACKING_URI")
        .env_remove("MLFLOW_EXPERIMENT_NAME")
        .env_remove("MLFLOW_TRACKING_USERNAME")
        .env_remove("MLFLOW_TRACKING_PASSWORD")
        .env_remove("MLFLOW_TRACKING_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run netsec")
}

/// A fresh workspace holding what a clone has.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["pipeline.toml", "schema.yaml", ".dvcignore"] {
        std::fs::copy(repo_root().join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("data")).expect("mkdir");
    std::fs::copy(
        repo_root().join("data/phisingData.csv"),
        dir.path().join("data/phisingData.csv"),
    )
    .expect("copy data");
    dir
}

/// One full repro shared by the tests (logged to MLflow when a server is configured).
fn shared() -> &'static (tempfile::TempDir, Output) {
    static REPRO: OnceLock<(tempfile::TempDir, Output)> = OnceLock::new();
    REPRO.get_or_init(|| {
        let dir = workspace();
        let uri = std::env::var("MLFLOW_TRACKING_URI").unwrap_or_default();
        let env: Vec<(&str, &str)> = if uri.is_empty() {
            vec![]
        } else {
            vec![
                ("MLFLOW_TRACKING_URI", uri.as_str()),
                ("MLFLOW_EXPERIMENT_NAME", experiment()),
            ]
        };
        let out = netsec(dir.path(), &["repro"], &env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (dir, out)
    })
}

/// A copy of the shared workspace after its repro.
fn copy_of_shared() -> tempfile::TempDir {
    let (src, _) = shared();
    let dst = tempfile::tempdir().expect("temp dir");
    let st = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", src.path().display()))
        .arg(dst.path())
        .status()
        .expect("cp");
    assert!(st.success());
    dst
}

#[test]
fn mlflow_run_is_logged_and_read_back() {
    let Some(uri) = mlflow_uri() else { return };
    let (_, out) = shared();
    let err = text(&out.stderr);
    let run_id = err
        .lines()
        .find_map(|l| l.split("MLflow run ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `Tracked` line in:\n{err}"))
        .to_string();
    let client = MlflowClient::new(&TrackingConfig {
        uri,
        experiment: experiment().into(),
        required: false,
        auth: Auth::None,
    });
    let run = client.get_run(&run_id).expect("runs/get");
    let data = &run["run"]["data"];
    let kv = |list: &str| -> std::collections::BTreeMap<String, String> {
        data[list]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| {
                let v = match &p["value"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (p["key"].as_str().unwrap_or_default().to_string(), v)
            })
            .collect()
    };
    let params = kv("params");
    assert_eq!(
        params.get("train.folds").map(String::as_str),
        Some("5"),
        "{params:?}"
    );
    assert_eq!(params.get("ingest.seed").map(String::as_str), Some("42"));
    assert!(params.contains_key("model"), "{params:?}");
    assert!(params.keys().any(|k| k.starts_with("model.")), "{params:?}");
    assert_eq!(
        params.get("candidate.0").map(String::as_str),
        Some("logistic")
    );
    let metrics = kv("metrics");
    for k in [
        "test_f1",
        "test_precision",
        "test_recall",
        "test_accuracy",
        "test_roc_auc",
        "cv_f1",
        "cv_roc_auc",
    ] {
        let v: f64 = metrics
            .get(k)
            .unwrap_or_else(|| panic!("{k} missing: {metrics:?}"))
            .parse()
            .unwrap();
        assert!(v > 0.8 && v <= 1.0, "{k} = {v}");
    }
    let local: Value = serde_json::from_slice(
        &std::fs::read(shared().0.path().join("artifacts/evaluate/metrics.json")).unwrap(),
    )
    .unwrap();
    let f1: f64 = metrics["test_f1"].parse().unwrap();
    assert!((f1 - local["test"]["f1"].as_f64().unwrap()).abs() < 1e-12);
    // One `candidate_cv_f1` value per candidate of cv.json, at steps 0..n, in table order.
    let hist = client.metric_history(&run_id, "candidate_cv_f1").unwrap();
    let table = local["cv"]["table"].as_array().unwrap();
    assert_eq!(hist.len(), table.len());
    for (i, (step, v)) in hist.iter().enumerate() {
        assert_eq!(*step, i as i64);
        assert!((v - table[i]["f1_mean"].as_f64().unwrap()).abs() < 1e-12);
    }
    let tags = kv("tags");
    assert_eq!(
        tags.get("promoted").map(String::as_str),
        Some("true"),
        "{tags:?}"
    );
    assert_eq!(
        tags.get("netsec.version").map(String::as_str),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        tags.get("dataset.digest").map(|d| d.len()),
        Some(64),
        "{tags:?}"
    );
    assert!(tags.contains_key("dataset.data/phisingData.csv"));
    assert_eq!(run["run"]["info"]["status"], "FINISHED");
    assert!(run["run"]["info"]["run_name"]
        .as_str()
        .unwrap()
        .contains("evaluate@"));

    let root = client.list_artifacts(&run_id, "").unwrap();
    for d in ["final_model", "artifacts", "plots"] {
        assert!(root.iter().any(|p| p == d), "{root:?}");
    }
    let fm = client.list_artifacts(&run_id, "final_model").unwrap();
    assert_eq!(fm, ["final_model/bundle.json"]);
    let plots = client.list_artifacts(&run_id, "plots").unwrap();
    assert!(plots.contains(&"plots/roc.svg".to_string()), "{plots:?}");
    assert!(
        plots.contains(&"plots/cv_scores.png".to_string()),
        "{plots:?}"
    );
    let ev = client
        .list_artifacts(&run_id, "artifacts/evaluate")
        .unwrap();
    assert!(
        ev.contains(&"artifacts/evaluate/metrics.json".to_string()),
        "{ev:?}"
    );
}

/// A loopback URL nobody listens on.
fn dead_uri() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

#[test]
fn unreachable_server_warns_and_required_exits_5() {
    let ws = copy_of_shared();
    let dir = ws.path();
    let uri = dead_uri();
    let out = netsec(
        dir,
        &["repro", "-f", "-s", "evaluate"],
        &[("MLFLOW_TRACKING_URI", &uri)],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("warning: MLflow tracking failed"), "{err}");
    assert!(err.contains("unreachable"), "{err}");

    let mut p = std::fs::read_to_string(dir.join("pipeline.toml")).unwrap();
    p.push_str(&format!("\n[tracking]\nuri = \"{uri}\"\nrequired = true\n"));
    std::fs::write(dir.join("pipeline.toml"), p).unwrap();
    let out = netsec(
        dir,
        &["repro", "-f", "-s", "evaluate"],
        &[
            ("MLFLOW_TRACKING_PASSWORD", "pw-not-shown"),
            ("MLFLOW_TRACKING_USERNAME", "u"),
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("tracking.required = true"), "{err}");
    assert!(
        !err.contains("pw-not-shown") && !err.contains("warning: pipeline.toml"),
        "{err}"
    );
    // A repro in which neither train nor evaluate ran does not talk to the server at all.
    let out = netsec(dir, &["repro"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn plots_timings_and_metrics_show() {
    let (dir, _) = shared();
    let dir = dir.path();
    let plots = dir.join("artifacts/evaluate/plots");
    for stem in [
        "roc",
        "precision_recall",
        "confusion_matrix",
        "cv_scores",
        "drift_pvalues",
        "feature_importance",
    ] {
        let svg = std::fs::read_to_string(plots.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{stem}");
        let png = std::fs::read(plots.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{stem}");
    }
    let lock: Value =
        serde_json::from_slice(&std::fs::read(dir.join("netsec.lock")).unwrap()).unwrap();
    assert!(
        lock["stages"]["evaluate"]["outs"]["artifacts/evaluate/plots"]["nfiles"].as_u64()
            == Some(15)
    );
    // The curves' data, declared as `[plots.NAME]` in pipeline.toml.
    for (file, header) in [
        ("roc.csv", "fpr,tpr,threshold"),
        ("precision_recall.csv", "recall,precision,threshold"),
        ("cv_scores.csv", "candidate,model,f1_mean,"),
    ] {
        let csv = std::fs::read_to_string(plots.join(file)).unwrap();
        assert!(csv.starts_with(header) && csv.lines().count() > 2, "{file}");
    }

    let out = netsec(dir, &["status", "-v"], &[]);
    let s = text(&out.stdout);
    assert!(s.contains("Last repro ("), "{s}");
    let train = s
        .lines()
        .find(|l| l.trim_start().starts_with("train "))
        .expect(&s);
    assert!(
        train.contains("ran") && train.trim_end().ends_with('s'),
        "{train}"
    );

    let out = netsec(dir, &["metrics", "show", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = &v["artifacts/evaluate/metrics.json"];
    assert!(m["test.f1"].as_f64().unwrap() > 0.9, "{v}");
    let out = netsec(dir, &["metrics", "show"], &[]);
    let s = text(&out.stdout);
    assert!(s.starts_with("Path") && s.contains("test.f1"), "{s}");
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git");
    assert!(st.status.success(), "git {args:?}: {}", text(&st.stderr));
}

#[test]
fn metrics_diff_against_git_head() {
    let ws = copy_of_shared();
    let dir = ws.path();
    git(dir, &["init", "-q"]);
    git(
        dir,
        &[
            "add",
            "-f",
            "netsec.lock",
            "artifacts/evaluate/metrics.json",
        ],
    );
    git(dir, &["commit", "-qm", "metrics"]);
    let out = netsec(dir, &["metrics", "diff"], &[]);
    assert_eq!(text(&out.stdout).trim(), "No metric changed against HEAD.");
    let path = dir.join("artifacts/evaluate/metrics.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let old = v["test"]["f1"].as_f64().unwrap();
    v["test"]["f1"] = Value::from(old - 0.25);
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let out = netsec(dir, &["metrics", "diff", "HEAD", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["key"], "test.f1");
    assert!((rows[0]["delta"].as_f64().unwrap() + 0.25).abs() < 1e-9);
    let out = netsec(dir, &["metrics", "diff", "no-such-rev"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_renders_with_all_plots_in_headless_chromium() {
    let ws = copy_of_shared();
    let dir = ws.path();
    let out = netsec(dir, &["report"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html_path = dir.join("artifacts/report/index.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    assert_eq!(html.matches("<img class=\"plot\"").count(), 6);
    for section in [
        "Metrics",
        "Calibration (test)",
        "Drift",
        "Model card",
        "Stage timings",
    ] {
        assert!(html.contains(section), "{section}");
    }
    // Calibration: evaluate's Brier score, and the reliability curve with the diagonal.
    let metrics: Value = serde_json::from_slice(
        &std::fs::read(dir.join("artifacts/evaluate/metrics.json")).unwrap(),
    )
    .unwrap();
    let brier = metrics["calibration"]["brier"].as_f64().expect("brier");
    assert!(brier > 0.0 && brier < 0.25, "{brier}");
    assert!(
        html.contains(&format!("<b class=\"brier\">{brier:.4}</b>")),
        "Brier score missing"
    );
    let bins = metrics["calibration"]["bins"].as_array().expect("bins");
    let reliability = html
        .split("<table class=\"reliability\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("reliability table");
    assert_eq!(reliability.matches("<tr><td>[").count(), bins.len());
    let figure = html
        .split("<figure class=\"plot\" id=\"plot-reliability\">")
        .nth(1)
        .and_then(|t| t.split("</figure>").next())
        .expect("reliability curve");
    assert!(
        figure.contains("<svg class=\"plot\" data-series=\"2\""),
        "{figure}"
    );
    // Drift: KS D, p-value and PSI of every column, as validate's report has them.
    let drift = html
        .split("<table class=\"drift\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("drift table");
    assert!(drift.contains("<th>KS statistic D</th><th>p-value</th><th>PSI</th>"));
    let yaml = std::fs::read_to_string(dir.join("artifacts/validate/report.yaml")).unwrap();
    let mut want: Vec<String> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("psi: "))
        .map(|v| format!("{:.4}", v.parse::<f64>().expect("psi")))
        .collect();
    let mut got: Vec<String> = drift
        .lines()
        .filter(|l| l.starts_with("<tr") && l.contains("<td"))
        .map(|l| {
            let cells: Vec<&str> = l.split("<td").skip(1).collect();
            assert_eq!(cells.len(), 5, "{l}");
            let psi = cells[3];
            psi[psi.find('>').unwrap() + 1..psi.find("</td>").unwrap()].to_string()
        })
        .collect();
    assert_eq!(
        got.len(),
        31,
        "one row per column: 30 features and the label"
    );
    want.sort();
    got.sort();
    assert_eq!(got, want, "PSI cells against report.yaml");
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        if std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("chromium is not installed (scripts/test.sh installs it)");
        }
        eprintln!("note: chromium not installed; skipping the browser check");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", html_path.display());
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=5000",
    ];
    let out = Command::new(chromium)
        .args(args)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    let dom = text(&out.stdout);
    assert!(
        dom.contains("id=\"plot-reliability\"")
            && dom.contains("data-plots-total=\"6\"")
            && dom.contains("data-plots-loaded=\"6\"")
            && dom.contains("data-plots-ready=\"true\""),
        "plots did not load; stderr:\n{}\nbody: {}",
        text(&out.stderr),
        dom.lines().find(|l| l.contains("<body")).unwrap_or("")
    );
    // A screenshot for a human to look at (kept when NETSEC_REPORT_SCREENSHOT names a file).
    if let Ok(shot) = std::env::var("NETSEC_REPORT_SCREENSHOT") {
        let out = Command::new(chromium)
            .args(args)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={shot}"))
            .arg("--window-size=1200,2400")
            .arg(&url)
            .output()
            .expect("run chromium");
        assert!(Path::new(&shot).exists(), "{}", text(&out.stderr));
    }
}
