//! Freshness scenarios: what reruns, what does not, and the reasons reported.

use crate::support::{assert_reason, tick, Project};
use crate::{chain_ran, CHAIN};

#[test]
fn first_run_runs_every_stage_in_dependency_order() {
    let p = Project::with_pipeline(CHAIN);
    p.file("raw.txt", "alpha\n");
    let st = p.status();
    assert!(!st.up_to_date());
    assert_eq!(st.of("prepare"), "dirty");
    assert_reason(&st.reasons("prepare"), "never_run", None);

    let r = p.repro(&[], 0);
    r.expect("prepare", "ran").expect("train", "ran");
    assert_reason(&r.reasons("prepare"), "never_run", None);
    assert_eq!(r.list("ran"), ["prepare", "train"]);
    assert!(r.list("failed").is_empty());
    assert_eq!(p.runs(), ["prepare", "train"]);
    assert_eq!(p.read("prepared.txt"), "alpha\n");
    assert!(p.read("model.txt").starts_with("alpha\ntrain = { c = 1.0"));
    assert!(p.exists("netsec.lock"), "lock file written");

    let st = p.status();
    assert!(st.up_to_date(), "{:?}", st.json);
    p.run(&["status"]).code(0).says("Pipeline is up to date.");
}

#[test]
fn noop_rerun_runs_nothing() {
    let p = chain_ran();
    let lock = p.read("netsec.lock");
    let r = p.repro(&[], 0);
    r.expect("prepare", "skipped").expect("train", "skipped");
    assert!(r.list("ran").is_empty());
    assert_eq!(r.list("skipped"), ["prepare", "train"]);
    assert_eq!(p.runs(), ["prepare", "train"]);
    assert_eq!(
        p.read("netsec.lock"),
        lock,
        "a no-op run leaves the lock byte-identical"
    );
    // The human form of a no-op run succeeds too.
    p.run(&["repro"]).code(0);
    assert_eq!(p.runs().len(), 2);
}

#[test]
fn editing_a_dep_reruns_the_stage_and_its_changed_downstream() {
    let p = chain_ran();
    p.file("raw.txt", "alpha\nbeta\ngamma\n");

    let st = p.status();
    assert!(!st.up_to_date());
    assert_eq!(st.of("prepare"), "dirty");
    assert_reason(
        &st.reasons("prepare"),
        "dep_changed",
        Some(("path", "raw.txt")),
    );
    p.run(&["status"])
        .code(0)
        .says("Dirty `prepare`")
        .says("dep `raw.txt` changed");

    let r = p.repro(&[], 0);
    r.expect("prepare", "ran").expect("train", "ran");
    assert_reason(
        &r.reasons("prepare"),
        "dep_changed",
        Some(("path", "raw.txt")),
    );
    assert_reason(
        &r.reasons("train"),
        "dep_changed",
        Some(("path", "prepared.txt")),
    );
    assert!(p.read("model.txt").starts_with("alpha\nbeta\ngamma\n"));
    assert!(p.status().up_to_date());
}

#[test]
fn same_size_edit_is_noticed() {
    let p = chain_ran();
    tick();
    p.file("raw.txt", "ALPHA\nBETA\n");
    let r = p.repro(&[], 0);
    r.expect("prepare", "ran");
    assert_eq!(p.read("prepared.txt"), "ALPHA\nBETA\n");
}

#[test]
fn touch_without_change_does_not_rerun() {
    let p = chain_ran();
    p.touch("raw.txt");
    p.touch("prepared.txt");
    assert!(p.status().up_to_date());
    let r = p.repro(&[], 0);
    r.expect("prepare", "skipped").expect("train", "skipped");
    assert_eq!(p.runs().len(), 2);
}

#[test]
fn changing_the_command_reruns_with_old_and_new_text() {
    let p = chain_ran();
    p.edit(
        "pipeline.toml",
        "cat raw.txt > prepared.txt",
        "sort raw.txt > prepared.txt",
    );
    let st = p.status();
    let reasons = st.reasons("prepare");
    assert_reason(&reasons, "command_changed", None);
    let r = reasons
        .iter()
        .find(|r| r["kind"] == "command_changed")
        .expect("command_changed");
    // A command is a string or a list of strings; either way the texts are reported.
    let text = |v: &serde_json::Value| v.to_string();
    assert!(text(&r["old"]).contains("cat raw.txt"), "{r}");
    assert!(text(&r["new"]).contains("sort raw.txt"), "{r}");
    assert!(!text(&r["old"]).contains("sort raw.txt"), "{r}");
    p.repro(&[], 0).expect("prepare", "ran");
    assert_eq!(p.run_count("prepare"), 2);
}

