//! `--executor slurm` against a real one-node Slurm cluster (`scripts/services.sh start slurm`,
//! which exports SLURM_CONF), driving the real binary. Skipped with a note when SLURM_CONF is
//! unset, a failure when NETSEC_REQUIRE_SERVICES=1. Each test has its own workspace; the
//! cluster's jobs are told apart by name and working directory.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a failure is the test failing"
)]

#[path = "cli/support.rs"]
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Project, Run};

/// Whether the cluster is there (a panic under NETSEC_REQUIRE_SERVICES=1 when it is not).
fn cluster() -> bool {
    if std::env::var("SLURM_CONF").map_or(true, |v| v.is_empty()) {
        if std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("SLURM_CONF is not set but NETSEC_REQUIRE_SERVICES=1: run `eval \"$(scripts/services.sh start slurm)\"`");
        }
        eprintln!("note: SLURM_CONF not set; skipping (start the cluster with `eval \"$(scripts/services.sh start slurm)\"`)");
        return false;
    }
    true
}

/// The jobs Slurm still lists (pending or running) whose working directory is `root`.
fn active_jobs(root: &Path) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["-h", "-o", "%i|%j|%Z"])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.rsplit('|').next().is_some_and(|d| Path::new(d) == root))
        .map(str::to_string)
        .collect()
}

