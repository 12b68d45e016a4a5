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
fn a_removed_stage_leaves_the_lock_even_when_nothing_runs() {
    let p = two_ran();
    let only_prepare = TWO.split("[stages.summary]").next().expect("prepare");
    p.file("pipeline.toml", only_prepare);
    // Nothing is stale: the lock is written for the pruned entry alone.
    p.repro(&[], 0).expect("prepare", "skipped");
    let lock = p.read("netsec.lock");
    assert!(!lock.contains("\"summary\""), "orphan entry kept:\n{lock}");
    assert!(lock.contains("\"prepare\""), "{lock}");
    p.run(&["status"]).code(0).says("up to date");
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

/// DVC's get-started layout: the evaluate stage's metrics are `cache = false` (kept in git).
const METRIC_STAGE: &str = r#"
[params]
lr = 1

[stages.train]
cmd = "echo train >> runs.log; echo model-$(cat lr.txt) > model.bin"
deps = ["lr.txt"]
params = ["lr"]
outs = ["model.bin"]

[stages.evaluate]
cmd = "echo evaluate >> runs.log; printf '{\"score\": \"%s\"}' \"$(cat model.bin)\" > metrics.json; head -c 2000000 /dev/zero > big.dat"
deps = ["model.bin"]
outs = [{ path = "metrics.json", metric = true, cache = false }]
"#;

#[test]
fn a_stage_with_an_uncached_metric_out_is_restored_from_the_run_cache() {
    let p = Project::with_pipeline(METRIC_STAGE);
    p.file("lr.txt", "1");
    p.repro(&[], 0).expect("evaluate", "ran");
    let first = p.read("metrics.json");
    p.file("lr.txt", "2");
    p.repro(&[], 0).expect("evaluate", "ran");
    assert_ne!(p.read("metrics.json"), first);
    // Reverting the input restores both stages, the metric file included, without running.
    p.file("lr.txt", "1");
    p.repro(&[], 0)
        .expect("train", "restored")
        .expect("evaluate", "restored");
    assert_eq!(p.read("metrics.json"), first);
    assert_eq!(p.run_count("evaluate"), 2);
    assert!(p.status().up_to_date());

    // A run entry's kept text is checked against its digest: a tampered entry is not used.
    let entries: Vec<_> = walk(&p.path(".netsec/cache/runs-v1"))
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("\"inline\"")))
        .collect();
    assert_eq!(
        entries.len(),
        2,
        "one entry per evaluate run keeps its metrics"
    );
    for f in &entries {
        let t = std::fs::read_to_string(f).unwrap();
        std::fs::write(f, t.replace("model-", "m0del-")).unwrap();
    }
    p.file("lr.txt", "2");
    p.repro(&[], 0)
        .expect("train", "restored")
        .expect("evaluate", "ran");
    assert!(p.read("metrics.json").contains("model-2"));

    // An uncached out too large to keep: the stage is not run-cached (it reruns).
    p.edit(
        "pipeline.toml",
        "outs = [{ path = \"metrics.json\", metric = true, cache = false }]",
        "outs = [{ path = \"metrics.json\", metric = true, cache = false }, { path = \"big.dat\", cache = false }]",
    );
    p.repro(&[], 0).expect("evaluate", "ran");
    p.file("lr.txt", "1");
    p.repro(&[], 0).expect("evaluate", "ran");
    p.file("lr.txt", "2");
    p.repro(&[], 0).expect("evaluate", "ran");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

const IGNORED: &str = r#"
[stages.prepare]
cmd = "mkdir -p data && cp raw.txt data/prepared.txt"
deps = ["raw.txt"]
outs = ["data/prepared.txt"]

[stages.summary]
cmd = "wc -l data/prepared.txt > summary.md"
deps = ["data/prepared.txt"]
outs = [{ path = "summary.md", cache = false }]

[stages.extra]
cmd = "cp raw.txt 'odd #name.txt'"
deps = ["raw.txt"]
outs = ["odd #name.txt"]
"#;

