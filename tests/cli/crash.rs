//! Crash safety and the repository lock: kill -9 mid-stage, concurrent runs, dead-PID reclaim.

use std::process::Command;
use std::time::Duration;

use crate::support::{assert_reason, Project, Run};

/// `slow` copies raw.txt; when raw.txt says "slow" it writes a partial out and then sleeps.
/// It records its shell PID (= its process group when netsec gives stages their own group).
const SLOW: &str = r#"
[stages.slow]
cmd = "echo $$ > slow.pid; cp raw.txt out.txt; if grep -q slow raw.txt; then echo partial >> out.txt; sleep 30; fi"
deps = ["raw.txt"]
outs = ["out.txt"]

[stages.after]
cmd = "cp out.txt after.txt"
deps = ["out.txt"]
outs = ["after.txt"]

[stages.quick]
cmd = "cp quick.in quick.out"
deps = ["quick.in"]
outs = ["quick.out"]
"#;

/// SIGKILL the stage's process group (falls back to the PID) so no orphan outlives the test.
fn kill_stage(p: &Project) {
    kill_stage_pid(p.read("slow.pid").trim());
}

/// The lock must stay a parseable document whatever its format (TOML or JSON).
fn assert_lock_parses(p: &Project) {
    let text = p.read("netsec.lock");
    let as_toml = text.parse::<toml::Table>().is_ok();
    let as_json = serde_json::from_str::<serde_json::Value>(&text).is_ok();
    assert!(as_toml || as_json, "netsec.lock is corrupt:\n{text}");
}

#[test]
fn kill_9_mid_stage_leaves_stage_dirty_lock_intact_and_last_good_out_restorable() {
    let p = Project::with_pipeline(SLOW);
    p.file("raw.txt", "v1\n").file("quick.in", "q1\n");
    p.repro(&[], 0).expect("slow", "ran").expect("after", "ran");

    p.file("raw.txt", "v2 slow\n").file("quick.in", "q2\n");
    p.remove("slow.pid");
    let mut child = p.spawn(&["repro", "-j", "2"]);
    let started = p.wait_for("slow.pid", None, Duration::from_secs(20))
        && p.wait_for("out.txt", Some("partial"), Duration::from_secs(20))
        && p.wait_for("quick.out", Some("q2"), Duration::from_secs(20));
    // quick's lock entry is written right after it finishes; give it a moment to land.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("SIGKILL netsec");
    let _ = child.wait();
    if !started {
        kill_stage(&p);
        panic!("the slow stage never started");
    }
    kill_stage(&p);

    assert_eq!(
        p.read("out.txt"),
        "v2 slow\npartial\n",
        "the half-written out is on disk"
    );
    assert_lock_parses(&p);

    let st = p.status();
    assert_eq!(
        st.of("quick"),
        "fresh",
        "a stage finished before the kill keeps its entry"
    );
    assert_eq!(st.of("slow"), "dirty");
    let reasons = st.reasons("slow");
    assert_reason(&reasons, "dep_changed", Some(("path", "raw.txt")));
    assert_reason(&reasons, "out_modified", Some(("path", "out.txt")));

    // The last good out is restorable.
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("out.txt"), "v1\n");

    // A new run is not refused by the dead process's repo lock, and fixes everything.
    p.file("raw.txt", "v3\n");
    p.repro(&[], 0).expect("slow", "ran").expect("after", "ran");
    assert_eq!(p.read("after.txt"), "v3\n");
    assert_lock_parses(&p);
    assert!(p.status().up_to_date());
}

#[test]
fn second_concurrent_repro_is_refused_with_exit_6_naming_the_pid() {
    let p = Project::with_pipeline(
        r#"
[stages.hold]
cmd = "touch started && sleep 2 && echo held > held.txt"
deps = ["in.txt"]
outs = ["held.txt"]
"#,
    );
    p.file("in.txt", "x\n");
    let first = p.spawn(&["repro"]);
    assert!(
        p.wait_for("started", None, Duration::from_secs(20)),
        "first repro never started"
    );
    let second = p.run(&["repro"]);
    // checkout and gc take the repo lock too; status, dag and explain only read.
    let gc = p.run(&["gc", "-w", "-f"]);
    let checkout = p.run(&["checkout"]);
    let status = p.run(&["status"]);
    let dag = p.run(&["dag"]);
    let first_pid = first.id();
    let out = first.wait_with_output().expect("wait first");
    let first_run = Run::from_output(&["repro"], out, Duration::ZERO);
    gc.code(6);
    checkout.code(6);
    status.code(0);
    dag.code(0);

    second.code(6).says(&first_pid.to_string());
    first_run.code(0);
    assert_eq!(p.read("held.txt"), "held\n");
    assert!(p.status().up_to_date());
}

