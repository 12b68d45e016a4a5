//! Invalid pipelines: exit 3 with `pipeline.toml:LINE:COL` and the names involved; warnings.

use crate::support::{Project, Run};

/// Every `pipeline.toml:L:C` location in the output.
fn locations(run: &Run) -> Vec<(u32, u32)> {
    let text = run.all();
    let mut found = Vec::new();
    for (i, _) in text.match_indices("pipeline.toml:") {
        let rest = &text[i + "pipeline.toml:".len()..];
        let mut parts = rest.splitn(3, ':');
        let line = parts.next().and_then(|s| s.parse().ok());
        let col = parts.next().and_then(|s| {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        });
        if let (Some(l), Some(c)) = (line, col) {
            found.push((l, c));
        }
    }
    found
}

/// Run `status`, `repro` and `dag` on an invalid pipeline: all exit 3 and mention `needles`.
/// Returns the `repro` run for location checks.
fn rejected(pipeline: &str, needles: &[&str]) -> Run {
    let p = Project::with_pipeline(pipeline);
    p.file("exists.txt", "here\n");
    let mut last = None;
    for args in [&["status"][..], &["dag"][..], &["repro"][..]] {
        let run = p.run(args);
        run.code(3);
        for n in needles {
            run.says(n);
        }
        last = Some(run);
    }
    assert!(
        !p.exists("netsec.lock"),
        "an invalid pipeline must not write a lock"
    );
    last.expect("ran")
}

#[track_caller]
fn assert_line(run: &Run, line: u32) {
    let locs = locations(run);
    assert!(
        locs.iter().any(|(l, _)| *l == line),
        "expected pipeline.toml:{line}:COL in\n{}",
        run.all()
    );
}

#[test]
fn toml_syntax_error_points_at_line_and_column() {
    let run = rejected(
        "[stages.a]\ndeps = [\"exists.txt\"]\ncmd = = \"oops\"\n",
        &["pipeline.toml"],
    );
    let locs = locations(&run);
    assert!(
        locs.contains(&(3, 7)),
        "expected pipeline.toml:3:7 in\n{}",
        run.all()
    );
}

#[test]
fn cycle_names_every_stage_in_it() {
    let run = rejected(
        r#"[stages.alpha_stage]
cmd = "cp y.txt x.txt"
deps = ["y.txt"]
outs = ["x.txt"]

[stages.beta_stage]
cmd = "cp z.txt y.txt"
deps = ["z.txt"]
outs = ["y.txt"]

[stages.gamma_stage]
cmd = "cp x.txt z.txt"
deps = ["x.txt"]
outs = ["z.txt"]

[stages.bystander]
cmd = "cp exists.txt b.txt"
deps = ["exists.txt"]
outs = ["b.txt"]
"#,
        &["alpha_stage", "beta_stage", "gamma_stage"],
    );
    assert!(run.all().to_lowercase().contains("cycle"), "{}", run.all());
}

#[test]
fn self_loop_is_a_cycle() {
    rejected(
        r#"[stages.ouroboros]
cmd = "cp loop.txt loop.txt"
deps = ["loop.txt"]
outs = ["loop.txt"]
"#,
        &["ouroboros"],
    );
}

#[test]
fn duplicate_outs_name_both_stages() {
    rejected(
        r#"[stages.first_writer]
cmd = "echo 1 > same.txt"
deps = ["exists.txt"]
outs = ["same.txt"]

[stages.second_writer]
cmd = "echo 2 > same.txt"
deps = ["exists.txt"]
outs = ["same.txt"]
"#,
        &["first_writer", "second_writer", "same.txt"],
    );
}

#[test]
fn overlapping_outs_name_both_stages() {
    rejected(
        r#"[stages.dir_writer]
cmd = "mkdir -p out && echo 1 > out/f.txt"
deps = ["exists.txt"]
outs = ["out/"]

[stages.file_writer]
cmd = "mkdir -p out/deep && echo 2 > out/deep/f.txt"
deps = ["exists.txt"]
outs = ["out/deep/f.txt"]
"#,
        &["dir_writer", "file_writer"],
    );
}