fn repro_slurm(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["repro", "--executor", "slurm"];
    args.extend_from_slice(extra);
    p.run_bounded(&args, Duration::from_secs(600))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's phishing pipeline plus a cmd stage that records the job id it ran under.
fn phishing() -> Project {
    let p = Project::empty();
    let mut pipeline = std::fs::read_to_string(repo_root().join("pipeline.toml")).unwrap();
    pipeline.push_str(
        r#"
[stages.jobenv]
cmd = "echo job:$SLURM_JOB_ID >> job-ids.log; echo recorded > jobenv.txt"
deps = ["artifacts/evaluate/metrics.json"]
outs = ["jobenv.txt"]
"#,
    );
    p.file("pipeline.toml", &pipeline);
    for f in ["schema.yaml", ".dvcignore", "data/phisingData.csv"] {
        std::fs::create_dir_all(p.path(f).parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(f), p.path(f)).unwrap();
    }
    p
}

fn untracked(p: &Project, args: &[&str]) -> Run {
    let start = Instant::now();
    let out = p
        .command(args)
        .env_remove("MLFLOW_TRACKING_URI")
        .output()
        .unwrap();
    Run::from_output(args, out, start.elapsed())
}

#[test]
fn phishing_pipeline_on_slurm_writes_the_lock_of_a_local_run() {
    if !cluster() {
        return;
    }
    let local = phishing();
    untracked(&local, &["repro", "--executor", "local"]).code(0);
    let slurm = phishing();
    let run = untracked(
        &slurm,
        &["repro", "--json", "--executor", "slurm", "-j", "2"],
    );
    run.code(0);
    assert_eq!(slurm.read("netsec.lock"), local.read("netsec.lock"));
    for out in ["artifacts/evaluate/metrics.json", "jobenv.txt"] {
        assert_eq!(slurm.read(out), local.read(out), "{out}");
    }
    // Every stage ran as a job, and the cmd stage saw the job's id.
    let events = support::Repro::parse(&run).events;
    assert_eq!(events.len(), 7, "{}", run.stdout);
    for ev in &events {
        let job = ev
            .job
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no job: {}", ev.stage, run.stdout));
        assert_eq!(job.state, "COMPLETED");
        assert!(job.name.starts_with(&format!("netsec-{}-", ev.stage)));
        assert!(slurm.exists(&format!(".netsec/logs/{}.log", ev.stage)));
    }
    let jobenv = events.iter().find(|e| e.stage == "jobenv").unwrap();
    assert_eq!(
        slurm.read("job-ids.log").trim(),
        format!("job:{}", jobenv.job.as_ref().unwrap().id)
    );
    assert_eq!(local.read("job-ids.log").trim(), "job:");
    // A second run is a no-op: nothing submitted.
    let again = untracked(&slurm, &["repro", "--executor", "slurm"]);
    again.code(0);
    assert!(!again.all().contains("submitted"), "{}", again.stderr);
}

#[test]
fn independent_stages_run_as_overlapping_jobs() {
    if !cluster() {
        return;
    }
    let p = Project::with_pipeline(
        r#"
[stages.left]
cmd = "date +%s%N > left.t && echo $SLURM_JOB_ID >> left.t && sleep 2 && date +%s%N >> left.t"
outs = ["left.t"]

[stages.right]
cmd = "date +%s%N > right.t && echo $SLURM_JOB_ID >> right.t && sleep 2 && date +%s%N >> right.t"
outs = ["right.t"]
"#,
    );
    repro_slurm(&p, &["-j", "2"]).code(0);
    let read = |rel: &str| -> (u128, String, u128) {
        let t = p.read(rel);
        let l: Vec<&str> = t.lines().collect();
        (
            l[0].parse().unwrap(),
            l[1].to_string(),
            l[2].parse().unwrap(),
        )
    };
    let (ls, lj, le) = read("left.t");
    let (rs, rj, re) = read("right.t");
    assert!(
        !lj.is_empty() && !rj.is_empty() && lj != rj,
        "jobs {lj:?} {rj:?}"
    );
    assert!(ls < re && rs < le, "the two jobs did not overlap");
}

#[test]
fn a_failing_job_is_exit_1_with_its_state_and_log_tail() {
    if !cluster() {
        return;
    }
    let p = Project::with_pipeline(
        r#"
[stages.bad]
cmd = "echo first-line; echo the-error-tail >&2; exit 3"
outs = ["bad.txt"]
"#,
    );
    let run = repro_slurm(&p, &[]);
    run.code(1)
        .says("exited with code 3")
        .says("ended FAILED")
        .says("| the-error-tail");
    assert!(p.read(".netsec/logs/bad.log").contains("first-line"));
    assert!(!p.exists("netsec.lock"));
}

#[test]
fn timeout_cancels_a_sleeping_job() {
    if !cluster() {
        return;
    }
    let p = Project::with_pipeline(
        r#"
[stages.slow]
cmd = "sleep 300"
outs = ["slow.txt"]
timeout = "2s"
"#,
    );
    repro_slurm(&p, &[]).code(1).says("timed out after 2s");
    assert_eq!(active_jobs(p.root()), Vec::<String>::new());
}

#[test]
fn retries_rerun_a_flaky_job() {
    if !cluster() {
        return;
    }
    let p = Project::with_pipeline(
        r#"
[stages.flaky]
cmd = "echo $SLURM_JOB_ID >> tries.log; test $(wc -l < tries.log) -ge 3 && echo ok > flaky.txt"
outs = ["flaky.txt"]
retries = 2
"#,
    );
    repro_slurm(&p, &[]).code(0).says("retry 2 of 2");
    let ids: std::collections::BTreeSet<String> =
        p.read("tries.log").lines().map(str::to_string).collect();
    assert_eq!(ids.len(), 3, "three attempts, three jobs: {ids:?}");
}

// `&&`: `scancel` signals every process of the job, in no set order; a `sleep` killed first
// must not let its shell go on to write the out before its own signal arrives.
const LONG: &str = r#"
[stages.long]
cmd = "echo $SLURM_JOB_ID >> submissions.log; sleep 5 && echo done > long.txt"
outs = ["long.txt"]
"#;

fn wait_for_job(p: &Project) {
    assert!(
        p.wait_for("submissions.log", None, Duration::from_secs(60)),
        "the job never started"
    );
}

#[test]
fn ctrl_c_cancels_the_jobs() {
    if !cluster() {
        return;
    }
    let p = Project::with_pipeline(LONG);
    let child = p.spawn(&["repro", "--executor", "slurm"]);
    wait_for_job(&p);
    assert_eq!(active_jobs(p.root()).len(), 1);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cancelled"));
    assert_eq!(active_jobs(p.root()), Vec::<String>::new());
    assert!(!p.exists("long.txt") && !p.exists("netsec.lock"));
}

#[test]
fn after_kill_9_the_next_repro_adopts_the_running_job() {
    if !cluster() {
        return;
    }
    let p = Project::with_pipeline(LONG);
    let mut child = p.spawn(&["repro", "--executor", "slurm"]);
    wait_for_job(&p);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(active_jobs(p.root()).len(), 1, "the job outlives netsec");
    // status shows the job in flight (-v: id and node; --json: the job object).
    let st = p.run(&["status", "-v"]);
    st.says("Job of `long`: Slurm job").says("netsec-long-");
    let json = p.run(&["status", "--json"]).json();
    let long = json["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "long")
        .unwrap()
        .clone();
    assert!(
        long["job"]["id"].as_str().is_some_and(|i| !i.is_empty()),
        "{long}"
    );
    repro_slurm(&p, &[]).code(0).says("adopting Slurm job");
    assert_eq!(
        p.read("submissions.log").lines().count(),
        1,
        "submitted twice"
    );
    assert_eq!(p.read("long.txt"), "done\n");
    assert!(p.read("netsec.lock").contains("\"long.txt\""));
}

#[test]
fn an_unreachable_controller_is_exit_5_with_a_hint() {
    if !cluster() {
        return;
    }
    let conf = std::fs::read_to_string(std::env::var("SLURM_CONF").unwrap()).unwrap();
    let p = Project::with_pipeline(
        "[executor]\nkind = \"slurm\"\npoll = \"1s\"\n\n[stages.a]\ncmd = \"echo a > a.txt\"\nouts = [\"a.txt\"]\n",
    );
    // The same cluster, but a controller port nothing listens on.
    let dead: String = conf
        .lines()
        .map(|l| {
            if l.starts_with("SlurmctldPort=") {
                "SlurmctldPort=1".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    p.file("dead-slurm.conf", &dead);
    let start = Instant::now();
    let out = p
        .command(&["repro"])
        .env("SLURM_CONF", p.path("dead-slurm.conf"))
        .output()
        .unwrap();
    let run = Run::from_output(&["repro"], out, start.elapsed());
    run.code(5)
        .says("Slurm is unreachable")
        .says("`[executor]` in pipeline.toml or `.netsec/config.local.toml`");
    assert!(!p.exists("a.txt"));
}

#[test]
fn a_six_point_sweep_runs_as_slurm_jobs() {
    if !cluster() {
        return;
    }
    let p = Project::with_pipeline(
        r#"
[params]
x = 0

[stages.point]
cmd = "echo x=${x} > point.txt; echo $SLURM_JOB_ID > job.txt; sleep 1"
deps = ["seed.txt"]
params = ["x"]
outs = ["point.txt", { path = "job.txt", cache = false }]
"#,
    );
    p.file("seed.txt", "s\n").file(".gitignore", ".netsec/\n");
    p.git(&["init", "-q", "-b", "main"]);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-q", "-m", "init"]);
    p.run(&["exp", "run", "--queue", "-S", "x=1,2,3,4,5,6"])
        .code(0);
    p.run_bounded(
        &["exp", "run", "--run-all", "-j", "3", "--executor", "slurm"],
        Duration::from_secs(600),
    )
    .code(0);
    let show = p.run(&["exp", "show", "--json"]);
    show.code(0);
    let rows: Vec<netsec_protocol::ExpRow> = serde_json::from_str(&show.stdout).unwrap();
    let done: Vec<&netsec_protocol::ExpRow> =
        rows.iter().filter(|r| r.status == "success").collect();
    assert_eq!(done.len(), 6, "{}", show.stdout);
    // Each experiment's stage ran as a Slurm job: its log says so.
    for r in done {
        let logs = p.run(&["queue", "logs", &r.name]);
        logs.code(0).says("submitted as Slurm job");
    }
}
