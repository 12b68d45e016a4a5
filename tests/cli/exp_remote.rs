//! Experiments shared through a remote (`exp push` / `exp pull`) between two clones of one git
//! repository, through a directory and through S3 (the moto server of
//! `scripts/services.sh start s3`; skipped with a note when `S3_ENDPOINT` is unset, a failure
//! when `NETSEC_REQUIRE_SERVICES=1`); hostile remote records; `gc` keeping experiments; data
//! tracked with `netsec add` in the isolated workspaces of queued experiments.
//!
//! The pipeline's `prep` depends on `data/`, tracked with `netsec add` (so git carries its
//! record, not its content). Stage executions are counted per clone in a side file.

use std::path::{Path, PathBuf};

use netsec_protocol::{ExpPullJson, ExpPushJson, ExpRow, GcJson};

use crate::support::{Project, Run};

const PIPELINE: &str = r#"
[stages.prep]
cmd = "echo prep >> \"$EXP_LOG\" && cat data/raw.txt > prepared.txt"
deps = ["data"]
outs = ["prepared.txt"]

[stages.train]
cmd = "sh train.sh"
deps = ["prepared.txt", "train.sh"]
params = ["params.yaml:train.lr"]
outs = ["model", { path = "metrics.json", metric = true, cache = false }]
"#;

const TRAIN: &str = r#"echo train >> "$EXP_LOG"
lr=$(grep 'lr:' params.yaml | awk '{print $2}')
mkdir -p model
cat prepared.txt > model/weights.txt; echo "$lr" >> model/weights.txt
printf '{"lr": %s}\n' "$lr" > metrics.json
"#;

/// One clone and its side file of stage executions.
struct Clone {
    p: Project,
    log: PathBuf,
}

impl Clone {
    fn run(&self, args: &[&str]) -> Run {
        let start = std::time::Instant::now();
        let out = self
            .p
            .command(args)
            .env("EXP_LOG", &self.log)
            .output()
            .unwrap();
        Run::from_output(args, out, start.elapsed())
    }

    fn count(&self, stage: &str) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == stage)
            .count()
    }

    fn show(&self) -> Vec<ExpRow> {
        let r = self.run(&["exp", "show", "--json"]);
        r.code(0);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    }

    fn queue_and_run(&self, points: &[(&str, &str)]) {
        for (name, lr) in points {
            let set = format!("params.yaml:train.lr={lr}");
            self.run(&["exp", "run", "--queue", "-n", name, "-S", &set])
                .code(0);
        }
        self.run(&["exp", "run", "--run-all", "-j", "2"]).code(0);
    }
}

/// Clone `a` (with its data added and committed) and a clone `b` of it, sharing `url`.
struct Team {
    side: tempfile::TempDir,
    a: Clone,
    b: Clone,
}

impl Team {
    fn new(url: &str) -> Team {
        let side = tempfile::tempdir().unwrap();
        let p = Project::with_pipeline(&format!("[remotes.origin]\nurl = \"{url}\"\n{PIPELINE}"));
        p.file("data/raw.txt", "a\nb\n")
            .file("train.sh", TRAIN)
            .file("params.yaml", "train:\n  lr: 0.1\n")
            .file(".gitignore", ".netsec/\n");
        let a = Clone {
            p,
            log: side.path().join("a.log"),
        };
        a.p.git(&["init", "-q", "-b", "main"]);
        a.run(&["add", "data"]).code(0);
        a.p.git(&["add", "-A"]);
        a.p.git(&["commit", "-q", "-m", "init"]);
        // git carries the record of `data/`, not its content.
        let files = a.p.git(&["ls-files"]);
        assert!(files.contains("netsec.lock"), "{files}");
        assert!(!files.contains("raw.txt"), "{files}");
        let b = Clone {
            p: Project::empty(),
            log: side.path().join("b.log"),
        };
        b.p.git(&["clone", "-q", a.p.root().to_str().unwrap(), "."]);
        assert!(!b.p.exists("data"));
        Team { side, a, b }
    }
}