const NEEDY: &str = "[stages.needy]\ncmd = \"cat nowhere.txt > n.txt\"\ndeps = [\"exists.txt\", \"nowhere.txt\"]\nouts = [\"n.txt\"]\n";

#[test]
fn dep_nobody_produces_is_rejected_at_its_line() {
    let run = rejected(NEEDY, &["nowhere.txt", "needy"]);
    assert_line(&run, 3);
}

#[test]
fn out_outside_the_workspace_is_rejected() {
    let run = rejected(
        "[stages.escape]\ncmd = \"echo x > ../x\"\ndeps = [\"exists.txt\"]\nouts = [\"../x\"]\n",
        &["../x"],
    );
    assert_line(&run, 4);
    let run = rejected(
        "[stages.escape]\ncmd = \"echo x > /tmp/netsec-abs-out\"\ndeps = [\"exists.txt\"]\nouts = [\"/tmp/netsec-abs-out\"]\n",
        &["/tmp/netsec-abs-out"],
    );
    assert_line(&run, 4);
}

#[test]
fn unknown_builtin_is_rejected() {
    let run = rejected(
        "[stages.mystery]\nuses = \"no_such_builtin\"\ndeps = [\"exists.txt\"]\nouts = [\"m.txt\"]\n",
        &["no_such_builtin"],
    );
    assert_line(&run, 2);
}

#[test]
fn unknown_param_key_is_rejected() {
    let run = rejected(
        "[params]\ntrain = { c = 1.0 }\n\n[stages.fit]\ncmd = \"echo > f.txt\"\ndeps = [\"exists.txt\"]\nparams = [\"train.nope\"]\nouts = [\"f.txt\"]\n",
        &["train.nope"],
    );
    assert_line(&run, 7);
}

#[test]
fn param_from_a_missing_file_is_rejected() {
    rejected(
        "[stages.fit]\ncmd = \"echo > f.txt\"\ndeps = [\"exists.txt\"]\nparams = [\"absent.yaml:lr\"]\nouts = [\"f.txt\"]\n",
        &["absent.yaml"],
    );
}

#[test]
fn stage_needs_exactly_one_of_cmd_and_uses() {
    rejected(
        "[stages.idle]\ndeps = [\"exists.txt\"]\nouts = [\"i.txt\"]\n",
        &["idle"],
    );
    rejected(
        "[stages.both]\ncmd = \"true\"\nuses = \"train\"\ndeps = [\"exists.txt\"]\nouts = [\"i.txt\"]\n",
        &["both"],
    );
}

#[test]
fn unknown_keys_are_errors_with_a_suggestion() {
    // A typo must not leave a stage silently without its outs (was a warning before).
    let p = Project::with_pipeline(
        "[stages.tinted]\ncmd = \"echo ok > t.txt\"\ndeps = [\"in.txt\"]\noutz = [\"t.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    p.run(&["repro"])
        .code(3)
        .says("pipeline.toml:4:1")
        .says("unknown field `outz`")
        .says("did you mean `outs`?");
    assert!(!p.exists("t.txt"));
    let out_key = Project::with_pipeline(
        "[stages.t]\ncmd = \"true\"\ndeps = [\"in.txt\"]\nouts = [{ path = \"t.txt\", cahce = false }]\n",
    );
    out_key.file("in.txt", "x\n");
    out_key
        .run(&["status"])
        .code(3)
        .says("did you mean `cache`?");
    // DVC's `do:` nesting: the keys go beside `foreach` here.
    let foreach =
        Project::with_pipeline("[stages.t]\nforeach = [\"a\"]\ndo = { cmd = \"echo ${item}\" }\n");
    foreach.run(&["status"]).code(3).says("without `do`");
    let top = Project::with_pipeline("[stage.t]\ncmd = \"true\"\n");
    top.run(&["status"]).code(3).says("did you mean `stages`?");
}

#[test]
fn missing_pipeline_file_is_reported() {
    let p = Project::empty();
    let run = p.run(&["status"]);
    assert_ne!(run.exit, 0);
    run.says("pipeline.toml");
}
