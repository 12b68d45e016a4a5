//! The binary (built with the whole workspace, where bson switches serde_json's `preserve_order`
//! on) writes the same `netsec.lock` bytes for the golden fixture as the engine built alone
//! (`engine/tests/golden_lock.rs`, run by scripts/test.sh without that feature), and
//! `repro -f` twice in a row leaves the lock byte-identical.

use crate::support::Project;

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/engine/tests/golden/");

fn golden(name: &str) -> String {
    std::fs::read_to_string(format!("{GOLDEN}{name}")).expect("golden fixture")
}

#[test]
fn lock_bytes_match_the_engine_only_build() {
    let p = Project::with_pipeline(&golden("pipeline.toml"));
    p.file("params.yaml", &golden("params.yaml"));
    p.file("in.txt", &golden("in.txt"));
    p.repro(&[], 0)
        .expect("prepare", "ran")
        .expect("report", "ran");
    let expected = golden("netsec.lock.expected");
    assert_eq!(p.read("netsec.lock"), expected);
    p.repro(&["-f"], 0).expect("prepare", "ran");
    assert_eq!(p.read("netsec.lock"), expected);
    p.repro(&["-f"], 0).expect("report", "ran");
    assert_eq!(p.read("netsec.lock"), expected);
}