#[test]
fn cached_outs_get_a_gitignore_block_that_follows_the_pipeline() {
    let p = Project::with_pipeline(IGNORED);
    p.git(&["init", "-q", "-b", "main"]);
    p.file(".gitignore", "*.log\n.netsec/\n");
    p.file("raw.txt", "a\n");
    p.repro(&[], 0);
    let root = p.read(".gitignore");
    assert!(
        root.starts_with("*.log\n.netsec/\n# >>> netsec")
            && root.contains("\n/odd\\ \\#name.txt\n"),
        "{root}"
    );
    assert!(
        !root.contains("summary.md"),
        "uncached outs stay tracked:\n{root}"
    );
    assert!(p.read("data/.gitignore").contains("\n/prepared.txt\n"));
    // git sees the uncached metric and the pipeline, never a cached out.
    let untracked = p.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(untracked.contains("summary.md"), "{untracked}");
    assert!(
        !untracked.contains("prepared.txt") && !untracked.contains("name.txt"),
        "{untracked}"
    );
    // A second run changes nothing; a removed stage leaves the block, user lines stay.
    p.repro(&[], 0);
    assert_eq!(p.read(".gitignore"), root);
    let cut = IGNORED.split("[stages.extra]").next().unwrap();
    p.file("pipeline.toml", cut);
    p.repro(&[], 0);
    assert_eq!(p.read(".gitignore"), "*.log\n.netsec/\n");
    // With no cached out left in a directory, the file netsec created there goes too.
    p.file(
        "pipeline.toml",
        &cut.replace(
            "outs = [\"data/prepared.txt\"]",
            "outs = [{ path = \"data/prepared.txt\", cache = false }]",
        ),
    );
    p.repro(&[], 0);
    assert!(!p.exists("data/.gitignore"));
}

