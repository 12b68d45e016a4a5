//! End to end: the repository's own `pipeline.toml` on the bundled CSV, through the real binary.
//!
//! One full `netsec repro` is shared by the tests that read its results (it is the expensive
//! part); tests that change the workspace make their own copy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use netsec_protocol::ReproLine;
use serde_json::Value;

const SAMPLE_LABELS: [i64; 12] = [1, 1, -1, 1, 1, 1, 1, -1, 1, -1, 1, -1];

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh workspace holding what a clone has: pipeline, schema, ignore file and data.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["pipeline.toml", "schema.yaml", ".dvcignore"] {
        std::fs::copy(repo_root().join(f), dir.path().join(f)).expect("copy");
    }
    std::fs::create_dir(dir.path().join("data")).expect("mkdir");
    for f in ["phisingData.csv", "sample-predict-input.csv"] {
        std::fs::copy(
            repo_root().join("data").join(f),
            dir.path().join("data").join(f),
        )
        .expect("copy data");
    }
    dir
}

fn netsec(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netsec"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        // These runs are not experiments worth tracking.
        .env_remove("MLFLOW_TRACKING_URI")
        .output()
        .expect("run netsec")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `repro --json` events: stage name → outcome.
fn outcomes(out: &Output) -> Vec<(String, String)> {
    ReproLine::outcomes(&text(&out.stdout))
        .unwrap_or_else(|e| panic!("`repro --json` stdout is not the protocol ({e})"))
        .into_iter()
        .map(|(stage, outcome)| (stage, outcome.as_str().to_string()))
        .collect()
}

fn outcome_of(out: &Output, stage: &str) -> String {
    outcomes(out)
        .into_iter()
        .find(|(s, _)| s == stage)
        .map(|(_, o)| o)
        .unwrap_or_else(|| panic!("no event for `{stage}` in:\n{}", text(&out.stdout)))
}

fn read_json(path: &Path) -> Value {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&s).expect("json")
}

/// The workspace after one full run, shared by the read-only tests.
fn reproduced() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = workspace();
        let out = netsec(dir.path(), &["repro", "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "repro failed:\n{}",
            text(&out.stderr)
        );
        for stage in [
            "ingest",
            "validate",
            "transform",
            "train",
            "compare",
            "evaluate",
        ] {
            assert_eq!(outcome_of(&out, stage), "ran", "{stage}");
        }
        dir
    })
    .path()
}

#[test]
fn honest_split_meets_the_quality_bars() {
    let m = read_json(&reproduced().join("artifacts/evaluate/metrics.json"));
    assert_eq!(m["positive_class"], "phishing");
    let f1 = m["test"]["f1"].as_f64().expect("f1");
    let auc = m["test"]["roc_auc"].as_f64().expect("auc");
    // The model and its threshold are chosen by grouped CV on train only and test is scored
    // once. The release run measures 0.9538 (soft vote of boosting, 300 rounds of depth 6 at
    // learning rate 0.1, and a 300-tree forest of 1 feature per split; threshold 0.5077); the
    // guard is that figure minus one standard error of a test F1 (0.0051, bootstrap over the
    // 2,213 test rows), so it fails on a real loss, not on noise.
    assert!(f1 >= 0.948, "duplicate-aware split: test F1 {f1} < 0.948");
    // Selection is grouped; the plain stratified CV figure of the same model is reported.
    let cv = &m["cv"];
    assert_eq!(cv["config"]["cv"], "grouped");
    assert_eq!(cv["other_cv"]["cv"], "stratified");
    assert!(
        cv["other_cv"]["f1_mean"].as_f64() > cv["cv_f1"].as_f64(),
        "{cv}"
    );
    // Calibration of the test probabilities.
    let brier = m["calibration"]["brier"].as_f64().expect("brier");
    assert!(brier > 0.0 && brier < 0.05, "Brier {brier}");
    assert!(auc >= 0.99, "duplicate-aware split: ROC-AUC {auc} < 0.99");
    // The split really is duplicate-aware: no test feature vector occurs in train.
    let split = read_json(&reproduced().join("artifacts/ingest/split.json"));
    assert_eq!(split["leak_check"]["test_rows_in_train"], 0);
    assert_eq!(split["rows"], 11055);
}

