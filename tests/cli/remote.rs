//! Remotes through the real binary, with a local-directory remote: push/pull round trip,
//! skip-existing, snapshots, verification on fetch, gc --remote, config errors.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::Project;

/// Two stages: a directory out, a file out, a metric (`cache = false`) and a `final_model/`.
pub const SHARED: &str = r#"
[remotes.origin]
url = "@REMOTE@"

[stages.make]
cmd = "echo make >> runs.log && mkdir -p data/sub && cat raw.txt > data/a.txt && echo b > data/sub/b.txt && cp raw.txt single.txt && printf '{\"test\": {\"f1\": 0.9}}' > metrics.json"
deps = ["raw.txt"]
outs = ["data/", "single.txt", { path = "metrics.json", metric = true, cache = false }]

[stages.model]
cmd = "echo model >> runs.log && mkdir -p final_model && cat single.txt > final_model/bundle.json"
deps = ["single.txt"]
outs = ["final_model/"]
"#;

/// A remote directory outside the workspace, and a project pointing at it.
pub fn project_with_remote(pipeline: &str) -> (Project, TempDir) {
    let remote = tempfile::Builder::new()
        .prefix("netsec-remote-")
        .tempdir()
        .expect("remote dir");
    let p = Project::with_pipeline(&pipeline.replace(
        "@REMOTE@",
        &remote.path().join("store").display().to_string(),
    ));
    (p, remote)
}

pub fn store(remote: &TempDir) -> PathBuf {
    remote.path().join("store")
}

/// Every file under `dir`, relative, `/`-separated, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let Ok(rel) = p.strip_prefix(base) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The remote's object keys under `files/blake3/`.
pub fn remote_objects(remote: &TempDir) -> Vec<String> {
    let base = store(remote).join("files/blake3");
    files_under(&base)
}

/// Every visible remote object hashes to its name.
#[track_caller]
pub fn assert_remote_intact(remote: &TempDir) {
    let base = store(remote).join("files/blake3");
    for rel in remote_objects(remote) {
        let name = rel.replace('/', "");
        if name.contains(".netsec-tmp-") {
            continue; // an in-flight temp of a killed writer: never listed by netsec
        }
        let bytes = fs::read(base.join(&rel)).expect("read remote object");
        assert_eq!(
            blake3::hash(&bytes).to_hex().to_string(),
            name,
            "remote object {rel} does not match its name"
        );
    }
}

fn ran(pipeline: &str) -> (Project, TempDir) {
    let (p, r) = project_with_remote(pipeline);
    p.file("raw.txt", "alpha\nbeta\n");
    p.repro(&[], 0).expect("make", "ran").expect("model", "ran");
    (p, r)
}

fn wipe(p: &Project) {
    for rel in [".netsec", "data", "single.txt", "final_model"] {
        if p.exists(rel) {
            p.remove(rel);
        }
    }
}

