//! `repro` targets and flags, failing commands, and what a `cmd` stage sees.

use crate::chain_ran;
use crate::support::{assert_reason, Project};

/// a → b → c, plus an unrelated d; every stage copies its input.
const ABCD: &str = r#"
[stages.a]
cmd = "echo a >> runs.log && cp a.in a.out"
deps = ["a.in"]
outs = ["a.out"]

[stages.b]
cmd = "echo b >> runs.log && cat a.out b.in > b.out"
deps = ["a.out", "b.in"]
outs = ["b.out"]

[stages.c]
cmd = "echo c >> runs.log && cp b.out c.out"
deps = ["b.out"]
outs = ["c.out"]

[stages.d]
cmd = "echo d >> runs.log && cp d.in d.out"
deps = ["d.in"]
outs = ["d.out"]
"#;

fn abcd() -> Project {
    let p = Project::with_pipeline(ABCD);
    p.file("a.in", "a1\n")
        .file("b.in", "b1\n")
        .file("d.in", "d1\n");
    p.repro(&[], 0);
    assert_eq!(p.runs().len(), 4);
    p
}

#[test]
fn target_runs_its_upstream_but_not_unrelated_stages() {
    let p = abcd();
    p.file("a.in", "a2\n").file("d.in", "d2\n");
    let r = p.repro(&["b"], 0);
    r.expect("a", "ran").expect("b", "ran");
    assert_eq!(r.list("ran"), ["a", "b"]);
    assert_eq!(p.run_count("c"), 1);
    assert_eq!(p.run_count("d"), 1);
    let st = p.status();
    assert_eq!(st.of("d"), "dirty");
}

#[test]
fn downstream_runs_target_and_descendants_only() {
    let p = abcd();
    p.file("a.in", "a2\n")
        .file("b.in", "b2\n")
        .file("d.in", "d2\n");
    let r = p.repro(&["--downstream", "b"], 0);
    r.expect("b", "ran").expect("c", "ran");
    assert_eq!(r.list("ran"), ["b", "c"]);
    assert_eq!(p.run_count("a"), 1, "upstream of the target is not run");
    assert_eq!(p.run_count("d"), 1, "unrelated stage is not run");
    let st = p.status();
    assert_eq!(st.of("a"), "dirty");
    assert_eq!(st.of("d"), "dirty");
}

#[test]
fn single_item_runs_only_the_target() {
    let p = abcd();
    p.file("a.in", "a2\n").file("b.in", "b2\n");
    let r = p.repro(&["-s", "b"], 0);
    r.expect("b", "ran");
    assert_eq!(r.list("ran"), ["b"]);
    assert_eq!(p.run_count("a"), 1);
    assert_eq!(p.read("b.out"), "a1\nb2\n", "b used the existing a.out");
    assert_eq!(p.status().of("a"), "dirty");
    p.repro(&["--single-item", "a"], 0).expect("a", "ran");
    assert_eq!(p.run_count("c"), 1);
}

#[test]
fn dry_run_reports_but_runs_nothing() {
    let p = abcd();
    p.file("a.in", "a2\n");
    let lock = p.read("netsec.lock");
    let r = p.repro(&["--dry-run"], 0);
    r.expect("a", "would_run");
    assert!(r.list("ran").is_empty(), "{}", r.raw);
    assert_eq!(p.runs().len(), 4);
    assert_eq!(p.read("a.out"), "a1\n");
    assert_eq!(p.read("netsec.lock"), lock);
    assert_eq!(p.status().of("a"), "dirty");
    p.run(&["repro", "--dry-run"]).code(0);
    assert_eq!(p.runs().len(), 4);
}

#[test]
fn failing_command_exits_1_names_stage_and_shows_stderr_tail() {
    let p = Project::with_pipeline(
        r#"
[stages.good]
cmd = "echo fine > good.txt"
deps = ["in.txt"]
outs = ["good.txt"]

[stages.explode]
cmd = "echo half > boom.txt; echo 'first line of noise' >&2; echo 'kaboom-marker: disk on fire' >&2; exit 3"
deps = ["good.txt"]
outs = ["boom.txt"]
"#,
    );
    p.file("in.txt", "x\n");
    let run = p.run(&["repro"]);
    run.code(1)
        .says("explode")
        .says("kaboom-marker: disk on fire");
    assert!(p.exists("good.txt"));
    // No lock entry for the failed stage: it is still never-run; the good stage was recorded.
    let st = p.status();
    assert_eq!(st.of("explode"), "dirty");
    assert_reason(&st.reasons("explode"), "never_run", None);
    assert_eq!(st.of("good"), "fresh");
    if p.exists("netsec.lock") {
        assert!(
            !p.read("netsec.lock").contains("explode"),
            "{}",
            p.read("netsec.lock")
        );
    }

    let r = p.repro(&[], 1);
    r.expect("explode", "failed");
    assert_eq!(r.list("failed"), ["explode"]);
}

