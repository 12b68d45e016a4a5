//! `netsec metrics diff REV` reads the revision's metric outs through that revision's
//! netsec.lock: from the cache by the recorded digest when git does not hold the file (a cached
//! metric out is git-ignored), and a revision whose lock is unusable is named, not trusted.

use crate::support::Project;

const PIPELINE: &str = r#"[stages.score]
cmd = "cp in.json m.json"
deps = ["in.json"]
outs = [{ path = "m.json", metric = true }]
"#;

#[test]
fn metrics_diff_reads_a_cached_metric_out_of_a_revision_from_the_cache() {
    let p = Project::with_pipeline(PIPELINE);
    p.file("in.json", r#"{"score": 0.5}"#);
    p.git(&["init", "-q"]);
    p.run(&["repro"]).code(0);
    // m.json is cached, so git ignores it: HEAD's value exists only in the cache.
    p.git(&[
        "add",
        "pipeline.toml",
        "netsec.lock",
        ".gitignore",
        "in.json",
    ]);
    p.git(&["commit", "-qm", "one"]);
    assert!(p.git(&["ls-files", "m.json"]).trim().is_empty());
    p.file("in.json", r#"{"score": 0.75}"#);
    p.run(&["repro"]).code(0);

    let rows = p.run(&["metrics", "diff", "HEAD", "--json"]).code(0).json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["key"], "score");
    assert!(
        (rows[0]["delta"].as_f64().unwrap() - 0.25).abs() < 1e-9,
        "{rows:?}"
    );

    // A revision whose lock is not a valid lock: said, and its metrics are not read.
    let good = p.read("netsec.lock");
    p.file("netsec.lock", "{\"version\": 1, \"stages\": [");
    p.git(&["add", "netsec.lock"]);
    p.git(&["commit", "-qm", "broken lock"]);
    p.file("netsec.lock", &good);
    let run = p.run(&["metrics", "diff", "HEAD"]);
    run.code(0).says("netsec.lock at HEAD is unreadable");
}
