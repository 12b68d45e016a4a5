//! `scripts/ci/reproduce.sh`, the logic of the GitHub Actions workflow, run for real: a first
//! "main" run reproduces the pipeline and pushes to a directory remote; a second runner with the
//! committed lock pulls everything and runs no stage.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What a clone has: pipeline (plus a directory remote named `ci`), schema, ignore file, data.
fn clone_into(dir: &Path, remote: &Path) {
    for f in ["schema.yaml", ".dvcignore"] {
        std::fs::copy(repo_root().join(f), dir.join(f)).expect("copy");
    }
    let pipeline = std::fs::read_to_string(repo_root().join("pipeline.toml")).expect("pipeline");
    let pipeline = format!("{pipeline}\n[remotes.ci]\nurl = \"{}\"\n", remote.display());
    std::fs::write(dir.join("pipeline.toml"), pipeline).expect("write pipeline");
    std::fs::create_dir(dir.join("data")).expect("mkdir");
    std::fs::copy(
        repo_root().join("data/phisingData.csv"),
        dir.join("data/phisingData.csv"),
    )
    .expect("copy data");
}

fn reproduce(dir: &Path, push: bool, summary: &Path) -> Output {
    Command::new("bash")
        .arg(repo_root().join("scripts/ci/reproduce.sh"))
        .current_dir(dir)
        .env("NETSEC_BIN", env!("CARGO_BIN_EXE_netsec"))
        .env("NETSEC_REMOTE", "ci")
        .env("NETSEC_PUSH", if push { "true" } else { "false" })
        .env("NETSEC_OUT", "ci-out")
        .env("GITHUB_STEP_SUMMARY", summary)
        .env("NO_COLOR", "1")
        .env_remove("MLFLOW_TRACKING_URI")
        .env_remove("RUST_LOG")
        .output()
        .expect("run reproduce.sh")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn main_run_pushes_and_a_second_runner_pulls_instead_of_rerunning() {
    let tmp = tempfile::tempdir().expect("tmp");
    let remote = tmp.path().join("remote");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir(&a).expect("mkdir");
    std::fs::create_dir(&b).expect("mkdir");
    clone_into(&a, &remote);
    clone_into(&b, &remote);

    // First run on main: nothing on the remote yet (pull only warns), full repro, push.
    let summary = tmp.path().join("summary.md");
    let out = reproduce(&a, true, &summary);
    let err = text(&out.stderr);
    assert!(
        out.status.success(),
        "reproduce.sh failed:\n{err}\n{}",
        text(&out.stdout)
    );
    assert!(
        err.contains("Running `train`"),
        "the first run trains:\n{err}"
    );
    for f in [
        "artifacts_evaluate_metrics.json",
        "artifacts_validate_report.yaml",
        "netsec.lock",
        "report.html",
    ] {
        assert!(a.join("ci-out").join(f).is_file(), "ci-out/{f} missing");
    }
    let metrics: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(a.join("ci-out/artifacts_evaluate_metrics.json")).expect("read"),
    )
    .expect("metrics json");
    assert!(metrics.is_object());
    let summary = std::fs::read_to_string(&summary).expect("step summary");
    assert!(summary.contains("netsec metrics"), "{summary}");
    let snapshots: Vec<_> = std::fs::read_dir(remote.join("snapshots"))
        .expect("snapshots/ on the remote")
        .collect();
    assert_eq!(snapshots.len(), 1, "one push, one snapshot");
    assert!(remote.join("files").is_dir());
    assert!(
        remote.join("final_model").is_dir(),
        "the promoted model is snapshotted"
    );

    // A second runner with what the first committed (the lock, and the metrics file, an
    // uncached out kept in git): pull restores every cached out, so repro has nothing to run,
    // and without NETSEC_PUSH nothing new is pushed.
    std::fs::copy(a.join("netsec.lock"), b.join("netsec.lock")).expect("copy lock");
    std::fs::create_dir_all(b.join("artifacts/evaluate")).expect("mkdir");
    std::fs::copy(
        a.join("artifacts/evaluate/metrics.json"),
        b.join("artifacts/evaluate/metrics.json"),
    )
    .expect("copy metrics");
    let summary_b = tmp.path().join("summary-b.md");
    let out = reproduce(&b, false, &summary_b);
    let err = text(&out.stderr);
    assert!(out.status.success(), "second run failed:\n{err}");
    assert!(
        !err.contains("Running `"),
        "no stage should run after a pull:\n{err}"
    );
    assert_eq!(
        std::fs::read(a.join("artifacts/evaluate/metrics.json")).expect("a"),
        std::fs::read(b.join("artifacts/evaluate/metrics.json")).expect("b"),
        "pulled metrics are byte-identical"
    );
    assert_eq!(
        std::fs::read_dir(remote.join("snapshots"))
            .expect("snapshots")
            .count(),
        1,
        "no push without NETSEC_PUSH"
    );
}