#[test]
fn template_random_split_is_reported_beside_it() {
    let m = read_json(&reproduced().join("artifacts/evaluate/metrics.json"));
    let c = &m["comparison"];
    let f1 = c["test"]["f1"].as_f64().expect("comparison f1");
    let auc = c["test"]["roc_auc"].as_f64().expect("comparison auc");
    assert!(f1 >= 0.960, "random seed-42 split: test F1 {f1} < 0.960");
    assert!(auc >= 0.99, "random seed-42 split: ROC-AUC {auc} < 0.99");
    // The random split leaks: most of its test rows also occur in train (~65%).
    let leaked = c["summary"]["leak_check"]["test_share_in_train"]
        .as_f64()
        .expect("leak share");
    assert!(leaked > 0.5, "random split leak share {leaked}");
    assert!(c["test"]["legitimate_f1"].as_f64().is_some());
}

#[test]
fn first_model_is_promoted_into_a_loadable_bundle() {
    let dir = reproduced();
    let p = read_json(&dir.join("artifacts/evaluate/promotion.json"));
    assert_eq!(p["promoted"], true, "{p}");
    let bundle = read_json(&dir.join("final_model/bundle.json"));
    assert_eq!(bundle["format_version"], 1);
    assert_eq!(bundle["schema"]["target"]["column"], "Result");
    // The bundle records the params of the stages that produced its model, not only evaluate's.
    let params = &bundle["params"];
    assert_eq!(params["transform"]["neighbors"], 3, "{params}");
    let cv = read_json(&dir.join("artifacts/train/cv.json"));
    let train = params["train"].as_object().expect("train params");
    assert!(train.contains_key("models"), "{params}");
    for (key, value) in train {
        assert_eq!(&cv["config"][key], value, "train.{key}");
    }
    assert!(
        params["evaluate"]["min_improvement"].is_number(),
        "{params}"
    );
    // `evaluate.refit_all` is on in the repository's pipeline: the shipped model was fitted on
    // train + test (every labelled row), recorded in the promotion and the bundle; the metrics
    // stay those of the fit on train alone, the ones metrics.json reports.
    assert_eq!(params["evaluate"]["refit_all"], true, "{params}");
    let split = read_json(&dir.join("artifacts/ingest/split.json"));
    let rows = |k: &str| {
        split[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} in {split}"))
    };
    assert_eq!(
        p["refit"]["rows"].as_u64(),
        Some(rows("train_rows") + rows("test_rows"))
    );
    assert_eq!(bundle["refit"], p["refit"]);
    let metrics = read_json(&dir.join("artifacts/evaluate/metrics.json"));
    assert_eq!(bundle["metrics"], metrics["test"]);
    let trained = read_json(&dir.join("artifacts/train/model.json"));
    assert_ne!(
        bundle["model"], trained,
        "the bundled model is the refit, not train's"
    );
    let status = netsec(dir, &["status"]);
    assert_eq!(text(&status.stdout).trim(), "Pipeline is up to date.");
}

