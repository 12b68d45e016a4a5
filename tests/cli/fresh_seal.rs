//! The fresh seal: a no-op `status`/`repro` answered from file stamps must say exactly what a
//! full evaluation says, and every change a verdict rests on must send it back to one.

use std::time::Duration;

use crate::support::{Project, Run};

const PIPELINE: &str = r#"
[stages.prep]
cmd = "cat raw.txt > prepared.txt"
deps = ["raw.txt"]
outs = ["prepared.txt"]

[stages.tree]
cmd = "rm -rf outdir && mkdir outdir && cp data/* outdir/"
deps = ["data"]
outs = ["outdir"]

[stages.train]
cmd = "cat prepared.txt outdir/* > model.txt && grep c: params.yaml >> model.txt"
deps = ["prepared.txt", "outdir"]
params = ["params.yaml:train.c"]
outs = ["model.txt"]
"#;

/// The debug line `check` logs when the seal answered.
const SEALED: &str = "fresh seal: 3 stages fresh";

/// Stamps changed within the racy window (100 ms) are never sealed: let them age.
fn settle() {
    std::thread::sleep(Duration::from_millis(250));
}

fn debug_run(p: &Project, args: &[&str]) -> Run {
    let start = std::time::Instant::now();
    let out = p
        .command(args)
        .env("RUST_LOG", "netsec_engine=debug")
        .output()
        .expect("run netsec");
    Run::from_output(args, out, start.elapsed())
}

/// A git workspace with the pipeline run, a tracked source, and a seal written by `status`.
fn sealed() -> Project {
    let p = Project::with_pipeline(PIPELINE);
    p.git(&["init", "-q", "-b", "main"]);
    p.file("raw.txt", "alpha\n")
        .file("data/a.txt", "a\n")
        .file("data/b.txt", "b\n")
        .file("params.yaml", "train:\n  c: 1.0\n")
        .file("src.csv", "x,y\n1,2\n");
    p.run(&["add", "src.csv"]).code(0);
    p.repro(&[], 0)
        .expect("prep", "ran")
        .expect("tree", "ran")
        .expect("train", "ran");
    settle();
    // Evaluated in full, which seals; the next one is answered by the seal.
    let first = debug_run(&p, &["status", "--json"]);
    first.code(0);
    assert!(!first.stderr.contains(SEALED), "{}", first.stderr);
    let second = debug_run(&p, &["status", "--json"]);
    second.code(0);
    assert!(second.stderr.contains(SEALED), "{}", second.stderr);
    assert_eq!(first.stdout, second.stdout, "same answer from the seal");
    p
}

/// Status lines only (the debug log and timings stripped).
fn lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.contains("DEBUG") && !l.contains(" INFO ") && !l.trim().is_empty())
        .collect()
}

