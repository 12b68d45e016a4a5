//! Your own pipelines, safely (issue: own pipelines): renamed stages, edited outs, raw data.

use crate::support::Project;

const TWO: &str = r#"
[stages.prepare]
cmd = "cp raw.txt prepared.txt"
deps = ["raw.txt"]
outs = ["prepared.txt"]

[stages.summary]
cmd = "wc -l prepared.txt > summary.md"
deps = ["prepared.txt"]
outs = ["summary.md"]
"#;

fn two_ran() -> Project {
    let p = Project::with_pipeline(TWO);
    p.file("raw.txt", "a\nb\n");
    p.repro(&[], 0)
        .expect("prepare", "ran")
        .expect("summary", "ran");
    p
}

#[test]
fn a_renamed_stage_leaves_the_lock_and_is_never_restored() {
    let p = two_ran();
    p.edit("pipeline.toml", "[stages.summary]", "[stages.digest_md]");
    p.edit("pipeline.toml", "wc -l prepared.txt", "wc -c prepared.txt");
    p.repro(&[], 0).expect("digest_md", "ran");
    let lock = p.read("netsec.lock");
    assert!(!lock.contains("\"summary\""), "orphan entry kept:\n{lock}");
    let now = p.read("summary.md");
    p.remove("summary.md");
    let run = p.run(&["checkout", "--json"]);
    run.code(0);
    let v = run.json();
    assert_eq!(v["restored"], serde_json::json!(["summary.md"]), "{v}");
    assert_eq!(p.read("summary.md"), now);
    // The old result is still reachable: reverting the rename restores from the run-cache.
    p.edit("pipeline.toml", "[stages.digest_md]", "[stages.summary]");
    p.edit("pipeline.toml", "wc -c prepared.txt", "wc -l prepared.txt");
    p.repro(&[], 0).expect("summary", "restored");
}

#[test]
fn checkout_and_pull_never_clobber_an_edited_out_without_force() {
    let p = two_ran();
    p.file(
        "pipeline.toml",
        &format!("{TWO}\n[remotes.origin]\nurl = \"remote\"\n"),
    );
    p.run(&["push"]).code(0);
    p.file("summary.md", "my notes\n");
    p.run(&["checkout"])
        .code(1)
        .says("`summary.md` was edited")
        .says("--force");
    assert_eq!(p.read("summary.md"), "my notes\n");
    let pull = p.run(&["pull", "--json"]);
    pull.code(1);
    assert_eq!(pull.json()["refused"], serde_json::json!(["summary.md"]));
    assert_eq!(p.read("summary.md"), "my notes\n");
    p.run(&["checkout", "--force"]).code(0);
    assert!(p.read("summary.md").contains("2 prepared.txt"));
    // An out whose content the cache holds (an older version) is fine to replace.
    p.file("raw.txt", "a\nb\nc\n");
    p.repro(&[], 0).expect("summary", "ran");
    p.file("raw.txt", "a\nb\n");
    p.repro(&[], 0).expect("summary", "restored");
    p.file("raw.txt", "a\nb\nc\n");
    p.run(&["checkout"]).code(0);
}

#[test]
fn a_stage_never_deletes_a_file_netsec_did_not_produce() {
    let p = Project::with_pipeline(
        "[stages.track]\ncmd = \"true\"\ndeps = [\"pipeline.toml\"]\nouts = [\"data.csv\"]\n",
    );
    p.file("data.csv", "precious,rows\n1,2\n");
    p.run(&["repro"])
        .code(1)
        .says("already exists and was not produced by netsec")
        .says("netsec add data.csv");
    assert_eq!(p.read("data.csv"), "precious,rows\n1,2\n");
    // A stage that produced its out before (even when it failed) may rewrite it.
    let q = Project::with_pipeline(
        "[stages.make]\ncmd = \"echo v1 > o.txt; exit 1\"\ndeps = [\"in.txt\"]\nouts = [\"o.txt\"]\n",
    );
    q.file("in.txt", "x\n");
    q.run(&["repro"]).code(1);
    q.edit("pipeline.toml", "exit 1", "true");
    q.repro(&[], 0).expect("make", "ran");
}

#[test]
fn deleting_the_lock_and_rerunning_keeps_working_with_metrics_in_git() {
    let p = Project::with_pipeline(
        "[stages.m]\ncmd = \"echo '{\\\"f1\\\": 1}' > m.json\"\ndeps = [\"in.txt\"]\nouts = [{ path = \"m.json\", metric = true, cache = false }]\n",
    );
    p.file("in.txt", "x\n");
    p.repro(&[], 0).expect("m", "ran");
    // A fresh clone has the committed metrics file but neither claims nor cache.
    p.remove("netsec.lock");
    p.remove(".netsec");
    p.repro(&[], 0).expect("m", "ran");
}