#[test]
fn deleting_an_out_makes_the_stage_dirty_and_repro_brings_it_back() {
    let p = chain_ran();
    let model = p.read("model.txt");
    p.remove("model.txt");
    let st = p.status();
    assert_eq!(st.of("train"), "dirty");
    assert_reason(
        &st.reasons("train"),
        "out_missing",
        Some(("path", "model.txt")),
    );
    let r = p.repro(&[], 0);
    // Either a rerun or a run-cache restore is correct here; the out must be back either way.
    let outcome = r.outcome("train");
    assert!(outcome == "ran" || outcome == "restored", "{}", r.raw);
    assert_eq!(p.read("model.txt"), model);
    assert!(p.status().up_to_date());
}

#[test]
fn modifying_an_out_makes_the_stage_dirty_and_repro_repairs_it() {
    let p = chain_ran();
    let prepared = p.read("prepared.txt");
    p.file("prepared.txt", "tampered\n");
    let st = p.status();
    assert_eq!(st.of("prepare"), "dirty");
    assert_reason(
        &st.reasons("prepare"),
        "out_modified",
        Some(("path", "prepared.txt")),
    );
    let r = p.repro(&[], 0);
    let outcome = r.outcome("prepare");
    assert!(outcome == "ran" || outcome == "restored", "{}", r.raw);
    assert_eq!(p.read("prepared.txt"), prepared);
    // prepared.txt is back to the content train consumed, so train stays fresh.
    r.expect("train", "skipped");
    assert!(p.status().up_to_date());
}

#[test]
fn early_cutoff_skips_downstream_when_outs_are_identical() {
    let p = Project::with_pipeline(
        r#"
[stages.head]
cmd = "echo head >> runs.log && head -n1 raw.txt > first.txt"
deps = ["raw.txt"]
outs = ["first.txt"]

[stages.use]
cmd = "echo use >> runs.log && cp first.txt used.txt"
deps = ["first.txt"]
outs = ["used.txt"]
"#,
    );
    p.file("raw.txt", "one\ntwo\n");
    p.repro(&[], 0);
    p.file("raw.txt", "one\nthree and more\n");
    let r = p.repro(&[], 0);
    r.expect("head", "ran").expect("use", "skipped");
    assert_eq!(p.runs(), ["head", "use", "head"]);
    assert!(p.status().up_to_date());
}

#[test]
fn run_cache_restores_a_previously_seen_dep_version_without_running() {
    let p = chain_ran();
    let v1_model = p.read("model.txt");
    p.file("raw.txt", "second version\n");
    p.repro(&[], 0)
        .expect("prepare", "ran")
        .expect("train", "ran");
    p.file("raw.txt", "alpha\nbeta\n");
    let r = p.repro(&[], 0);
    r.expect("prepare", "restored").expect("train", "restored");
    assert_eq!(r.list("restored"), ["prepare", "train"]);
    assert_eq!(
        p.run_count("prepare"),
        2,
        "restored, not run: {:?}",
        p.runs()
    );
    assert_eq!(p.run_count("train"), 2, "restored, not run: {:?}", p.runs());
    assert_eq!(p.read("model.txt"), v1_model);
    assert!(p.status().up_to_date());
}

#[test]
fn run_cache_restores_a_reverted_param() {
    let p = chain_ran();
    let v1_model = p.read("model.txt");
    p.edit("pipeline.toml", "c = 1.0", "c = 0.5");
    p.repro(&[], 0)
        .expect("train", "ran")
        .expect("prepare", "skipped");
    assert!(p.read("model.txt").contains("c = 0.5"));
    p.edit("pipeline.toml", "c = 0.5", "c = 1.0");
    p.repro(&[], 0).expect("train", "restored");
    assert_eq!(p.run_count("train"), 2);
    assert_eq!(p.read("model.txt"), v1_model);
}

