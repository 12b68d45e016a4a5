//! `gc` scopes: it keeps exactly what the chosen locks reference (workspace, branches, tags,
//! every commit), asks before deleting, prunes the run-cache.

use crate::support::Project;

const ONE: &str = r#"
[stages.make]
cmd = "cp in.txt out.txt"
deps = ["in.txt"]
outs = ["out.txt"]
"#;

/// Three commits with versions v1, v2, v3 of the out; v1 tagged, v2 on a branch only.
fn history() -> Project {
    let p = Project::with_pipeline(ONE);
    p.git(&["init", "-q", "-b", "main"]);
    p.file(".gitignore", "out.txt\n.netsec/\n");
    for v in ["v1", "v2", "v3"] {
        p.file("in.txt", &format!("{v}\n"));
        p.repro(&[], 0).expect("make", "ran");
        p.git(&["add", "-A"]);
        p.git(&["commit", "-q", "-m", v]);
        match v {
            "v1" => {
                p.git(&["tag", "first"]);
            }
            "v2" => {
                p.git(&["branch", "side"]);
            }
            _ => {}
        }
    }
    // v4: only in the workspace (not committed).
    p.file("in.txt", "v4\n");
    p.repro(&[], 0).expect("make", "ran");
    p
}

fn gc_json(p: &Project, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["gc", "--json"];
    all.extend_from_slice(args);
    let run = p.run(&all);
    run.code(0);
    run.json()
}

#[test]
fn each_scope_keeps_exactly_its_locks_objects() {
    let p = history();
    // No scope: exit 2, explaining the flags. No terminal and no --force: exit 2, nothing gone.
    p.run(&["gc"]).code(2).says("-w/--workspace");
    p.run(&["gc", "-w", "--run-cache-keep", "0"])
        .code(2)
        .says("--force");
    assert!(p.cache_holds(b"v1\n") && p.cache_holds(b"v2\n"));
    // The run-cache holds every version; prune it so the locks alone decide.
    let v = gc_json(&p, &["-w", "--dry-run", "--run-cache-keep", "0"]);
    assert_eq!(v["removed_objects"], 3, "{v}");
    assert_eq!(v["dry_run"], true);
    let v = gc_json(&p, &["-A", "-w", "-f", "--run-cache-keep", "0"]);
    assert_eq!(v["removed_objects"], 0, "{v}");
    assert_eq!(v["locks"], 4, "{v}");
    // Tags and branches: main (v3) + side (v2) + tag first (v1) + workspace (v4).
    let v = gc_json(&p, &["-a", "-T", "-w", "--dry-run"]);
    assert_eq!(v["removed_objects"], 0, "{v}");
    // Branches only: v1 (tag only) and v4 (workspace only) would go.
    let v = gc_json(&p, &["-a", "-f"]);
    assert_eq!(v["removed_objects"], 2, "{v}");
    assert!(!p.cache_holds(b"v1\n") && !p.cache_holds(b"v4\n"));
    assert!(p.cache_holds(b"v2\n") && p.cache_holds(b"v3\n"));
    // An older commit still checks out.
    p.git(&["checkout", "-q", "-f", "side"]);
    p.run(&["checkout", "--force"]).code(0);
    assert_eq!(p.read("out.txt"), "v2\n");
}

#[test]
fn run_cache_pruning_by_count_and_age() {
    let p = history();
    let v = gc_json(&p, &["-w", "--dry-run"]);
    assert_eq!(v["kept_runs"], 4, "{v}");
    let v = gc_json(&p, &["-w", "--dry-run", "--run-cache-keep", "1"]);
    assert_eq!(
        (v["kept_runs"].clone(), v["removed_runs"].clone()),
        (1.into(), 3.into()),
        "{v}"
    );
    let v = gc_json(&p, &["-w", "-f", "--run-cache-older-than", "1h"]);
    assert_eq!(v["removed_runs"], 0, "{v}");
    // An entry whose objects are gone is dropped, never half kept.
    let v = gc_json(&p, &["-w", "-f", "--run-cache-keep", "0"]);
    assert_eq!(v["removed_runs"], 4, "{v}");
    p.edit("in.txt", "v4", "v3");
    p.repro(&[], 0).expect("make", "ran");
}