#[test]
fn predict_gets_the_sample_right() {
    let dir = reproduced();
    let out = netsec(
        dir,
        &[
            "predict",
            "--model",
            "final_model",
            "--input",
            "data/sample-predict-input.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(
        header[header.len() - 3..],
        ["prediction", "prediction_label", "phishing_probability"]
    );
    // The threshold the bundle applies, chosen on out-of-fold predictions by `train`.
    let bundle = read_json(&dir.join("final_model/bundle.json"));
    let threshold = bundle["metrics"]["threshold"].as_f64().expect("threshold");
    let cv = read_json(&dir.join("artifacts/train/cv.json"));
    assert_eq!(cv["threshold"].as_f64(), Some(threshold));
    let mut predicted = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let code = cells[cells.len() - 3].parse::<i64>().expect("prediction");
        let name = cells[cells.len() - 2];
        assert_eq!(name, if code == -1 { "phishing" } else { "legitimate" });
        let p_text = cells[cells.len() - 1];
        assert!(
            p_text.split('.').nth(1).map(str::len) >= Some(4),
            "{p_text}"
        );
        let p: f64 = p_text.parse().expect("probability");
        assert!((0.0..=1.0).contains(&p));
        // Rounding to 4 decimals can cross the threshold only within 0.00005 of it.
        if (p - threshold).abs() > 1e-4 {
            assert_eq!(code == -1, p >= threshold, "p {p} threshold {threshold}");
        }
        predicted.push(code);
    }
    // The legend names both codings and the threshold.
    let legend = text(&out.stderr);
    assert!(
        legend.contains("prediction -1 = phishing, 1 = legitimate")
            && legend.contains(&format!("{threshold:.4}")),
        "{legend}"
    );
    // Rows 1–11 have feature vectors the model was trained on. Row 12's vector lies in the
    // held-out test split (the split keeps identical vectors on one side), so it is a genuinely
    // unseen site; the current model calls it legitimate.
    assert_eq!(predicted.len(), SAMPLE_LABELS.len());
    assert_eq!(predicted[..11], SAMPLE_LABELS[..11], "{predicted:?}");

    // --output writes the same table to a file.
    let out = netsec(
        dir,
        &[
            "predict",
            "--input",
            "data/sample-predict-input.csv",
            "--output",
            "pred.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.join("pred.csv")).expect("pred.csv"),
        csv
    );

    // --json: the same file, and a summary on stdout naming the model version.
    let out = netsec(
        dir,
        &[
            "predict",
            "--input",
            "data/sample-predict-input.csv",
            "--output",
            "pred-json.csv",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: netsec_protocol::PredictJson =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "predict --json is not the protocol ({e}): {}",
                text(&out.stdout)
            )
        });
    assert_eq!(summary.rows, SAMPLE_LABELS.len());
    let phishing = predicted.iter().filter(|&&p| p == -1).count();
    assert_eq!(
        (summary.phishing, summary.legitimate),
        (phishing, 12 - phishing)
    );
    assert!(summary.output.ends_with("pred-json.csv"), "{summary:?}");
    assert!(
        summary.model.ends_with("final_model/bundle.json"),
        "{summary:?}"
    );
    assert_eq!(summary.model_version.len(), 16, "{summary:?}");
    // The threshold the rows were labelled with, the bundle's.
    assert_eq!(summary.threshold, threshold, "{summary:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join("pred-json.csv")).expect("pred-json.csv"),
        csv
    );
}

