//! Per-out flags: `cache = false` (hash only), `persist = true` (kept across runs), `metric`.

use crate::support::{assert_reason, Project};

#[test]
fn uncached_out_is_tracked_but_not_stored() {
    let p = Project::with_pipeline(
        r#"
[stages.score]
cmd = "echo score >> runs.log && echo '{\"acc\": 0.93}' > metrics.json && echo cached-model-bytes > model.bin"
deps = ["in.txt"]
outs = ["model.bin", { path = "metrics.json", cache = false, metric = true }]
"#,
    );
    p.file("in.txt", "x\n");
    p.repro(&[], 0).expect("score", "ran");
    assert!(
        p.cache_holds(b"cached-model-bytes\n"),
        "cached out is in the cache"
    );
    assert!(
        !p.cache_holds(b"{\"acc\": 0.93}\n"),
        "cache = false out must not be stored: {:?}",
        p.cache_objects()
    );
    // Still hashed for staleness.
    p.file("metrics.json", "{\"acc\": 1.0}\n");
    let st = p.status();
    assert_eq!(st.of("score"), "dirty");
    assert_reason(
        &st.reasons("score"),
        "out_modified",
        Some(("path", "metrics.json")),
    );
    p.repro(&[], 0);
    assert_eq!(p.read("metrics.json"), "{\"acc\": 0.93}\n");
}

#[test]
fn persist_out_survives_reruns_and_plain_out_is_recreated() {
    let p = Project::with_pipeline(
        r#"
[stages.grow]
cmd = "echo tick >> history.txt && echo tick >> fresh.txt"
deps = ["in.txt"]
outs = [{ path = "history.txt", persist = true }, "fresh.txt"]
"#,
    );
    p.file("in.txt", "1\n");
    p.repro(&[], 0).expect("grow", "ran");
    p.file("in.txt", "2\n");
    p.repro(&[], 0).expect("grow", "ran");
    assert_eq!(p.read("history.txt"), "tick\ntick\n", "persist out kept");
    assert_eq!(
        p.read("fresh.txt"),
        "tick\n",
        "plain out deleted before the run"
    );
    // Persist disables the run-cache: reverting the dep runs the command again.
    p.file("in.txt", "1\n");
    p.repro(&[], 0).expect("grow", "ran");
    assert_eq!(p.read("history.txt"), "tick\ntick\ntick\n");
    p.assert_cache_intact();
}

#[test]
fn outs_are_not_deleted_when_a_stage_is_skipped() {
    let p = Project::with_pipeline(
        r#"
[stages.keep]
cmd = "echo once > kept.txt"
deps = ["in.txt"]
outs = ["kept.txt"]
"#,
    );
    p.file("in.txt", "x\n");
    p.repro(&[], 0);
    p.repro(&[], 0).expect("keep", "skipped");
    assert_eq!(p.read("kept.txt"), "once\n");
}

#[test]
fn parent_directories_of_outs_are_created() {
    let p = Project::with_pipeline(
        r#"
[stages.deep]
cmd = "cp in.txt deep/nested/out.txt"
deps = ["in.txt"]
outs = ["deep/nested/out.txt"]
"#,
    );
    p.file("in.txt", "x\n");
    p.repro(&[], 0).expect("deep", "ran");
    assert_eq!(p.read("deep/nested/out.txt"), "x\n");
}

#[test]
fn uncached_text_out_is_restored_from_its_run_entry_and_a_binary_one_reruns() {
    let p = Project::with_pipeline(
        r#"
[stages.emit]
cmd = "echo emit >> runs.log && cp in.txt plain.txt && cp in.txt cached.txt"
deps = ["in.txt"]
outs = ["cached.txt", { path = "plain.txt", cache = false }]
"#,
    );
    p.file("in.txt", "one\n");
    p.repro(&[], 0);
    p.file("in.txt", "two\n");
    p.repro(&[], 0);
    p.file("in.txt", "one\n");
    // plain.txt (text, small) is kept in the run entry: both outs come back without a run.
    p.repro(&[], 0).expect("emit", "restored");
    assert_eq!(p.read("plain.txt"), "one\n");
    assert_eq!(p.run_count("emit"), 2);

    // Binary content cannot be kept as text: no entry, so the stage must run to produce it.
    p.edit(
        "pipeline.toml",
        "cp in.txt plain.txt",
        "printf '\\\\377' > plain.txt",
    );
    p.repro(&[], 0).expect("emit", "ran");
    p.file("in.txt", "two\n");
    p.repro(&[], 0).expect("emit", "ran");
    p.file("in.txt", "one\n");
    p.repro(&[], 0).expect("emit", "ran");
    assert_eq!(p.run_count("emit"), 5);
}