#[test]
fn force_reruns_everything_and_bypasses_the_run_cache() {
    let p = chain_ran();
    let r = p.repro(&["--force"], 0);
    r.expect("prepare", "ran").expect("train", "ran");
    assert_reason(&r.reasons("prepare"), "forced", None);
    assert_eq!(p.runs().len(), 4);
    p.repro(&["-f", "train"], 0).expect("train", "ran");
    assert_eq!(p.run_count("train"), 3);
}

#[test]
fn always_changed_runs_every_time_but_cuts_off_identical_outs() {
    let p = Project::with_pipeline(
        r#"
[stages.fetch]
cmd = "echo fetch >> runs.log && echo latest > fetched.txt"
outs = ["fetched.txt"]
always_changed = true

[stages.digest]
cmd = "echo digest >> runs.log && wc -c < fetched.txt > size.txt"
deps = ["fetched.txt"]
outs = ["size.txt"]
"#,
    );
    p.repro(&[], 0);
    let st = p.status();
    assert_eq!(st.of("fetch"), "dirty");
    assert_reason(&st.reasons("fetch"), "always_changed", None);
    let r = p.repro(&[], 0);
    r.expect("fetch", "ran").expect("digest", "skipped");
    assert_reason(&r.reasons("fetch"), "always_changed", None);
    assert_eq!(p.runs(), ["fetch", "digest", "fetch"]);
}

#[test]
fn frozen_stage_is_never_rerun() {
    let p = chain_ran();
    p.edit(
        "pipeline.toml",
        "outs = [\"prepared.txt\"]",
        "outs = [\"prepared.txt\"]\nfrozen = true",
    );
    p.file("raw.txt", "changed upstream of a frozen stage\n");
    let st = p.status();
    assert_eq!(st.of("prepare"), "frozen");
    let r = p.repro(&[], 0);
    r.expect("prepare", "frozen").expect("train", "skipped");
    assert_eq!(p.run_count("prepare"), 1);
    assert_eq!(p.read("prepared.txt"), "alpha\nbeta\n");
    // Even --force does not run a frozen stage.
    p.repro(&["--force", "prepare"], 0)
        .expect("prepare", "frozen");
    assert_eq!(p.run_count("prepare"), 1);
}

#[test]
fn no_run_cache_flag_runs_instead_of_restoring() {
    let p = chain_ran();
    p.file("raw.txt", "other\n");
    p.repro(&[], 0);
    p.file("raw.txt", "alpha\nbeta\n");
    p.repro(&["--no-run-cache"], 0)
        .expect("prepare", "ran")
        .expect("train", "ran");
    assert_eq!(p.run_count("prepare"), 3);
}

#[test]
fn lock_is_deterministic_and_holds_no_absolute_paths() {
    let a = chain_ran();
    let b = chain_ran();
    let lock = a.read("netsec.lock");
    assert_eq!(lock, b.read("netsec.lock"), "same inputs, different locks");
    let root = a.root().to_string_lossy().into_owned();
    assert!(
        !lock.contains(&root),
        "lock mentions the workspace path:\n{lock}"
    );
    // Rerunning with --force rewrites identical entries.
    a.repro(&["--force"], 0);
    assert_eq!(a.read("netsec.lock"), lock);
}

#[test]
fn commands_work_from_a_subdirectory() {
    let p = chain_ran();
    std::fs::create_dir_all(p.path("nested/deeper")).expect("mkdir");
    p.file("raw.txt", "from below\n");
    let out = p
        .command(&["repro"])
        .current_dir(p.path("nested/deeper"))
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(p.read("prepared.txt"), "from below\n");
    assert!(!p.exists("nested/deeper/prepared.txt"));
}

#[test]
fn desc_and_out_flags_that_do_not_change_outputs_do_not_rerun() {
    let p = chain_ran();
    p.edit(
        "pipeline.toml",
        "[stages.train]\n",
        "[stages.train]\ndesc = \"fit the model\"\n",
    );
    assert!(p.status().up_to_date(), "{:?}", p.status().json);
    p.repro(&[], 0).expect("train", "skipped");
}

