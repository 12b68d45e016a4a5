//! The local content-addressed cache: layout, `checkout`, `gc`, and its integrity.

use std::fs;

use crate::chain_ran;
use crate::support::Project;

#[test]
fn objects_are_stored_under_their_blake3_digest() {
    let p = chain_ran();
    let content = p.read("prepared.txt");
    let hex = blake3::hash(content.as_bytes()).to_hex().to_string();
    let object = p.path(&format!(
        ".netsec/cache/objects-v1/{}/{}",
        &hex[..2],
        &hex[2..]
    ));
    assert!(
        object.is_file(),
        "expected {} in {:?}",
        object.display(),
        p.cache_objects()
    );
    assert_eq!(fs::read_to_string(&object).expect("read object"), content);
}

#[test]
fn checkout_restores_deleted_outs_without_running() {
    let p = chain_ran();
    let model = p.read("model.txt");
    p.remove("model.txt");
    p.remove("prepared.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("model.txt"), model);
    assert_eq!(p.read("prepared.txt"), "alpha\nbeta\n");
    assert_eq!(p.runs().len(), 2, "checkout never runs commands");
    assert!(p.status().up_to_date());
}

#[test]
fn editing_an_out_in_place_never_corrupts_the_cache() {
    let p = chain_ran();
    // Append through the existing inode: a hardlinked cache object would change with it.
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(p.path("prepared.txt"))
        .expect("open out");
    std::io::Write::write_all(&mut f, b"appended in place\n").expect("append");
    drop(f);
    p.assert_cache_intact();
    p.remove("prepared.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("prepared.txt"), "alpha\nbeta\n");
}

#[test]
fn gc_drops_unreferenced_objects_and_keeps_referenced_ones() {
    let p = Project::with_pipeline(
        r#"
[stages.snap]
cmd = "cat src.txt > snap.txt"
outs = ["snap.txt"]
always_changed = true

[stages.copy]
cmd = "tr a-z A-Z < snap.txt > copy.txt"
deps = ["snap.txt"]
outs = ["copy.txt"]
"#,
    );
    p.file("src.txt", "first snapshot\n");
    p.repro(&[], 0);
    // always_changed disables the run-cache, so the old snapshot is referenced by nothing
    // (copy's outs differ in case, so its run-cache entries never name the snapshot bytes).
    p.file("src.txt", "second snapshot\n");
    p.repro(&[], 0);
    assert!(p.cache_holds(b"first snapshot\n") && p.cache_holds(b"second snapshot\n"));

    // A stray object nobody references, named like a real one.
    let stray = b"stray object\n";
    let hex = blake3::hash(stray).to_hex().to_string();
    p.file(
        &format!(".netsec/cache/objects-v1/{}/{}", &hex[..2], &hex[2..]),
        "stray object\n",
    );

    p.run(&["gc", "-w", "-f"]).code(0);
    assert!(!p.cache_holds(stray), "stray object survived gc");
    assert!(
        !p.cache_holds(b"first snapshot\n"),
        "unreferenced object survived gc"
    );
    assert!(
        p.cache_holds(b"second snapshot\n"),
        "referenced object was collected"
    );

    // Everything the lock references is still restorable.
    p.remove("snap.txt");
    p.remove("copy.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("snap.txt"), "second snapshot\n");
    assert_eq!(p.read("copy.txt"), "SECOND SNAPSHOT\n");
}

#[test]
fn revert_after_gc_still_yields_the_right_out() {
    let p = chain_ran();
    let v1 = p.read("prepared.txt");
    p.file("raw.txt", "version two\n");
    p.repro(&[], 0);
    p.run(&["gc", "-w", "-f"]).code(0);
    assert!(p.cache_holds(p.read("prepared.txt").as_bytes()));
    // Whether gc kept the run-cache's objects or not, reverting must give v1 back.
    p.file("raw.txt", "alpha\nbeta\n");
    let r = p.repro(&[], 0);
    let outcome = r.outcome("prepare");
    assert!(outcome == "ran" || outcome == "restored", "{}", r.raw);
    assert_eq!(p.read("prepared.txt"), v1);
    assert!(p.status().up_to_date());
}

#[test]
fn gc_on_a_fresh_workspace_is_harmless() {
    let p = Project::with_pipeline(crate::CHAIN);
    p.file("raw.txt", "x\n");
    p.run(&["gc", "-w", "-f"]).code(0);
    p.repro(&[], 0);
    p.run(&["gc", "-w", "-f"]).code(0);
    p.remove("model.txt");
    p.run(&["checkout"]).code(0);
    assert!(p.status().up_to_date());
}

#[test]
fn gc_dry_run_deletes_nothing() {
    let p = chain_ran();
    let stray = b"stray for dry run\n";
    let hex = blake3::hash(stray).to_hex().to_string();
    let rel = format!(".netsec/cache/objects-v1/{}/{}", &hex[..2], &hex[2..]);
    p.file(&rel, "stray for dry run\n");
    let before = p.cache_objects();
    p.run(&["gc", "-w", "--dry-run"]).code(0);
    assert_eq!(p.cache_objects(), before);
    p.run(&["gc", "-w", "-f"]).code(0);
    assert!(!p.exists(&rel));
}

#[test]
fn checkout_of_one_stage_leaves_the_others_alone() {
    let p = chain_ran();
    p.remove("prepared.txt");
    p.remove("model.txt");
    p.run(&["checkout", "train"]).code(0);
    assert!(p.exists("model.txt"));
    assert!(!p.exists("prepared.txt"));
}

#[test]
fn deleting_the_lock_is_safe_thanks_to_the_run_cache() {
    let p = chain_ran();
    let lock = p.read("netsec.lock");
    p.remove("netsec.lock");
    let r = p.repro(&[], 0);
    r.expect("prepare", "restored").expect("train", "restored");
    assert_eq!(p.runs().len(), 2, "nothing re-ran");
    assert_eq!(
        p.read("netsec.lock"),
        lock,
        "the lock is rebuilt identically"
    );
}

#[test]
fn corrupt_lock_is_reported_by_name() {
    let p = chain_ran();
    p.file("netsec.lock", "<<<<<<< HEAD\n{\"version\": 1}\n=======\n");
    let run = p.run(&["status"]);
    assert_ne!(run.exit, 0);
    run.says("netsec.lock");
    assert_eq!(p.runs().len(), 2);
}

/// Above the hard-link threshold (64 MiB, docs/ARCHITECTURE.md) an in-place edit as root can reach
/// the object; the documented promise is that a damaged object is never handed back as valid.
#[test]
fn damaged_large_object_is_never_restored_as_valid() {
    const SIZE: u64 = 65 * 1024 * 1024;
    let p = Project::with_pipeline(&format!(
        r#"
[stages.big]
cmd = "echo big >> runs.log && head -c {SIZE} /dev/zero > big.bin"
deps = ["in.txt"]
outs = ["big.bin"]
"#
    ));
    p.file("in.txt", "x\n");
    p.repro(&[], 0).expect("big", "ran");
    let Ok(mut f) = fs::OpenOptions::new().append(true).open(p.path("big.bin")) else {
        eprintln!("skipped: the out is read-only to this user, so it cannot be damaged in place");
        return;
    };
    std::io::Write::write_all(&mut f, b"damage").expect("append");
    drop(f);
    assert_eq!(p.status().of("big"), "dirty");

    p.remove("big.bin");
    let checkout = p.run(&["checkout"]);
    match checkout.exit {
        0 => assert_eq!(
            fs::metadata(p.path("big.bin")).expect("restored").len(),
            SIZE,
            "checkout restored a damaged object"
        ),
        5 => {
            checkout.says("big.bin");
        }
        other => panic!("checkout exited {other}: {checkout:?}"),
    }
    // A rerun replaces the damaged object instead of restoring it.
    let r = p.repro(&[], 0);
    let outcome = r.outcome("big");
    assert!(outcome == "ran" || outcome == "skipped", "{}", r.raw);
    assert_eq!(fs::metadata(p.path("big.bin")).expect("out").len(), SIZE);
    assert!(p.status().up_to_date());
    p.assert_cache_intact();
}