/// A, experiments run and pushed; B, pulled: listed with their metrics, applied with their
/// outs fetched from the remote and no stage run, `status` up to date. Pushing and pulling
/// again change nothing; a name taken by a different experiment is refused both ways.
fn share_between_clones(t: &Team) {
    let (a, b) = (&t.a, &t.b);
    a.queue_and_run(&[("low", "0.3"), ("high", "0.7")]);
    // One in the workspace too.
    a.run(&["exp", "run", "-n", "here", "-S", "params.yaml:train.lr=0.5"])
        .code(0);
    // A queued one is not pushed.
    a.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "later",
        "-S",
        "params.yaml:train.lr=0.9",
    ])
    .code(0);
    let r = a.run(&["exp", "push", "origin", "--json"]);
    r.code(0);
    let pushed: ExpPushJson = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(sorted(&pushed.pushed), ["here", "high", "low"]);
    assert!(
        pushed.uploaded > 0 && pushed.runs_uploaded > 0,
        "{pushed:?}"
    );
    a.run(&["exp", "push", "origin", "later"])
        .code(2)
        .says("queued");
    let again: ExpPushJson =
        serde_json::from_str(a.run(&["exp", "push", "origin", "--json"]).stdout.trim()).unwrap();
    assert!(again.pushed.is_empty(), "{again:?}");
    assert_eq!(sorted(&again.unchanged), ["here", "high", "low"]);
    assert_eq!(again.uploaded, 0);
    // gc on the remote keeps what its experiment records need, whatever the scope.
    let r = a.run(&["gc", "-w", "--remote", "origin", "-f", "--json"]);
    r.code(0);
    let gc: GcJson = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(gc.experiments, 3, "{gc:?}");
    assert_eq!((gc.removed_objects, gc.removed_runs), (0, 0), "{gc:?}");

    // B sees nothing until it pulls.
    assert!(b.show().iter().all(|r| r.name != "low"));
    let r = b.run(&["exp", "pull", "origin", "--json"]);
    r.code(0);
    let pulled: ExpPullJson = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(sorted(&pulled.pulled), ["here", "high", "low"]);
    assert!(pulled.skipped.is_empty() && pulled.conflicts.is_empty());
    assert!(
        pulled.downloaded > 0 && pulled.runs_fetched > 0,
        "{pulled:?}"
    );
    let rows = b.show();
    for (name, lr) in [("low", 0.3), ("high", 0.7), ("here", 0.5)] {
        let row = rows.iter().find(|r| r.name == name).expect(name);
        assert_eq!(row.status, "success");
        assert_eq!(row.metrics["metrics.json:lr"], lr, "{row:?}");
        assert_eq!(row.params["params.yaml:train.lr"], serde_json::json!(lr));
    }
    assert!(rows.iter().all(|r| r.name != "later"));
    // The data tracked with `netsec add` came with the experiments' objects.
    b.run(&["pull"]).code(0);
    assert_eq!(b.p.read("data/raw.txt"), "a\nb\n");
    b.run(&["exp", "apply", "high"]).code(0);
    assert_eq!((b.count("prep"), b.count("train")), (0, 0));
    assert_eq!(b.p.read("model/weights.txt"), "a\nb\n0.7\n");
    assert_eq!(b.p.read("metrics.json"), "{\"lr\": 0.7}\n");
    assert_eq!(b.p.read("params.yaml"), "train:\n  lr: 0.7\n");
    let st = b.run(&["status"]);
    st.code(0);
    assert!(
        st.stdout.contains("Pipeline is up to date."),
        "{}",
        st.stdout
    );
    // Pulling again: nothing new.
    let again: ExpPullJson =
        serde_json::from_str(b.run(&["exp", "pull", "origin", "--json"]).stdout.trim()).unwrap();
    assert!(again.pulled.is_empty(), "{again:?}");
    assert_eq!(sorted(&again.unchanged), ["here", "high", "low"]);
    // B's own `low` differs from A's: pulling it is refused, pushing it too.
    b.run(&["exp", "remove", "low"]).code(0);
    b.run(&["exp", "run", "-n", "low", "-S", "params.yaml:train.lr=0.2"])
        .code(0);
    let mine = b.p.read(".netsec/exps/records-v1/low.json");
    let r = b.run(&["exp", "pull", "origin", "low", "--json"]);
    r.code(2);
    assert!(
        r.stderr
            .contains("experiment `low` on remote `origin` differs"),
        "{}",
        r.stderr
    );
    let refused: ExpPullJson = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(refused.conflicts, ["low"]);
    assert_eq!(b.p.read(".netsec/exps/records-v1/low.json"), mine);
    b.run(&["exp", "push", "origin", "low"])
        .code(2)
        .says("already has a different experiment named `low`");
    b.run(&["exp", "pull", "origin", "nope"])
        .code(2)
        .says("has no experiment named `nope`");
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

