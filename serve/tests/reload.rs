//! Hot reload from disk: a new `bundle.json` goes live within a poll or two; a broken or
//! missing one keeps the current model.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::Router;
use common::*;
use serde_json::json;

async fn version(app: &Router) -> serde_json::Value {
    get(app, "/model").await.json()["version"].clone()
}

async fn wait_version(app: &Router, want: &str) {
    let start = Instant::now();
    while version(app).await != json!(want) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "model never became {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The version the server must report for these bundle bytes.
fn digest16(bytes: &[u8]) -> String {
    let bundle: netsec_stages::ModelBundle = serde_json::from_slice(bytes).expect("bundle");
    netsec_serve::model::ModelCard::of(&bundle, std::path::Path::new("x"))
        .expect("card")
        .version
}

fn replace_atomically(path: &std::path::Path, bytes: &[u8]) {
    let tmp = path.with_extension("incoming");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_bundle_on_disk_is_swapped_in_and_a_broken_one_is_ignored() {
    let repo = temp_repo(false);
    let bundle = repo.path().join("final_model/bundle.json");
    let (app, state) = app(config(repo.path()));
    let watcher = tokio::spawn(netsec_serve::slot::watch(
        state.slot.clone(),
        Duration::from_millis(100),
    ));
    assert_eq!(
        get(&app, "/health").await.json()["model_loaded"],
        json!(false)
    );

    // First bundle appears: loaded without a restart.
    std::fs::create_dir_all(bundle.parent().expect("dir")).expect("mkdir");
    let v0 = bundle_bytes(0);
    replace_atomically(&bundle, &v0);
    wait_version(&app, &digest16(&v0)).await;
    assert_eq!(
        get(&app, "/health").await.json()["model_loaded"],
        json!(true)
    );

    // A new one replaces it.
    let v1 = bundle_bytes(1);
    assert_ne!(digest16(&v0), digest16(&v1));
    replace_atomically(&bundle, &v1);
    wait_version(&app, &digest16(&v1)).await;
    let r = post(&app, "/predict", "text/csv", SAMPLE).await;
    assert_eq!(r.json()["model"]["version"], json!(digest16(&v1)));

    // Broken JSON, then a valid JSON that is no bundle: the current model stays.
    for junk in [
        &b"{\"format_version\": "[..],
        &b"{\"format_version\": 1}"[..],
        &b"{\"format_version\": 2}"[..],
    ] {
        replace_atomically(&bundle, junk);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(version(&app).await, json!(digest16(&v1)));
        assert_eq!(
            post(&app, "/predict", "text/csv", SAMPLE).await.status,
            StatusCode::OK
        );
    }
    // Removed: still served.
    std::fs::remove_file(&bundle).expect("rm");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(version(&app).await, json!(digest16(&v1)));
    // Back to the first one.
    replace_atomically(&bundle, &v0);
    wait_version(&app, &digest16(&v0)).await;
    watcher.abort();
}
