//! DAG-parallel execution: `-j 2` overlaps independent stages, `-j 1` and dependencies do not.

use crate::support::Project;

/// Two independent one-second stages and a third that needs both; each records start/end in ns.
const FORK_JOIN: &str = r#"
[stages.left]
cmd = "date +%s%N > left.t && sleep 1 && date +%s%N >> left.t"
deps = ["seed.txt"]
outs = ["left.t"]

[stages.right]
cmd = "date +%s%N > right.t && sleep 1 && date +%s%N >> right.t"
deps = ["seed.txt"]
outs = ["right.t"]

[stages.join]
cmd = "date +%s%N > join.t && cat left.t right.t >> join.t"
deps = ["left.t", "right.t"]
outs = ["join.t"]
"#;

/// (start, end) in ns written by a stage.
fn span(p: &Project, rel: &str) -> (u128, u128) {
    let text = p.read(rel);
    let nums: Vec<u128> = text
        .lines()
        .take(2)
        .map(|l| {
            l.trim()
                .parse()
                .unwrap_or_else(|e| panic!("{rel}: {l:?}: {e}"))
        })
        .collect();
    (nums[0], nums.get(1).copied().unwrap_or(nums[0]))
}

fn overlaps(a: (u128, u128), b: (u128, u128)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[test]
fn j2_overlaps_independent_stages() {
    let p = Project::with_pipeline(FORK_JOIN);
    p.file("seed.txt", "s\n");
    let run = p.run(&["repro", "-j", "2"]);
    run.code(0);
    let (l, r, j) = (span(&p, "left.t"), span(&p, "right.t"), span(&p, "join.t"));
    assert!(overlaps(l, r), "left {l:?} and right {r:?} did not overlap");
    assert!(
        j.0 >= l.1 && j.0 >= r.1,
        "join started before its deps ended"
    );
}

#[test]
fn j1_runs_one_stage_at_a_time() {
    let p = Project::with_pipeline(FORK_JOIN);
    p.file("seed.txt", "s\n");
    let run = p.run(&["repro", "-j", "1"]);
    run.code(0);
    let (l, r) = (span(&p, "left.t"), span(&p, "right.t"));
    assert!(
        !overlaps(l, r),
        "-j 1 overlapped left {l:?} and right {r:?}"
    );
    assert!(run.elapsed.as_secs_f64() >= 2.0, "{:?}", run.elapsed);
}

#[test]
fn default_jobs_use_the_cores() {
    // The machine has ≥ 2 cores; the default must parallelise like -j 2 does.
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        eprintln!("skipped: fewer than 2 cores");
        return;
    }
    let p = Project::with_pipeline(FORK_JOIN);
    p.file("seed.txt", "s\n");
    p.run(&["repro"]).code(0);
    assert!(overlaps(span(&p, "left.t"), span(&p, "right.t")));
}

#[test]
fn wide_fan_out_and_join_completes_and_stays_fresh() {
    let n = 60;
    let mut toml = String::new();
    let mut join_deps = Vec::new();
    for i in 0..n {
        toml.push_str(&format!(
            "[stages.s{i:02}]\ncmd = \"cp in.txt o{i:02}.txt\"\ndeps = [\"in.txt\"]\nouts = [\"o{i:02}.txt\"]\n\n"
        ));
        join_deps.push(format!("\"o{i:02}.txt\""));
    }
    toml.push_str(&format!(
        "[stages.join]\ncmd = \"cat o*.txt > joined.txt\"\ndeps = [{}]\nouts = [\"joined.txt\"]\n",
        join_deps.join(", ")
    ));
    let p = Project::with_pipeline(&toml);
    p.file("in.txt", "x\n");
    let r = p.repro(&["-j", "4"], 0);
    assert_eq!(r.list("ran").len(), n + 1, "{}", r.raw);
    assert_eq!(p.read("joined.txt"), "x\n".repeat(n));
    assert!(p.status().up_to_date());
    let r = p.repro(&["-j", "4"], 0);
    assert_eq!(r.list("skipped").len(), n + 1);
    p.file("in.txt", "y\n");
    let r = p.repro(&["-j", "4"], 0);
    assert_eq!(r.list("ran").len(), n + 1);
    assert_eq!(p.read("joined.txt"), "y\n".repeat(n));
}