#[test]
fn exp_push_pull_through_a_directory_remote() {
    let remote = tempfile::tempdir().unwrap();
    let t = Team::new(remote.path().to_str().unwrap());
    share_between_clones(&t);
    // Every key the remote holds is complete: the records name objects that are there.
    assert!(remote.path().join("exps/records-v1/high.json").is_file());
    let _ = &t.side;
}

#[test]
fn exp_push_pull_through_s3() {
    if std::env::var("S3_ENDPOINT").map_or(true, |v| v.is_empty()) {
        if std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("S3_ENDPOINT is not set but NETSEC_REQUIRE_SERVICES=1: run `eval \"$(scripts/services.sh start s3)\"`");
        }
        eprintln!("note: S3_ENDPOINT not set; skipping");
        return;
    }
    let bucket = std::env::var("S3_BUCKET").unwrap_or_else(|_| "netsec-test".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let url = format!("s3://{bucket}/cli-exp-share-{}-{nanos}", std::process::id());
    let t = Team::new(&url);
    share_between_clones(&t);
}

/// A JSON record as pushed, to be tampered with.
fn record(dir: &Path, name: &str) -> serde_json::Value {
    let path = dir.join(format!("exps/records-v1/{name}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn hostile_remote_records_are_reported_and_skipped() {
    let remote = tempfile::tempdir().unwrap();
    let t = Team::new(remote.path().to_str().unwrap());
    t.a.queue_and_run(&[("good", "0.3")]);
    t.a.run(&["exp", "push", "origin"]).code(0);
    let dir = remote.path().join("exps/records-v1");
    let good = record(remote.path(), "good");
    let write = |name: &str, v: &serde_json::Value| {
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_vec(v).unwrap(),
        )
        .unwrap()
    };
    // An out that leaves the workspace, and one inside .git.
    for (name, path) in [
        ("escape", "../../outside.txt"),
        ("githook", ".git/hooks/pre-commit"),
    ] {
        let mut v = good.clone();
        v["name"] = name.into();
        let outs = v["lock"]["stages"]["prep"]["outs"].as_object_mut().unwrap();
        let rec = outs.remove("prepared.txt").unwrap();
        outs.insert(path.into(), rec);
        write(name, &v);
    }
    // A queued record: running it here is not the remote's decision.
    let mut queued = good.clone();
    queued["name"] = "sneaky".into();
    queued["status"] = "queued".into();
    write("sneaky", &queued);
    // A terminal escape in a string `exp show` prints.
    let mut escape = good.clone();
    escape["name"] = "ansi".into();
    escape["message"] = "\u{1b}]0;pwned\u{7}".into();
    write("ansi", &escape);
    // A name that does not match its key, a key that is no name, and garbage.
    write("renamed", &good);
    write("bad..name", &good);
    std::fs::write(dir.join("garbage.json"), b"{not json").unwrap();
    // Larger than any record may be (sparse: costs no disk, and is never downloaded).
    let big = std::fs::File::create(dir.join("big.json")).unwrap();
    big.set_len(300 << 20).unwrap();

    let b = &t.b;
    let r = b.run(&["exp", "pull", "origin", "--json"]);
    r.code(5);
    let json: ExpPullJson = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(json.pulled, ["good"]);
    let mut skipped: Vec<&str> = json.skipped.iter().map(|s| s.key.as_str()).collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "exps/records-v1/ansi.json",
            "exps/records-v1/bad..name.json",
            "exps/records-v1/big.json",
            "exps/records-v1/escape.json",
            "exps/records-v1/garbage.json",
            "exps/records-v1/githook.json",
            "exps/records-v1/renamed.json",
            "exps/records-v1/sneaky.json",
        ]
    );
    for key in &skipped {
        assert!(
            r.stderr.contains(&format!("skipped `{key}`")),
            "{}",
            r.stderr
        );
    }
    let reason = |k: &str| {
        json.skipped
            .iter()
            .find(|s| s.key.ends_with(k))
            .unwrap()
            .reason
            .clone()
    };
    assert!(reason("big.json").contains("MiB"), "{}", reason("big.json"));
    assert!(
        reason("ansi.json").contains("control character in `message`"),
        "{}",
        reason("ansi.json")
    );
    assert!(
        reason("githook.json").contains(".git"),
        "{}",
        reason("githook.json")
    );
    assert!(
        reason("sneaky.json").contains("queued"),
        "{}",
        reason("sneaky.json")
    );
    assert!(
        reason("renamed.json").contains("names `good`"),
        "{}",
        reason("renamed.json")
    );
    // Nothing of them was written, inside or outside the clone.
    let recs = b.p.path(".netsec/exps/records-v1");
    let mut names: Vec<String> = std::fs::read_dir(&recs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["good.json"]);
    assert!(!b.p.root().parent().unwrap().join("outside.txt").exists());
    assert!(!b.p.exists(".git/hooks/pre-commit"));
    // Naming a hostile one alone: the same report.
    b.run(&["exp", "pull", "origin", "escape"])
        .code(5)
        .says("skipped `exps/records-v1/escape.json`");
}

