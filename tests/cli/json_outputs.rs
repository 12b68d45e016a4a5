//! `--json` of `explain` and `init` (parsed back into the `netsec-protocol` types the binary
//! writes), `predict --json`'s need for `--output`, and `status -q`'s exit-code contract.
//! `predict --json` with a real bundle is in `tests/e2e_pipeline.rs`, which trains one.

use netsec_protocol::{ExplainJson, InitJson, StageState, StatusJson};

use crate::chain_ran;
use crate::support::{Project, Run};

fn explain(p: &Project, stage: &str) -> ExplainJson {
    let run = p.run(&["explain", stage, "--json"]);
    run.code(0);
    assert_eq!(run.stdout.lines().count(), 1, "one line: {}", run.stdout);
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("explain --json is not the protocol ({e}):\n{}", run.stdout))
}

#[test]
fn explain_json_lists_reasons_and_each_differing_fingerprint_field() {
    let p = chain_ran();
    let fresh = explain(&p, "train");
    assert_eq!(fresh.stage, "train");
    assert_eq!(fresh.status, StageState::Fresh);
    assert!(fresh.reasons.is_empty() && fresh.changed.is_empty() && fresh.outs.is_empty());
    assert!(fresh.in_lock && fresh.has_fingerprint && fresh.unchanged > 0);

    p.edit("pipeline.toml", "c = 1.0", "c = 0.5");
    let e = explain(&p, "train");
    assert_eq!(e.status, StageState::Dirty);
    let reasons: Vec<serde_json::Value> = e
        .reasons
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    crate::support::assert_reason(&reasons, "param_changed", Some(("key", "train.c")));
    assert_eq!(e.changed.len(), 1, "only the param differs: {e:?}");
    let c = &e.changed[0];
    assert!(c.key.ends_with("train.c"), "{c:?}");
    assert_eq!(c.locked, Some(serde_json::json!(1.0)));
    assert_eq!(c.now, Some(serde_json::json!(0.5)));
    assert_eq!(e.unchanged, fresh.unchanged - 1);
}

#[test]
fn explain_json_reports_out_digest_changes_and_never_run_stages() {
    let p = chain_ran();
    let before = explain(&p, "prepare");
    p.file("prepared.txt", "edited by hand\n");
    let e = explain(&p, "prepare");
    assert_eq!(e.status, StageState::Dirty);
    assert_eq!(e.outs.len(), 1, "{e:?}");
    let o = &e.outs[0];
    assert_eq!(o.path, "prepared.txt");
    assert_eq!(o.locked.len(), 64, "full blake3 hex: {o:?}");
    assert_eq!(
        o.now.as_deref(),
        Some(blake3::hash(b"edited by hand\n").to_hex().as_str())
    );
    assert_eq!(
        e.changed, before.changed,
        "an out is not part of the fingerprint"
    );

    p.remove("prepared.txt");
    let e = explain(&p, "prepare");
    assert_eq!(e.outs[0].now, None, "missing out: {e:?}");

    let never = Project::with_pipeline(
        "[stages.hello]\ncmd = \"echo hi > hello.txt\"\nouts = [\"hello.txt\"]\n",
    );
    let e = explain(&never, "hello");
    assert_eq!(e.status, StageState::Dirty);
    assert!(!e.in_lock && e.has_fingerprint, "{e:?}");
    assert!(e
        .changed
        .iter()
        .all(|c| c.locked.is_none() && c.now.is_some()));
}

#[test]
fn explain_json_says_frozen() {
    let p = Project::with_pipeline(
        "[stages.hello]\ncmd = \"echo hi > hello.txt\"\nouts = [\"hello.txt\"]\nfrozen = true\n",
    );
    assert_eq!(explain(&p, "hello").status, StageState::Frozen);
}

#[test]
fn init_json_lists_what_was_created_and_nothing_the_second_time() {
    let p = Project::empty();
    let run = p.run(&["init", "--json"]);
    run.code(0);
    let first: InitJson = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("init --json is not the protocol ({e}):\n{}", run.stdout));
    for item in ["pipeline.toml", ".dvcignore", ".netsec/"] {
        assert!(
            first.created.iter().any(|c| c == item),
            "{item} missing: {first:?}"
        );
    }
    assert!(
        first.created.iter().any(|c| c.contains(".gitignore")),
        "{first:?}"
    );
    assert_eq!(std::path::Path::new(&first.root), p.root());
    assert!(
        !run.stderr.contains("Created"),
        "no status lines with --json: {}",
        run.stderr
    );

    let again: InitJson =
        serde_json::from_str(p.run(&["init", "--json"]).code(0).stdout.trim()).expect("json");
    assert!(again.created.is_empty(), "{again:?}");
}

#[test]
fn predict_json_needs_output_since_stdout_carries_the_csv_otherwise() {
    let p = Project::empty();
    p.file("in.csv", "a\n1\n");
    let run = p.run(&["predict", "--input", "in.csv", "--json"]);
    run.code(2).says("--output");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

fn quiet_status(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["status", "-q"];
    args.extend_from_slice(extra);
    p.run(&args)
}

#[test]
fn status_q_prints_nothing_and_exits_1_when_stale_0_when_up_to_date() {
    let p = chain_ran();
    let run = quiet_status(&p, &[]);
    run.code(0);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));

    p.file("raw.txt", "alpha\ngamma\n");
    let run = quiet_status(&p, &[]);
    run.code(1);
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    // Without -q, status still answers 0 and says why.
    p.run(&["status"]).code(0).says("Dirty `prepare`");
    // Only the named stages count.
    p.run(&["--quiet", "status", "prepare"]).code(1);
    // --json -q: the object it asked for, and the exit code.
    let run = quiet_status(&p, &["--json"]);
    run.code(1);
    let json: StatusJson = serde_json::from_str(run.stdout.trim()).expect("status json");
    assert!(!json.up_to_date);

    p.repro(&[], 0);
    quiet_status(&p, &[]).code(0);
}

#[test]
fn status_q_keeps_error_codes_and_messages() {
    let p = Project::with_pipeline("[stages.x]\ncmd = 1\n");
    let run = quiet_status(&p, &[]);
    run.code(3);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("error"), "{}", run.stderr);
}
