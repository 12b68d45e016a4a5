//! kill -9 in the middle of a push: every object the remote shows is whole, and a rerun
//! uploads only what is missing.

use std::time::{Duration, Instant};

use crate::remote::{assert_remote_intact, project_with_remote, remote_objects};

const BIG: &str = r#"
[remotes.origin]
url = "@REMOTE@"

[stages.big]
cmd = "mkdir -p big && for i in $(seq 1 24); do head -c 8388608 /dev/urandom > big/f$i.bin; done"
deps = ["seed.txt"]
outs = ["big/"]
"#;

#[test]
fn killed_push_leaves_only_whole_objects_and_resumes() {
    let (p, r) = project_with_remote(BIG);
    p.file("seed.txt", "1\n");
    p.repro(&[], 0).expect("big", "ran");
    // 24 files + the directory manifest.
    let total = 25;
    let mut child = p.spawn(&["push", "-j", "1", "--no-snapshot"]);
    let start = Instant::now();
    // Wait for a published object (a `.netsec-tmp-*` file is an upload still in flight).
    let published = |r: &tempfile::TempDir| {
        remote_objects(r)
            .iter()
            .any(|k| !k.contains(".netsec-tmp-"))
    };
    while !published(&r) && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(1));
    }
    // SIGKILL: no handler runs, whatever is in flight stays as it is.
    child.kill().expect("kill -9 push");
    let _ = child.wait();
    let visible = remote_objects(&r)
        .into_iter()
        .filter(|k| !k.contains(".netsec-tmp-"))
        .count();
    assert!(visible >= 1);
    assert_remote_intact(&r);

    let again = p.run(&["push", "--no-snapshot", "--json"]);
    again.code(0);
    let j = again.json();
    assert_eq!(j["present"].as_u64().unwrap() as usize, visible, "{j}");
    assert_eq!(
        j["uploaded"].as_u64().unwrap() as usize,
        total - visible,
        "{j}"
    );
    assert_remote_intact(&r);
    let listed = remote_objects(&r)
        .into_iter()
        .filter(|k| !k.contains(".netsec-tmp-"))
        .count();
    assert_eq!(listed, total);
}