#[test]
fn a_sealed_no_op_says_exactly_what_a_full_evaluation_says() {
    let p = sealed();
    let status_sealed = debug_run(&p, &["status"]);
    assert!(status_sealed.stderr.contains(SEALED));
    assert_eq!(status_sealed.stdout, "Pipeline is up to date.\n");
    // `-v` always evaluates (it lists commands and timings).
    let verbose = debug_run(&p, &["status", "-v"]);
    assert!(!verbose.stderr.contains(SEALED));
    assert!(
        verbose.stdout.contains("Fresh `train`"),
        "{}",
        verbose.stdout
    );

    // `repro`: a seal written by `status` has not checked the .gitignore blocks, so the first
    // `repro` evaluates (and seals with them); the second is answered by the seal.
    let full = debug_run(&p, &["repro"]);
    full.code(0);
    assert!(!full.stderr.contains(SEALED), "{}", full.stderr);
    let fast = debug_run(&p, &["repro"]);
    fast.code(0);
    assert!(fast.stderr.contains(SEALED), "{}", fast.stderr);
    assert_eq!(lines(&full.stderr), lines(&fast.stderr));
    let trimmed: Vec<&str> = lines(&fast.stderr).iter().map(|l| l.trim()).collect();
    assert_eq!(
        trimmed,
        [
            "Skipping `prep` (fresh)",
            "Skipping `tree` (fresh)",
            "Skipping `train` (fresh)",
            "Fresh Pipeline is up to date."
        ]
    );
    let json = p.repro(&[], 0);
    for s in ["prep", "tree", "train"] {
        json.expect(s, "skipped");
    }
    // A force, a target or a dry run always evaluates.
    for args in [
        &["repro", "-f"][..],
        &["repro", "train"][..],
        &["repro", "--dry-run"][..],
    ] {
        let r = debug_run(&p, args);
        r.code(0);
        assert!(!r.stderr.contains(SEALED), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn every_change_a_verdict_rests_on_breaks_the_seal() {
    type Change = fn(&Project);
    let changes: [(&str, Change, &str); 8] = [
        (
            "same-size edit of a dep, mtime set back",
            |p| {
                let mtime = std::fs::metadata(p.path("raw.txt"))
                    .unwrap()
                    .modified()
                    .unwrap();
                p.file("raw.txt", "omega\n");
                std::fs::File::options()
                    .write(true)
                    .open(p.path("raw.txt"))
                    .unwrap()
                    .set_modified(mtime)
                    .unwrap();
            },
            "Dirty `prep`",
        ),
        (
            "a command edited in pipeline.toml",
            |p| p.edit("pipeline.toml", "cat raw.txt >", "cat raw.txt raw.txt >"),
            "Dirty `prep`",
        ),
        (
            "a tracked param changed",
            |p| p.edit("params.yaml", "c: 1.0", "c: 2.0"),
            "Dirty `train`",
        ),
        (
            "a file added inside a directory dep",
            |p| {
                p.file("data/c.txt", "c\n");
            },
            "Dirty `tree`",
        ),
        ("an out deleted", |p| p.remove("model.txt"), "Dirty `train`"),
        (
            "a file in a directory out edited",
            |p| {
                p.file("outdir/a.txt", "A\n");
            },
            "Dirty `tree`",
        ),
        (
            "a .dvcignore hiding part of a directory dep",
            |p| {
                p.file(".dvcignore", "data/b.txt\n");
            },
            "Dirty `tree`",
        ),
        (
            "data tracked with `netsec add` edited",
            |p| {
                p.file("src.csv", "x,y\n3,4\n");
            },
            "Modified data `src.csv`",
        ),
    ];
    for (what, change, says) in changes {
        let p = sealed();
        change(&p);
        let r = debug_run(&p, &["status"]);
        r.code(0);
        assert!(!r.stderr.contains(SEALED), "{what}: the seal answered");
        assert!(r.stdout.contains(says), "{what}: {}", r.stdout);
        assert!(!r.stdout.contains("up to date"), "{what}: {}", r.stdout);
    }
}

#[test]
fn a_damaged_or_foreign_seal_is_ignored() {
    let p = sealed();
    let seal = p.path(".netsec/state/fresh-v1");
    let mut bytes = std::fs::read(&seal).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&seal, &bytes).unwrap();
    p.remove("model.txt");
    let r = debug_run(&p, &["status"]);
    assert!(r.stdout.contains("Dirty `train`"), "{}", r.stdout);
    // Not a regular file, or garbage: the full evaluation answers, nothing hangs.
    std::fs::remove_file(&seal).unwrap();
    std::fs::write(&seal, b"NSFRESH1garbage").unwrap();
    let r = debug_run(&p, &["status"]);
    assert!(r.stdout.contains("Dirty `train`"), "{}", r.stdout);
    std::fs::remove_file(&seal).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &seal).unwrap();
    let r = p.run_bounded(&["status"], Duration::from_secs(20));
    assert!(r.stdout.contains("Dirty `train`"), "{}", r.stdout);
}

#[test]
fn repro_restores_its_gitignore_block_under_a_seal() {
    let p = sealed();
    p.run(&["repro"]).code(0);
    settle();
    p.run(&["repro"]).code(0);
    assert!(debug_run(&p, &["repro"]).stderr.contains(SEALED));
    let ignore = p.read(".gitignore");
    assert!(ignore.contains("/model.txt"), "{ignore}");
    std::fs::remove_file(p.path(".gitignore")).unwrap();
    let r = debug_run(&p, &["repro"]);
    r.code(0);
    assert!(!r.stderr.contains(SEALED), "{}", r.stderr);
    assert!(p.read(".gitignore").contains("/model.txt"));
}

#[test]
fn a_run_killed_after_sealing_never_looks_fresh() {
    let p = sealed();
    // `train` made slow and its out appended to before the kill: its out is not what the lock
    // (or the seal) recorded.
    p.edit(
        "pipeline.toml",
        "cat prepared.txt outdir/* > model.txt",
        "echo partial >> model.txt && echo $$ > slow.pid && sleep 30 && cat prepared.txt outdir/* > model.txt",
    );
    p.edit(
        "pipeline.toml",
        "outs = [\"model.txt\"]",
        "outs = [{ path = \"model.txt\", persist = true }]",
    );
    let mut child = p.spawn(&["repro"]);
    // The PID is complete once its newline is written.
    let started = p.wait_for("slow.pid", Some("\n"), Duration::from_secs(20));
    child.kill().expect("SIGKILL netsec");
    let _ = child.wait();
    if let Ok(pid) = std::fs::read_to_string(p.path("slow.pid")) {
        crate::support::kill_group(&pid);
    }
    assert!(started, "the slow stage never started");
    let r = debug_run(&p, &["status"]);
    assert!(!r.stderr.contains(SEALED), "{}", r.stderr);
    assert!(r.stdout.contains("Dirty `train`"), "{}", r.stdout);
    let r = debug_run(&p, &["repro", "--dry-run"]);
    assert!(!r.stderr.contains(SEALED));
}