#[test]
fn gc_keeps_experiments_objects_and_run_entries() {
    let remote = tempfile::tempdir().unwrap();
    let t = Team::new(remote.path().to_str().unwrap());
    let a = &t.a;
    a.queue_and_run(&[("keep", "0.6")]);
    let trains = a.count("train");
    // Neither the workspace's lock nor any kept run-cache entry references the experiment's
    // model: only its record does.
    let r = a.run(&["gc", "-w", "--run-cache-keep", "0", "-f", "--json"]);
    r.code(0);
    let gc: GcJson = serde_json::from_str(r.stdout.trim()).unwrap();
    a.run(&["exp", "apply", "keep"]).code(0);
    assert_eq!(gc.experiments, 1, "{gc:?}");
    assert_eq!(a.count("train"), trains);
    assert_eq!(a.p.read("model/weights.txt"), "a\nb\n0.6\n");
    assert_eq!(a.p.read("metrics.json"), "{\"lr\": 0.6}\n");
    let st = a.run(&["status"]);
    st.code(0);
    assert!(
        st.stdout.contains("Pipeline is up to date."),
        "{}",
        st.stdout
    );
    // Once removed, the experiment protects nothing.
    a.run(&["exp", "remove", "keep"]).code(0);
    a.p.git(&["checkout", "-q", "--", "params.yaml"]);
    let r = a.run(&["gc", "-w", "--run-cache-keep", "0", "-f", "--json"]);
    let gc: GcJson = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(gc.experiments, 0, "{gc:?}");
    assert!(gc.removed_runs > 0, "{gc:?}");
}

#[test]
fn added_data_is_restored_in_isolated_workspaces() {
    let remote = tempfile::tempdir().unwrap();
    let t = Team::new(remote.path().to_str().unwrap());
    let a = &t.a;
    a.queue_and_run(&[("one", "0.2"), ("two", "0.4")]);
    let rows = a.show();
    for (name, lr) in [("one", 0.2), ("two", 0.4)] {
        let row = rows.iter().find(|r| r.name == name).expect(name);
        assert_eq!(row.status, "success", "{row:?}");
        assert_eq!(row.metrics["metrics.json:lr"], lr);
    }
    // prep ran once for both (shared run-cache); the user's workspace is untouched.
    assert_eq!(a.count("prep"), 1);
    assert_eq!(a.count("train"), 2);
    assert!(!a.p.exists("prepared.txt"));
    // The data comes from the base commit's lock: the workspace's later edit is not used.
    a.p.file("data/raw.txt", "edited\n");
    a.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "three",
        "-S",
        "params.yaml:train.lr=0.8",
    ])
    .code(0);
    a.run(&["exp", "run", "--run-all"]).code(0);
    a.run(&["exp", "apply", "three"]).code(0);
    assert_eq!(a.p.read("model/weights.txt"), "a\nb\n0.8\n");
}
