//! `init`, the `status --json` shape, `explain`, and the stdout/stderr split.

use crate::chain_ran;
use crate::support::Project;

#[test]
fn init_in_an_empty_dir_creates_a_working_skeleton() {
    let p = Project::empty();
    p.run(&["init"]).code(0);
    assert!(p.exists("pipeline.toml"));
    assert!(p.path(".netsec").is_dir());
    assert!(p.exists(".dvcignore"));
    let gitignore = p.read(".gitignore");
    assert!(
        gitignore.contains(".netsec"),
        ".gitignore lacks .netsec:\n{gitignore}"
    );
    // The skeleton is a valid pipeline.
    p.run(&["status"]).code(0);
    p.run(&["dag"]).code(0);
}

#[test]
fn init_keeps_an_existing_pipeline() {
    let p = Project::with_pipeline(crate::CHAIN);
    p.file(".gitignore", "target/\n");
    let run = p.run(&["init"]);
    assert_eq!(
        p.read("pipeline.toml"),
        crate::CHAIN,
        "init clobbered pipeline.toml ({run:?})"
    );
    assert!(
        p.read(".gitignore").starts_with("target/\n"),
        "existing .gitignore lines kept"
    );
}

#[test]
fn status_json_has_the_documented_shape() {
    let p = chain_ran();
    p.file("raw.txt", "new\n");
    p.edit("pipeline.toml", "c = 1.0", "c = 2.0");
    let st = p.status();
    // The raw JSON, not the protocol type: this test pins the documented shape itself.
    let v = p.run(&["status", "--json"]).json();
    assert_eq!(v["up_to_date"], false);
    let stages = v["stages"].as_array().expect("stages array");
    for s in stages {
        assert!(s["stage"].is_string(), "{s}");
        let status = s["status"].as_str().expect("status string");
        assert!(["fresh", "dirty", "frozen"].contains(&status), "{s}");
        for r in s["reasons"].as_array().expect("reasons array") {
            assert!(r["kind"].is_string(), "{r}");
        }
    }
    assert_eq!(st.of("prepare"), "dirty");
    assert_eq!(st.of("train"), "dirty");
    // All reasons, not only the first, and each rendered on the human line.
    let human = p.run(&["status"]);
    human
        .code(0)
        .says("Dirty `train`")
        .says("param `train.c` changed (1.0 → 2.0)");
    human.says("Dirty `prepare`").says("dep `raw.txt` changed");
}

#[test]
fn status_lists_every_reason_of_a_stage() {
    let p = chain_ran();
    p.edit("pipeline.toml", "c = 1.0", "c = 0.25");
    p.file("model.txt", "tampered\n");
    p.edit(
        "pipeline.toml",
        "cat prepared.txt > model.txt",
        "cat prepared.txt prepared.txt > model.txt",
    );
    let reasons = p.status().reasons("train");
    for kind in ["param_changed", "out_modified", "command_changed"] {
        crate::support::assert_reason(&reasons, kind, None);
    }
    let human = p.run(&["status"]);
    human.code(0).says("param `train.c` changed (1.0 → 0.25)");
}

#[test]
fn explain_shows_the_fingerprint_difference() {
    let p = chain_ran();
    p.edit("pipeline.toml", "c = 1.0", "c = 0.5");
    let run = p.run(&["explain", "train"]);
    run.code(0).says("param `train.c` changed (1.0 → 0.5)");
    let lines: Vec<&str> = run.stdout.lines().map(str::trim).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('-') && l.ends_with("train.c = 1.0")),
        "{}",
        run.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with('+') && l.ends_with("train.c = 0.5")),
        "{}",
        run.stdout
    );
    // The unchanged dep is not part of the diff.
    assert!(
        !run.stdout.contains("prepared.txt.digest"),
        "{}",
        run.stdout
    );
    p.run(&["explain", "no_such_stage"]).code(2);
}

#[test]
fn json_goes_to_stdout_and_stage_output_does_not_pollute_it() {
    let p = Project::with_pipeline(
        "[stages.chatty]\ncmd = \"echo to-stdout && echo to-stderr >&2 && echo x > c.txt\"\ndeps = [\"in.txt\"]\nouts = [\"c.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    // Repro::parse panics on any non-JSON stdout line.
    p.repro(&[], 0).expect("chatty", "ran");
}

#[test]
fn quiet_repro_prints_nothing_on_success_but_still_reports_failures() {
    let p = Project::with_pipeline(crate::CHAIN);
    p.file("raw.txt", "x\n");
    let run = p.run(&["-q", "repro"]);
    run.code(0);
    assert!(run.stderr.trim().is_empty(), "-q printed:\n{}", run.stderr);
    assert_eq!(p.runs().len(), 2);
    p.edit(
        "pipeline.toml",
        "cat raw.txt > prepared.txt",
        "cat raw.txt > prepared.txt; echo quiet-failure >&2; false",
    );
    p.run(&["-q", "repro"])
        .code(1)
        .says("prepare")
        .says("quiet-failure");
}