#[test]
fn predict_rejects_bad_input_with_the_column_and_line() {
    let dir = reproduced();
    let bad = tempfile::tempdir().expect("temp");
    let sample = std::fs::read_to_string(dir.join("data/sample-predict-input.csv")).expect("read");
    let cases: [(&str, String, &str); 3] = [
        (
            "wrong-columns.csv",
            "a,b\n1,2\n".to_string(),
            "`having_IP_Address` is missing",
        ),
        (
            "non-numeric.csv",
            sample.replacen("\n1,", "\nabc,", 1),
            "having_IP_Address",
        ),
        ("empty.csv", String::new(), "empty"),
    ];
    for (name, body, needle) in cases {
        let path = bad.path().join(name);
        std::fs::write(&path, body).expect("write");
        let out = netsec(dir, &["predict", "--input", path.to_str().expect("utf-8")]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{name}: {err}");
        assert!(err.contains(needle), "{name}: `{needle}` not in:\n{err}");
        assert!(out.stdout.is_empty(), "{name}: wrote output on failure");
    }
    let out = netsec(
        dir,
        &[
            "predict",
            "--model",
            "no-such-dir",
            "--input",
            "data/sample-predict-input.csv",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("no-such-dir"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn retraining_is_deterministic_and_cut_off_early() {
    let dir = workspace();
    let first = netsec(dir.path(), &["repro", "--json", "train"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let model = std::fs::read(dir.path().join("artifacts/train/model.json")).expect("model");
    // Forcing train reruns it; the same seed gives a byte-identical model, so nothing below
    // train would rerun (and the lock keeps the same digest).
    let again = netsec(dir.path(), &["repro", "--json", "-f", "-s", "train"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(outcome_of(&again, "train"), "ran");
    assert_eq!(
        std::fs::read(dir.path().join("artifacts/train/model.json")).expect("model"),
        model
    );
    let status = netsec(dir.path(), &["status", "--json"]);
    let s: Value = serde_json::from_slice(&status.stdout).expect("status json");
    let train = s["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|st| st["stage"] == "train")
        .expect("train status");
    assert_eq!(train["status"], "fresh", "{s}");
}

#[test]
fn drift_beyond_the_threshold_rejects_the_data_with_exit_4() {
    let dir = workspace();
    // With alpha just below 1 and no minimum effect every column "drifts", and
    // fail_on = "any" stops the run.
    let pipeline = std::fs::read_to_string(dir.path().join("pipeline.toml")).expect("read");
    assert!(pipeline.contains("fail_on = \"any\""), "{pipeline}");
    let pipeline = pipeline
        .replace("drift_alpha = 0.05", "drift_alpha = 0.999999")
        .replace("min_effect = 0.1", "min_effect = 0.0");
    std::fs::write(dir.path().join("pipeline.toml"), pipeline).expect("write");
    let out = netsec(dir.path(), &["repro", "--json", "validate"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(outcome_of(&out, "validate"), "failed");
    // The report is written for the user to read, but the stage stays stale.
    let report = std::fs::read_to_string(dir.path().join("artifacts/validate/report.yaml"))
        .expect("report.yaml written on rejection");
    assert!(report.contains("rejected"), "{report}");
    let status = netsec(dir.path(), &["status"]);
    assert!(
        text(&status.stdout).contains("Dirty `validate`"),
        "{}",
        text(&status.stdout)
    );
}

#[test]
fn out_of_domain_raw_data_is_rejected_at_ingest() {
    let dir = workspace();
    let csv_path = dir.path().join("data/phisingData.csv");
    let csv = std::fs::read_to_string(&csv_path).expect("read");
    // Line 3 of the file: its first cell becomes 7, outside {-1, 1}.
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    let rest = lines[2].split_once(',').expect("cells").1.to_string();
    lines[2] = format!("7,{rest}");
    std::fs::write(&csv_path, lines.join("\n") + "\n").expect("write");
    let out = netsec(dir.path(), &["repro", "ingest"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("having_IP_Address") && err.contains("line 3"),
        "{err}"
    );
}

/// Processes whose working directory is inside `dir` (a timed-out built-in runs in a child
/// netsec there).
fn processes_in(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| std::fs::read_link(e.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir)))
        .map(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            format!(
                "{}: {}",
                e.file_name().to_string_lossy(),
                text(&cmd).replace('\0', " ")
            )
        })
        .collect()
}

#[test]
fn a_built_in_stage_under_a_timeout_is_killed_and_stays_stale() {
    let dir = workspace();
    let pipeline = std::fs::read_to_string(dir.path().join("pipeline.toml")).expect("read");
    let anchor = "outs = [\"artifacts/train/\"]\n";
    assert!(pipeline.contains(anchor), "{pipeline}");
    // The selection grid takes seconds; one second is far too little.
    let pipeline = pipeline.replacen(anchor, &format!("{anchor}timeout = \"1s\"\n"), 1);
    std::fs::write(dir.path().join("pipeline.toml"), pipeline).expect("write");
    let out = netsec(dir.path(), &["repro", "--json", "train"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(outcome_of(&out, "transform"), "ran");
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("\"stage\":\"train\""))
        .unwrap_or_else(|| panic!("no event for train:\n{stdout}"));
    let ev: Value = serde_json::from_str(line).expect("event");
    assert_eq!(ev["failure"]["kind"], "timed_out", "{line}");
    assert_eq!(ev["failure"]["message"], "timed out after 1s", "{line}");
    // The child that ran the built-in is gone, and nothing of train was recorded.
    let left: Vec<String> = (0..100)
        .map(|_| {
            let left = processes_in(dir.path());
            if !left.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            left
        })
        .find(Vec::is_empty)
        .unwrap_or_else(|| processes_in(dir.path()));
    assert!(left.is_empty(), "still running: {left:?}");
    let lock = std::fs::read_to_string(dir.path().join("netsec.lock")).expect("lock");
    let lock: Value = serde_json::from_str(&lock).expect("lock json");
    assert!(lock["stages"].get("transform").is_some(), "{lock}");
    assert!(lock["stages"].get("train").is_none(), "{lock}");
    assert!(!dir.path().join("artifacts/train/model.json").exists());
}