#[test]
fn keep_going_runs_independent_branches_and_still_fails() {
    let p = Project::with_pipeline(
        r#"
[stages.bad]
cmd = "echo bad >> runs.log && exit 1"
outs = ["bad.txt"]

[stages.after_bad]
cmd = "echo after_bad >> runs.log && cp bad.txt after.txt"
deps = ["bad.txt"]
outs = ["after.txt"]

[stages.good]
cmd = "sleep 0.3 && echo good >> runs.log && echo ok > good.txt"
outs = ["good.txt"]
"#,
    );
    let r = p.repro(&["-k", "-j", "1"], 1);
    r.expect("bad", "failed").expect("good", "ran");
    assert_eq!(r.list("failed"), ["bad"]);
    assert_eq!(r.list("not_run"), ["after_bad"]);
    assert_eq!(p.run_count("after_bad"), 0);
    assert_eq!(p.read("good.txt"), "ok\n");
}

/// Without `-k` a failure stops the run: the stages ready behind it (the worker that ran it
/// would take the next one the moment it finishes) are not started, and are reported not run.
#[test]
fn without_keep_going_a_failure_stops_the_stages_queued_behind_it() {
    let p = Project::with_pipeline(
        r#"
[stages.a_bad]
cmd = "echo a_bad >> runs.log && exit 1"
outs = ["bad.txt"]

[stages.b_good]
cmd = "echo b_good >> runs.log && echo ok > good.txt"
outs = ["good.txt"]

[stages.c_good]
cmd = "echo c_good >> runs.log && echo ok > c.txt"
outs = ["c.txt"]
"#,
    );
    let r = p.repro(&["-j", "1"], 1);
    r.expect("a_bad", "failed");
    assert_eq!(r.list("not_run"), ["b_good", "c_good"]);
    assert_eq!(p.read("runs.log"), "a_bad\n");
    assert!(!p.exists("good.txt"));
}

#[test]
fn stage_whose_declared_out_is_missing_after_success_fails() {
    let p = Project::with_pipeline(
        r#"
[stages.liar]
cmd = "true"
outs = ["promised.txt"]
"#,
    );
    let run = p.run(&["repro"]);
    run.code(1).says("liar").says("promised.txt");
    assert_reason(&p.status().reasons("liar"), "never_run", None);
}

#[test]
fn command_list_runs_in_order_and_stops_at_first_failure() {
    let p = Project::with_pipeline(
        r#"
[stages.many]
cmd = ["echo one > many.txt", "echo two >> many.txt"]
outs = ["many.txt"]

[stages.halt]
cmd = ["echo first >> runs.log", "false", "echo never >> runs.log"]
outs = ["halt.txt"]
"#,
    );
    let r = p.repro(&["-k"], 1);
    r.expect("many", "ran").expect("halt", "failed");
    assert_eq!(p.read("many.txt"), "one\ntwo\n");
    assert_eq!(p.runs(), ["first"]);
}

#[test]
fn command_sees_netsec_root_and_stage_and_runs_in_wdir() {
    let p = Project::with_pipeline(
        r#"
[stages.envy]
cmd = "printf '%s\n%s\n' \"$NETSEC_STAGE\" \"$NETSEC_ROOT\" > env.txt"
deps = ["seed.txt"]
outs = ["env.txt"]

[stages.inner]
wdir = "sub"
cmd = "pwd > where.txt && cat in.txt >> where.txt"
deps = ["in.txt"]
outs = ["where.txt"]
"#,
    );
    p.file("sub/in.txt", "inside\n").file("seed.txt", "seed\n");
    p.repro(&[], 0).expect("envy", "ran").expect("inner", "ran");
    let env = p.read("env.txt");
    let mut lines = env.lines();
    assert_eq!(lines.next(), Some("envy"));
    let root = lines.next().expect("root line");
    assert_eq!(
        std::path::Path::new(root)
            .canonicalize()
            .expect("NETSEC_ROOT exists"),
        p.root()
    );
    let where_ = p.read("sub/where.txt");
    assert!(where_.ends_with("/sub\ninside\n"), "{where_:?}");
    p.file("sub/in.txt", "changed\n");
    p.repro(&[], 0)
        .expect("inner", "ran")
        .expect("envy", "skipped");
}

#[test]
fn bad_flag_is_usage_error() {
    let p = chain_ran();
    p.run(&["repro", "--no-such-flag"]).code(2);
    p.run(&["no-such-command"]).code(2);
    p.run(&["repro", "-j", "many"]).code(2);
}

#[test]
fn unknown_target_is_a_usage_error() {
    let p = chain_ran();
    p.run(&["repro", "no_such_stage"])
        .code(2)
        .says("no_such_stage");
    p.run(&["checkout", "no_such_stage"]).code(2);
}
