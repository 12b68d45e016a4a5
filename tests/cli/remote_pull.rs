//! `repro --pull` in a fresh clone: stages are restored from the remote (its run-cache, or the
//! outs netsec.lock records) instead of rerun. `runs.log` counts executions.

use std::fs;

use crate::remote::{project_with_remote, store};
use crate::support::Project;

/// All outs cached and nothing persisted: both stages are run-cacheable.
const PURE: &str = r#"
[remotes.origin]
url = "@REMOTE@"

[params]
train = { c = 1.0 }

[stages.prepare]
cmd = "echo prepare >> runs.log && mkdir -p prep && cat raw.txt > prep/clean.txt"
deps = ["raw.txt"]
outs = ["prep/"]

[stages.train]
cmd = "echo train >> runs.log && cat prep/clean.txt > model.txt && grep '^train' pipeline.toml >> model.txt"
deps = ["prep/"]
params = ["train.c"]
outs = ["model.txt"]
"#;

/// A "clone": the files git would carry (pipeline.toml, raw.txt, optionally netsec.lock).
fn clone_of(p: &Project, with_lock: bool) -> Project {
    let c = Project::with_pipeline(&p.read("pipeline.toml"));
    c.file("raw.txt", &p.read("raw.txt"));
    if with_lock {
        c.file("netsec.lock", &p.read("netsec.lock"));
    }
    c
}

#[test]
fn repro_pull_restores_from_the_remote_instead_of_running() {
    let (p, r) = project_with_remote(PURE);
    p.file("raw.txt", "alpha\n");
    p.repro(&[], 0)
        .expect("prepare", "ran")
        .expect("train", "ran");
    // A second param value, so the run-cache holds an entry the lock no longer names.
    p.edit("pipeline.toml", "c = 1.0", "c = 2.0");
    p.repro(&[], 0).expect("train", "ran");
    let model_c2 = p.read("model.txt");
    p.edit("pipeline.toml", "c = 2.0", "c = 1.0");
    p.repro(&[], 0).expect("train", "restored");
    let model_c1 = p.read("model.txt");
    let push = p.run(&["push", "--run-cache", "--no-snapshot", "--json"]);
    push.code(0);
    assert!(
        push.json()["runs_uploaded"].as_u64().unwrap() >= 3,
        "{}",
        push.stdout
    );
    assert!(store(&r).join("runs/blake3").is_dir());

    // Clone with the lock: the outs it records are fetched and restored.
    let a = clone_of(&p, true);
    let rep = a.repro(&["--pull"], 0);
    rep.expect("prepare", "restored")
        .expect("train", "restored");
    assert_eq!(a.runs(), Vec::<String>::new(), "a stage ran");
    assert_eq!(a.read("model.txt"), model_c1);
    assert_eq!(a.read("prep/clean.txt"), "alpha\n");
    a.assert_cache_intact();
    assert!(a.status().up_to_date());

    // Clone without a lock, at the other param value: the remote run-cache answers.
    let b = clone_of(&p, false);
    b.edit("pipeline.toml", "c = 1.0", "c = 2.0");
    let run = b.run(&["repro", "--pull"]);
    run.code(0).says("from remote `origin`");
    assert_eq!(b.runs(), Vec::<String>::new(), "a stage ran");
    assert_eq!(b.read("model.txt"), model_c2);

    // Without --pull the same clone runs its stages.
    let c = clone_of(&p, false);
    c.repro(&[], 0).expect("prepare", "ran");
    assert_eq!(c.run_count("prepare"), 1);
    // A remote without the entry: repro --pull just runs the stage.
    let d = clone_of(&p, false);
    d.file("raw.txt", "something else\n");
    d.repro(&["--pull"], 0).expect("prepare", "ran");
    let _ = fs::metadata(store(&r));
}
