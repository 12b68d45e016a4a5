//! Params: only the values of tracked keys matter, inline or from TOML/YAML/JSON files.

use serde_json::json;

use crate::chain_ran;
use crate::support::{assert_reason, Project};

#[test]
fn tracked_param_change_reruns_with_old_and_new_values() {
    let p = chain_ran();
    p.edit("pipeline.toml", "c = 1.0", "c = 0.5");
    let st = p.status();
    assert_eq!(st.of("train"), "dirty");
    assert_eq!(st.of("prepare"), "fresh");
    let reasons = st.reasons("train");
    assert_reason(&reasons, "param_changed", Some(("key", "train.c")));
    let r = reasons
        .iter()
        .find(|r| r["kind"] == "param_changed")
        .expect("param_changed");
    assert_eq!(r["old"], json!(1.0), "{r}");
    assert_eq!(r["new"], json!(0.5), "{r}");
    p.run(&["status"])
        .code(0)
        .says("Dirty `train`")
        .says("param `train.c` changed (1.0 → 0.5)");

    let run = p.repro(&[], 0);
    run.expect("train", "ran").expect("prepare", "skipped");
    assert_reason(
        &run.reasons("train"),
        "param_changed",
        Some(("key", "train.c")),
    );
    assert!(p.status().up_to_date());
}

#[test]
fn untracked_param_change_does_not_rerun() {
    let p = chain_ran();
    p.edit("pipeline.toml", "folds = 5", "folds = 7");
    assert!(p.status().up_to_date());
    p.repro(&[], 0).expect("train", "skipped");
    assert_eq!(p.run_count("train"), 1);
}

#[test]
fn newly_tracked_and_untracked_keys_are_reasons() {
    let p = chain_ran();
    p.edit(
        "pipeline.toml",
        r#"params = ["train.c"]"#,
        r#"params = ["train.c", "train.folds"]"#,
    );
    let st = p.status();
    assert_eq!(st.of("train"), "dirty");
    assert_reason(
        &st.reasons("train"),
        "param_added",
        Some(("key", "train.folds")),
    );
    p.repro(&[], 0);
    p.edit(
        "pipeline.toml",
        r#"params = ["train.c", "train.folds"]"#,
        r#"params = ["train.folds"]"#,
    );
    assert_reason(
        &p.status().reasons("train"),
        "param_removed",
        Some(("key", "train.c")),
    );
}

#[test]
fn whole_table_param_tracks_every_key_under_it() {
    let p = Project::with_pipeline(
        r#"
[params]
train = { c = 1.0, folds = 5 }
other = 3

[stages.s]
cmd = "echo s >> runs.log && echo done > s.txt"
params = ["train"]
deps = ["seed.txt"]
outs = ["s.txt"]
"#,
    );
    p.file("seed.txt", "seed\n");
    p.repro(&[], 0).expect("s", "ran");
    p.edit("pipeline.toml", "other = 3", "other = 4");
    p.repro(&[], 0).expect("s", "skipped");
    p.edit("pipeline.toml", "folds = 5", "folds = 6");
    p.repro(&[], 0).expect("s", "ran");
    assert_eq!(p.run_count("s"), 2);
}

/// `file:key` params from YAML and JSON: tracked key reruns, sibling key does not.
fn params_file_scenario(
    file: &str,
    v1: &str,
    sibling_edit: (&str, &str),
    tracked_edit: (&str, &str),
) {
    let p = Project::with_pipeline(&format!(
        r#"
[stages.fit]
cmd = "echo fit >> runs.log && cat {file} > fit.txt"
params = ["{file}:train.lr"]
deps = ["seed.txt"]
outs = ["fit.txt"]
"#
    ));
    p.file(file, v1).file("seed.txt", "seed\n");
    p.repro(&[], 0).expect("fit", "ran");

    p.edit(file, sibling_edit.0, sibling_edit.1);
    assert!(
        p.status().up_to_date(),
        "untracked key in {file} must not dirty the stage"
    );
    p.repro(&[], 0).expect("fit", "skipped");

    p.edit(file, tracked_edit.0, tracked_edit.1);
    let st = p.status();
    assert_eq!(st.of("fit"), "dirty");
    let reasons = st.reasons("fit");
    assert!(
        reasons.iter().any(|r| r["kind"] == "param_changed"
            && r["key"].as_str().is_some_and(|k| k.ends_with("train.lr"))),
        "{reasons:?}"
    );
    p.repro(&[], 0).expect("fit", "ran");
    assert_eq!(p.run_count("fit"), 2);
}

#[test]
fn yaml_params_file_key() {
    params_file_scenario(
        "params.yaml",
        "train:\n  lr: 0.1\n  epochs: 3\n",
        ("epochs: 3", "epochs: 4"),
        ("lr: 0.1", "lr: 0.2"),
    );
}

#[test]
fn json_params_file_key() {
    params_file_scenario(
        "params.json",
        "{\"train\": {\"lr\": 0.1, \"epochs\": 3}}\n",
        ("\"epochs\": 3", "\"epochs\": 4"),
        ("\"lr\": 0.1", "\"lr\": 0.2"),
    );
}

#[test]
fn toml_params_file_key() {
    params_file_scenario(
        "params.toml",
        "[train]\nlr = 0.1\nepochs = 3\n",
        ("epochs = 3", "epochs = 4"),
        ("lr = 0.1", "lr = 0.2"),
    );
}

#[test]
fn reformatting_a_params_file_without_changing_values_does_not_rerun() {
    let p = Project::with_pipeline(
        r#"
[stages.fit]
cmd = "echo fit >> runs.log && echo ok > fit.txt"
params = ["params.yaml:train.lr"]
deps = ["seed.txt"]
outs = ["fit.txt"]
"#,
    );
    p.file("params.yaml", "train:\n  lr: 0.1\n")
        .file("seed.txt", "seed\n");
    p.repro(&[], 0);
    p.file("params.yaml", "# a comment\ntrain: {lr: 0.1}\n");
    p.repro(&[], 0).expect("fit", "skipped");
    assert_eq!(p.run_count("fit"), 1);
}