#[test]
fn push_then_pull_into_an_empty_cache_gives_identical_outs() {
    let (p, r) = ran(SHARED);
    let before: Vec<(String, Vec<u8>)> = [
        "data/a.txt",
        "data/sub/b.txt",
        "single.txt",
        "final_model/bundle.json",
    ]
    .iter()
    .map(|f| (f.to_string(), fs::read(p.path(f)).unwrap()))
    .collect();
    let push = p.run(&["push", "--json"]);
    push.code(0).says("Pushed");
    let j = push.json();
    // data/ manifest + a.txt + b.txt, single.txt (same bytes as a.txt), final_model manifest +
    // bundle.json (same bytes as single.txt): 4 distinct objects... counted by digest.
    let uploaded = j["uploaded"].as_u64().unwrap();
    assert_eq!(uploaded as usize, remote_objects(&r).len());
    assert!(uploaded >= 4, "{j}");
    assert_eq!(j["present"], 0);
    assert_remote_intact(&r);

    // The snapshot: copies under artifact/<ts>/ and final_model/<ts>/, manifest last.
    let ts = j["snapshot"]["timestamp"].as_str().unwrap().to_string();
    assert_eq!(ts.len(), 16, "{ts}");
    let manifest: Value =
        serde_json::from_slice(&fs::read(store(&r).join(format!("snapshots/{ts}.json"))).unwrap())
            .unwrap();
    for key in [
        format!("artifact/{ts}/data/a.txt"),
        format!("artifact/{ts}/data/sub/b.txt"),
        format!("artifact/{ts}/single.txt"),
        format!("artifact/{ts}/metrics.json"),
        format!("artifact/{ts}/final_model/bundle.json"),
        format!("final_model/{ts}/bundle.json"),
    ] {
        assert!(store(&r).join(&key).is_file(), "{key} missing");
        assert!(
            manifest["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k == &key),
            "{key} not in the manifest {manifest}"
        );
    }
    assert_eq!(
        fs::read(store(&r).join(format!("final_model/{ts}/bundle.json"))).unwrap(),
        b"alpha\nbeta\n"
    );
    assert_eq!(manifest["metrics"]["metrics.json"]["test"]["f1"], 0.9);
    let lock = fs::read(p.path("netsec.lock")).unwrap();
    assert_eq!(
        manifest["lock_digest"],
        blake3::hash(&lock).to_hex().to_string()
    );
    assert!(
        manifest["git_commit"].is_null(),
        "not a git repo: {manifest}"
    );

    // Nothing new: the second push uploads nothing, and makes a second snapshot.
    let again = p.run(&["push", "--json"]);
    again.code(0);
    let j2 = again.json();
    assert_eq!(j2["uploaded"], 0, "{j2}");
    assert_eq!(j2["present"].as_u64().unwrap(), uploaded);
    assert_ne!(j2["snapshot"]["timestamp"], j["snapshot"]["timestamp"]);
    let snaps = p.run(&["snapshots", "--json"]);
    snaps.code(0);
    let list = snaps.json();
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    assert_eq!(list[0]["timestamp"].as_str().unwrap(), ts);
    p.run(&["snapshots"])
        .code(0)
        .says(&ts)
        .says("test.f1=0.9000");

    // Empty cache, no outs: pull brings back byte-identical outs without running anything.
    wipe(&p);
    let pull = p.run(&["pull", "--json"]);
    pull.code(0).says("Fetched");
    assert_eq!(pull.json()["downloaded"].as_u64().unwrap(), uploaded);
    for (f, bytes) in &before {
        assert_eq!(
            &fs::read(p.path(f)).unwrap(),
            bytes,
            "{f} differs after pull"
        );
    }
    p.assert_cache_intact();
    assert!(p.status().up_to_date());
    assert_eq!(p.run_count("make"), 1);
}

#[test]
fn a_corrupt_remote_object_is_refused_and_missing_ones_are_listed() {
    let (p, r) = ran(SHARED);
    p.run(&["push", "--no-snapshot"]).code(0);
    let a_digest = blake3::hash(b"b\n").to_hex().to_string();
    let victim = store(&r).join(format!(
        "files/blake3/{}/{}",
        &a_digest[..2],
        &a_digest[2..]
    ));
    assert!(victim.is_file());
    fs::write(&victim, b"rotten\n").unwrap();
    wipe(&p);
    let pull = p.run(&["pull"]);
    pull.code(5)
        .says(&format!(
            "files/blake3/{}/{}",
            &a_digest[..2],
            &a_digest[2..]
        ))
        .says("remote `origin`")
        .says(&store(&r).display().to_string())
        .says("does not match");
    assert!(
        !p.cache_holds(b"rotten\n"),
        "a corrupt object entered the cache"
    );
    p.assert_cache_intact();

    // Two objects gone: both named in one error.
    wipe(&p);
    fs::remove_file(&victim).unwrap();
    let single = blake3::hash(b"alpha\nbeta\n").to_hex().to_string();
    fs::remove_file(store(&r).join(format!("files/blake3/{}/{}", &single[..2], &single[2..])))
        .unwrap();
    let fetch = p.run(&["fetch"]);
    fetch
        .code(5)
        .says("2 object(s) missing")
        .says(&a_digest[2..])
        .says(&single[2..]);
}

#[test]
fn gc_remote_drops_what_the_lock_no_longer_needs_but_keeps_snapshots() {
    let (p, r) = ran(SHARED);
    p.run(&["push", "--json"]).code(0);
    let old = remote_objects(&r);
    p.file("raw.txt", "gamma\n");
    p.repro(&[], 0).expect("make", "ran");
    p.run(&["push"]).code(0);
    let all = remote_objects(&r);
    assert!(all.len() > old.len());

    let dry = p.run(&["gc", "-w", "--remote", "--dry-run", "--json"]);
    dry.code(0).says("Would remove");
    let removed = dry.json()["removed_objects"].as_u64().unwrap();
    assert!(removed > 0, "{}", dry.stdout);
    assert_eq!(remote_objects(&r), all, "a dry run deleted something");

    p.run(&["gc", "-w", "-f", "-r", "origin"])
        .code(0)
        .says("Removed");
    let kept = remote_objects(&r);
    assert_eq!(kept.len() as u64, all.len() as u64 - removed);
    // The old version's unique object is gone from files/, its snapshot copy is not.
    let alpha = blake3::hash(b"alpha\nbeta\n").to_hex().to_string();
    assert!(!kept.contains(&format!("{}/{}", &alpha[..2], &alpha[2..])));
    let list = p.run(&["snapshots", "--json"]).json();
    let first = list[0]["timestamp"].as_str().unwrap();
    assert_eq!(
        fs::read(store(&r).join(format!("artifact/{first}/single.txt"))).unwrap(),
        b"alpha\nbeta\n"
    );
    // What the lock needs still pulls.
    wipe(&p);
    p.run(&["pull"]).code(0);
    assert_eq!(p.read("single.txt"), "gamma\n");
}

#[test]
fn remote_config_errors_name_the_line_and_key() {
    let unknown = Project::with_pipeline("[remotes.origin]\nurl = \"/tmp/x\"\nbucket = \"b\"\n");
    unknown
        .run(&["remote", "list"])
        .code(3)
        .says("pipeline.toml:3:1")
        .says("unknown key `bucket`");
    let two = Project::with_pipeline(
        "[remotes.a]\nurl = \"/tmp/a\"\ndefault = true\n[remotes.b]\nurl = \"/tmp/b\"\ndefault = true\n",
    );
    two.run(&["push"])
        .code(3)
        .says("pipeline.toml:6:11")
        .says("both `default = true`");
    let no_url = Project::with_pipeline("[remotes.origin]\nregion = \"eu-west-1\"\n");
    no_url.run(&["push"]).code(3).says("has no `url`");
    let scheme = Project::with_pipeline("[remotes.origin]\nurl = \"gs://b/p\"\n");
    scheme
        .run(&["push"])
        .code(3)
        .says("unsupported URL scheme `gs://`");

    let none = Project::with_pipeline("[stages.a]\ncmd = \"echo a > a.txt\"\nouts = [\"a.txt\"]\n");
    none.run(&["push"])
        .code(2)
        .says("no remote is configured")
        .says("[remotes.origin]");
    none.run(&["pull", "-r", "nope"])
        .code(2)
        .says("no remote named `nope`");

    let listed = Project::with_pipeline(
        "[remotes.a]\nurl = \"/tmp/a\"\n[remotes.b]\nurl = \"s3://bucket/p\"\ndefault = true\n",
    );
    let j = listed.run(&["remote", "list", "--json"]);
    j.code(0);
    let v = j.json();
    assert_eq!(v[0]["name"], "a");
    assert_eq!(v[0]["default"], false);
    assert_eq!(v[1]["url"], "s3://bucket/p");
    assert_eq!(v[1]["default"], true);
    listed
        .run(&["remote", "list"])
        .code(0)
        .says("b\ts3://bucket/p  (default)");
}