#[test]
fn commit_records_outs_made_outside_netsec() {
    let p = Project::with_pipeline(TWO);
    p.file("raw.txt", "a\nb\n");
    // The commands were run by hand (a long job on another machine, say).
    p.file("prepared.txt", "a\nb\n");
    p.file("summary.md", "2 prepared.txt\n");
    let run = p.run(&["commit", "--json"]);
    run.code(0);
    let v = run.json();
    assert_eq!(v["stages"][0]["stage"], "prepare", "{v}");
    assert_eq!(v["stages"][0]["outcome"], "committed", "{v}");
    assert_eq!(v["stages"][1]["outcome"], "committed", "{v}");
    assert!(p.status().up_to_date());
    p.repro(&[], 0)
        .expect("prepare", "skipped")
        .expect("summary", "skipped");
    // The outs are in the cache: checkout brings them back.
    p.remove("prepared.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("prepared.txt"), "a\nb\n");
    p.run(&["commit"]).code(0).says("nothing to commit");

    // Same checks as a run: a missing out or dep is refused, the lock entry is kept.
    let lock = p.read("netsec.lock");
    p.file("raw.txt", "c\n");
    p.remove("prepared.txt");
    p.run(&["commit", "prepare"])
        .code(1)
        .says("cannot commit `prepare`: its out `prepared.txt` is missing");
    p.remove("raw.txt");
    p.run(&["commit", "prepare"])
        .code(3)
        .says("dep `raw.txt` does not exist");
    assert_eq!(p.read("netsec.lock"), lock);
    p.file("raw.txt", "c\n");
    p.run(&["commit", "nope"])
        .code(2)
        .says("unknown stage `nope`");
}

#[test]
fn add_tracks_raw_data_through_status_push_pull_checkout_and_gitignore() {
    let p = Project::with_pipeline(&format!("{TWO}\n[remotes.origin]\nurl = \"remote\"\n"));
    p.git(&["init", "-q", "-b", "main"]);
    p.file("raw.txt", "a\nb\n");
    p.file("images/1.txt", "one\n");
    p.file("images/2.txt", "two\n");
    let run = p.run(&["add", "raw.txt", "images", "--json"]);
    run.code(0);
    let v = run.json();
    assert_eq!(v["added"][0]["path"], "raw.txt", "{v}");
    assert_eq!(v["added"][1]["nfiles"], 2, "{v}");
    assert!(p.read("netsec.lock").contains("\"sources\""));
    assert!(
        p.read(".gitignore").contains("\n/raw.txt\n/images\n")
            || p.read(".gitignore").contains("\n/images\n/raw.txt\n")
    );
    // A stage may depend on it; adding it again changes nothing.
    p.repro(&[], 0).expect("prepare", "ran");
    let again = p.run(&["add", "raw.txt", "--json"]);
    assert_eq!(again.code(0).json()["added"][0]["changed"], false);
    p.run(&["status", "-q"]).code(0);

    // Edited: status says so (and -q exits 1) until it is added again.
    p.file("raw.txt", "a\nb\nc\n");
    let st = p.run(&["status", "--json"]);
    let v = st.code(0).json();
    assert_eq!(v["sources"][0]["path"], "images", "{v}");
    assert_eq!(v["sources"][0]["state"], "fresh", "{v}");
    assert_eq!(v["sources"][1]["state"], "modified", "{v}");
    p.run(&["status"]).code(0).says("Modified data `raw.txt`");
    p.run(&["status", "-q"]).code(1);
    p.run(&["add", "raw.txt"]).code(0);

    // Round trip through a remote into a fresh copy of the workspace.
    p.run(&["push"]).code(0);
    p.remove("raw.txt");
    p.remove("images");
    p.run(&["status"]).code(0).says("Missing data `raw.txt`");
    let pulled = p.run(&["pull", "--json"]);
    pulled.code(0);
    assert_eq!(p.read("raw.txt"), "a\nb\nc\n");
    assert_eq!(p.read("images/2.txt"), "two\n");
    p.remove("images/1.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("images/1.txt"), "one\n");

    // gc keeps what sources need.
    p.run(&["gc", "-w", "-f"]).code(0);
    p.remove("raw.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("raw.txt"), "a\nb\nc\n");

    // An out of a stage is not data to add; nor is netsec's own state or a missing path.
    p.run(&["add", "prepared.txt"])
        .code(2)
        .says("out of stage `prepare`");
    p.run(&["add", ".netsec"]).code(2);
    p.run(&["add", "nope.txt"]).code(2).says("does not exist");
    p.run(&["add", "../x"])
        .code(2)
        .says("outside the workspace");

    // remove: untracked, the file stays, the ignore line goes.
    p.run(&["remove", "images"]).code(0);
    assert!(p.exists("images/1.txt"));
    assert!(!p.read(".gitignore").contains("/images"));
    assert!(!p.read("netsec.lock").contains("images"));
}

#[test]
fn remote_edits_keep_the_file_and_local_ones_stay_out_of_it() {
    let p = two_ran();
    p.edit(
        "pipeline.toml",
        "[stages.prepare]",
        "# the first stage\n[stages.prepare]",
    );
    p.run(&["remote", "add", "origin", "team-remote", "--default"])
        .code(0);
    let shared = p.read("pipeline.toml");
    assert!(
        shared.contains("# the first stage\n[stages.prepare]"),
        "{shared}"
    );
    assert!(
        shared.contains("[remotes.origin]\nurl = \"team-remote\"\ndefault = true\n"),
        "{shared}"
    );

    // Personal settings go to .netsec/config.local.toml and win over the shared file.
    p.run(&["remote", "add", "mine", "my-remote", "--local", "--default"])
        .code(0);
    assert_eq!(p.read("pipeline.toml"), shared);
    let list = p.run(&["remote", "list", "--json"]);
    let v = list.code(0).json();
    let default: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["default"] == true)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(default, ["mine"], "{v}");
    p.run(&["push"]).code(0);
    assert!(p.exists("my-remote/files") && !p.exists("team-remote"));

    p.run(&["remote", "modify", "origin", "url", "elsewhere", "--local"])
        .code(0);
    p.run(&["remote", "remove", "mine", "--local"]).code(0);
    p.run(&["remote", "list"])
        .code(0)
        .says("origin\telsewhere  (default)");
    assert_eq!(p.read("pipeline.toml"), shared);

    // Mistakes: exit 2 with a reason; an edit that would not load is refused, file unchanged.
    p.run(&["remote", "remove", "nope"])
        .code(2)
        .says("no remote `nope`");
    p.run(&["remote", "add", "origin", "x"])
        .code(2)
        .says("already exists");
    p.run(&["remote", "modify", "origin", "url", "ftp://x/y"])
        .code(3)
        .says("unsupported URL scheme");
    assert_eq!(p.read("pipeline.toml"), shared);
    p.run(&["remote", "remove", "origin"]).code(0);
    assert!(!p.read("pipeline.toml").contains("remotes"));
}