#[test]
fn repo_lock_of_a_killed_process_is_reclaimed_while_its_orphan_still_runs() {
    let p = Project::with_pipeline(
        r#"
[stages.hang]
cmd = "echo $$ > slow.pid; if grep -q hang in.txt; then sleep 30; fi; cp in.txt hang.txt"
deps = ["in.txt"]
outs = ["hang.txt"]
"#,
    );
    // A lock file naming a PID that does not exist is no obstacle either.
    p.file(".netsec/lock", "999999999\n");
    p.file("in.txt", "hang\n");
    let mut child = p.spawn(&["repro"]);
    let started = p.wait_for("slow.pid", None, Duration::from_secs(20));
    child.kill().expect("SIGKILL netsec");
    let _ = child.wait();
    assert!(started, "stage never started");
    // The orphaned stage (DVC's failure mode) must not hold the repo lock.
    let orphan = p.read("slow.pid").trim().to_owned();
    p.file("in.txt", "go\n");
    let r = p.repro(&[], 0);
    kill_stage_pid(&orphan);
    r.expect("hang", "ran");
    assert_eq!(p.read("hang.txt"), "go\n");
}

fn kill_stage_pid(pid: &str) {
    crate::support::kill_group(pid);
}

/// Whether any live (non-zombie) process is in process group `pgid`.
fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        let Some(pid) = e.file_name().to_str().map(str::to_owned) else {
            return false;
        };
        // state ppid pgrp …
        crate::support::proc_stat(&pid).is_some_and(|f| {
            f.first().is_some_and(|state| state != "Z")
                && f.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
        })
    })
}

#[test]
fn sigterm_kills_the_running_stage_group_and_leaves_it_stale() {
    let p = Project::with_pipeline(
        r#"
[stages.long]
cmd = "echo $$ > slow.pid; sleep 30 & wait; cp in.txt long.txt"
deps = ["in.txt"]
outs = ["long.txt"]
"#,
    );
    p.file("in.txt", "x\n");
    let child = p.spawn(&["repro"]);
    let started = p.wait_for("slow.pid", None, Duration::from_secs(20));
    let pid = p.read("slow.pid").trim().parse::<u32>().unwrap_or(0);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().expect("wait netsec");
    let run = Run::from_output(&["repro"], out, Duration::ZERO);
    assert!(started && pid > 0, "stage never started");
    let mut alive = group_alive(pid);
    for _ in 0..100 {
        if !alive {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        alive = group_alive(pid);
    }
    if alive {
        kill_stage_pid(&pid.to_string());
    }
    assert!(
        !alive,
        "stage process group {pid} outlived netsec's SIGTERM"
    );
    assert_ne!(run.exit, 0, "an interrupted run must not report success");
    assert!(!p.exists("long.txt"));
    let st = p.status();
    assert_eq!(st.of("long"), "dirty");
    assert_reason(&st.reasons("long"), "never_run", None);
}

/// Kill -9 at assorted moments of a six-stage chain: after every kill the lock parses, every
/// stage that reports fresh has an out equal to its input, and a final run repairs everything.
#[test]
fn kill_9_at_assorted_moments_never_leaves_a_wrong_fresh_stage() {
    const N: usize = 6;
    let mut toml = String::new();
    for i in 0..N {
        let input = if i == 0 {
            "in.txt".to_owned()
        } else {
            format!("o{}.txt", i - 1)
        };
        toml.push_str(&format!(
            "[stages.s{i}]\ncmd = \"sleep 0.03 && cp {input} o{i}.txt\"\ndeps = [\"{input}\"]\nouts = [\"o{i}.txt\"]\n\n"
        ));
    }
    let p = Project::with_pipeline(&toml);
    let input_of = |i: usize| {
        if i == 0 {
            "in.txt".to_owned()
        } else {
            format!("o{}.txt", i - 1)
        }
    };
    for (round, delay_ms) in [5u64, 40, 90, 140, 20, 200, 60, 110]
        .into_iter()
        .enumerate()
    {
        p.file("in.txt", &format!("round {round}\n"));
        let mut child = p.spawn(&["repro", "-j", "2"]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        // Orphaned stage commands finish on their own; let them land before inspecting.
        std::thread::sleep(Duration::from_millis(150));
        if p.exists("netsec.lock") {
            assert_lock_parses(&p);
        }
        let st = p.status();
        for i in 0..N {
            if st.of(&format!("s{i}")) == "fresh" {
                let out = p.read(&format!("o{i}.txt"));
                assert_eq!(
                    out,
                    p.read(&input_of(i)),
                    "round {round}: s{i} fresh with a wrong out"
                );
            }
        }
    }
    p.repro(&[], 0);
    assert!(p.status().up_to_date());
    assert_eq!(p.read(&format!("o{}.txt", N - 1)), "round 7\n");
    p.assert_cache_intact();
}

/// Each stage's entry goes to the journal while the run lasts; a finished run leaves only
/// `netsec.lock`, and a no-op run writes neither.
#[test]
fn a_finished_run_folds_the_journal_into_the_lock_and_a_no_op_run_writes_nothing() {
    let p = Project::with_pipeline(SLOW);
    p.file("raw.txt", "v1\n").file("quick.in", "q1\n");
    p.repro(&[], 0).expect("slow", "ran").expect("quick", "ran");
    assert!(!p.exists(".netsec/state/lock-journal"));
    let lock = p.read("netsec.lock");
    assert!(
        lock.contains("\"quick\"") && lock.contains("\"slow\""),
        "{lock}"
    );
    let modified = || {
        std::fs::metadata(p.path("netsec.lock"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = modified();
    p.repro(&[], 0).expect("slow", "skipped");
    assert!(!p.exists(".netsec/state/lock-journal"));
    assert_eq!(modified(), before, "a no-op run does not rewrite the lock");
}
