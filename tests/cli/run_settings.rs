//! Per-stage `timeout`, `retries`, `resources` and `executor`, and the `[executor]` table, on
//! the local executor: validated at load (exit 3 with file:line), never fingerprinted.

use crate::support::Project;

#[test]
fn bad_run_settings_are_exit_3_with_file_and_line() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "[stages.a]\ncmd = \"true\"\ntimeout = \"5 minutes\"\n",
            "pipeline.toml:3:",
            "not a duration",
        ),
        (
            "[stages.a]\ncmd = \"true\"\nretries = -1\n",
            "pipeline.toml:3:",
            "retries",
        ),
        (
            "[stages.a]\ncmd = \"true\"\nresources = { cpu = 2 }\n",
            "pipeline.toml:3:",
            "did you mean `cpus`?",
        ),
        (
            "[stages.a]\ncmd = \"true\"\nresources = { mem = \"lots\" }\n",
            "pipeline.toml:3:",
            "not a memory size",
        ),
        (
            "[stages.a]\ncmd = \"true\"\nexecutor = \"k8s\"\n",
            "pipeline.toml:3:",
            "unknown executor `k8s`",
        ),
        (
            "[executor]\nkind = \"slurm\"\npoll = \"1y\"\n[stages.a]\ncmd = \"true\"\n",
            "pipeline.toml:3:",
            "not a duration",
        ),
    ];
    for (pipeline, at, says) in cases {
        let p = Project::with_pipeline(pipeline);
        p.run(&["status"]).code(3).says(at).says(says);
    }
    // The personal file is checked the same way, and named.
    let p = Project::with_pipeline("[stages.a]\ncmd = \"true\"\n");
    p.file(
        ".netsec/config.local.toml",
        "[executor]\npartiton = \"gpu\"\n",
    );
    p.run(&["status"])
        .code(3)
        .says(".netsec/config.local.toml:2:")
        .says("did you mean `partition`?");
}

#[test]
fn run_settings_are_not_fingerprinted() {
    let p = Project::with_pipeline(
        "[stages.a]\ncmd = \"echo a >> runs.log; echo a > a.txt\"\ndeps = [\"in.txt\"]\nouts = [\"a.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    p.repro(&[], 0).expect("a", "ran");
    let lock = p.read("netsec.lock");
    p.edit(
        "pipeline.toml",
        "outs = [\"a.txt\"]\n",
        "outs = [\"a.txt\"]\ntimeout = \"1h\"\nretries = 2\nresources = { cpus = 1, mem = \"1G\", time = \"2h\", gpus = 0 }\nexecutor = \"local\"\n",
    );
    p.file(
        ".netsec/config.local.toml",
        "[executor]\nkind = \"local\"\npartition = \"cpu\"\naccount = \"me\"\npoll = \"500ms\"\nextra = [\"--constraint=avx2\"]\n",
    );
    p.run(&["status"]).code(0).says("Pipeline is up to date.");
    p.repro(&[], 0).expect("a", "skipped");
    assert_eq!(p.read("netsec.lock"), lock);
    assert_eq!(p.run_count("a"), 1);
}

#[test]
fn a_timed_out_stage_is_killed_with_its_process_group() {
    let p = Project::with_pipeline(
        r#"
[stages.slow]
cmd = "sh -c 'echo $$ > child.pid; exec sleep 60' & echo started; wait"
outs = ["never.txt"]
timeout = "1s"
"#,
    );
    let run = p.run_bounded(&["repro", "--json"], std::time::Duration::from_secs(30));
    run.code(1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("\"stage\":\"slow\""))
        .unwrap_or_else(|| panic!("no event for slow:\n{}", run.stdout));
    let ev: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(ev["failure"]["kind"], "timed_out", "{line}");
    assert_eq!(ev["failure"]["message"], "timed out after 1s", "{line}");
    // The background child of the command's group is gone too.
    let pid: i32 = p.read("child.pid").trim().parse().unwrap();
    let alive = (0..100).any(|_| {
        let gone = !crate::support::running(&pid.to_string());
        if !gone {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        !gone
    });
    assert!(
        !alive,
        "the stage's background child {pid} survived the timeout"
    );
    // No lock entry: the stage stays stale.
    assert!(!p.exists("netsec.lock"));
    p.run(&["repro", "slow"]).code(1).says("timed out after 1s");
}

const FLAKY: &str = r#"
[stages.flaky]
cmd = "echo flaky >> runs.log; test $(grep -c flaky runs.log) -ge 3 && echo ok > flaky.txt"
outs = ["flaky.txt"]
retries = RETRIES
"#;

#[test]
fn a_failed_stage_is_retried_and_says_so() {
    let p = Project::with_pipeline(&FLAKY.replace("RETRIES", "2"));
    let run = p.run(&["repro"]);
    run.code(0)
        .says("retrying, retry 1 of 2")
        .says("retrying, retry 2 of 2");
    assert_eq!(p.run_count("flaky"), 3);
    let p = Project::with_pipeline(&FLAKY.replace("RETRIES", "2"));
    let r = p.repro(&[], 0);
    let ev = r.events.iter().find(|e| e.stage == "flaky").unwrap();
    assert_eq!(ev.attempts, Some(3));

    // Out of retries: the last failure stands.
    let p = Project::with_pipeline(&FLAKY.replace("RETRIES", "1"));
    p.run(&["repro"]).code(1).says("retry 1 of 1");
    assert_eq!(p.run_count("flaky"), 2);
    assert!(!p.exists("netsec.lock"));
}

/// Two independent stages that record (start, end) in ns.
const TWO_WIDE: &str = r#"
[stages.left]
cmd = "date +%s%N > left.t && sleep 0.5 && date +%s%N >> left.t"
outs = ["left.t"]
CPUS
[stages.right]
cmd = "date +%s%N > right.t && sleep 0.5 && date +%s%N >> right.t"
outs = ["right.t"]
CPUS
"#;

fn span(p: &Project, rel: &str) -> (u128, u128) {
    let v: Vec<u128> = p
        .read(rel)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    (v[0], v[1])
}

#[test]
fn a_stage_with_two_cpus_takes_two_of_j() {
    let p = Project::with_pipeline(&TWO_WIDE.replace("CPUS", "resources = { cpus = 2 }"));
    p.run(&["repro", "-j", "2"]).code(0);
    let (l, r) = (span(&p, "left.t"), span(&p, "right.t"));
    assert!(
        l.1 <= r.0 || r.1 <= l.0,
        "two stages of 2 CPUs overlapped under -j 2: {l:?} {r:?}"
    );
    // With -j 4 both fit.
    let p = Project::with_pipeline(&TWO_WIDE.replace("CPUS", "resources = { cpus = 2 }"));
    p.run(&["repro", "-j", "4"]).code(0);
    let (l, r) = (span(&p, "left.t"), span(&p, "right.t"));
    assert!(
        l.0 < r.1 && r.0 < l.1,
        "-j 4 did not overlap them: {l:?} {r:?}"
    );
    // More CPUs than -j: the stage still runs (alone).
    let p = Project::with_pipeline(&TWO_WIDE.replace("CPUS", "resources = { cpus = 8 }"));
    p.run(&["repro", "-j", "2"]).code(0);
}