#[test]
fn renaming_an_out_is_a_change() {
    let p = chain_ran();
    p.edit(
        "pipeline.toml",
        "cat raw.txt > prepared.txt",
        "cat raw.txt > prepared2.txt",
    );
    p.edit(
        "pipeline.toml",
        "outs = [\"prepared.txt\"]",
        "outs = [\"prepared2.txt\"]",
    );
    p.edit(
        "pipeline.toml",
        "deps = [\"prepared.txt\"]",
        "deps = [\"prepared2.txt\"]",
    );
    p.edit(
        "pipeline.toml",
        "cat prepared.txt > model.txt",
        "cat prepared2.txt > model.txt",
    );
    let st = p.status();
    assert_eq!(st.of("prepare"), "dirty");
    assert_eq!(st.of("train"), "dirty");
    let r = p.repro(&[], 0);
    r.expect("prepare", "ran");
    assert_eq!(p.read("prepared2.txt"), "alpha\nbeta\n");
    assert!(p.status().up_to_date());
}

#[test]
fn frozen_stage_with_a_missing_out_fails_until_checked_out() {
    let p = chain_ran();
    p.edit(
        "pipeline.toml",
        "outs = [\"prepared.txt\"]",
        "outs = [\"prepared.txt\"]\nfrozen = true",
    );
    p.remove("prepared.txt");
    let st = p.status();
    assert_eq!(st.of("prepare"), "frozen");
    assert_reason(
        &st.reasons("prepare"),
        "out_missing",
        Some(("path", "prepared.txt")),
    );
    p.run(&["status"]).code(0).says("Frozen `prepare`");
    let r = p.repro(&[], 1);
    r.expect("prepare", "failed").expect("train", "not_run");
    p.run(&["repro"])
        .code(1)
        .says("prepare")
        .says("prepared.txt");
    assert_eq!(p.run_count("prepare"), 1, "a frozen stage never runs");
    p.run(&["checkout", "prepare"]).code(0);
    assert_eq!(p.read("prepared.txt"), "alpha\nbeta\n");
    p.repro(&[], 0)
        .expect("prepare", "frozen")
        .expect("train", "skipped");
}

#[test]
fn rapid_same_size_rewrites_are_never_missed() {
    // Writes land within the same coarse mtime tick as the previous hash: the mtime memo must not
    // trust a file that may still change under the same (inode, size, mtime).
    let p = chain_ran();
    for i in 0..12 {
        let content = format!("round {:02}\n", i);
        p.file("raw.txt", &content);
        p.repro(&["-s", "prepare"], 0).expect("prepare", "ran");
        assert_eq!(p.read("prepared.txt"), content);
        assert!(p.status().reasons("prepare").is_empty(), "round {i}");
    }
}

#[test]
fn dep_and_out_list_edits_are_reasons() {
    let p = chain_ran();
    p.file("extra.txt", "extra\n");
    p.edit(
        "pipeline.toml",
        "deps = [\"raw.txt\"]",
        "deps = [\"raw.txt\", \"extra.txt\"]",
    );
    assert_reason(
        &p.status().reasons("prepare"),
        "dep_added",
        Some(("path", "extra.txt")),
    );
    p.repro(&[], 0).expect("prepare", "ran");

    p.edit(
        "pipeline.toml",
        "deps = [\"raw.txt\", \"extra.txt\"]",
        "deps = [\"raw.txt\"]",
    );
    assert_reason(
        &p.status().reasons("prepare"),
        "dep_removed",
        Some(("path", "extra.txt")),
    );
    p.repro(&[], 0);

    p.edit(
        "pipeline.toml",
        "cat raw.txt > prepared.txt\"",
        "cat raw.txt > prepared.txt && echo side > side.txt\"",
    );
    p.edit(
        "pipeline.toml",
        "outs = [\"prepared.txt\"]",
        "outs = [\"prepared.txt\", \"side.txt\"]",
    );
    assert_reason(&p.status().reasons("prepare"), "outs_changed", None);
    p.repro(&[], 0).expect("prepare", "ran");
    assert!(p.status().up_to_date());

    // An upstream out deleted: the downstream stage sees its dep missing.
    p.remove("prepared.txt");
    let st = p.status();
    assert_reason(
        &st.reasons("prepare"),
        "out_missing",
        Some(("path", "prepared.txt")),
    );
    assert_reason(
        &st.reasons("train"),
        "dep_missing",
        Some(("path", "prepared.txt")),
    );
    p.repro(&[], 0).expect("train", "skipped");
    assert!(p.status().up_to_date());
}
