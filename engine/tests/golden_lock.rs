//! The lock is canonical: the same pipeline gives byte-identical `netsec.lock` bytes from any
//! build. `scripts/test.sh` runs this test alone (`-p netsec-engine`, so serde_json is built
//! without `preserve_order`); the binary's suite runs the same fixture with the whole workspace
//! (where bson switches `preserve_order` on) against the same expected file.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use netsec_engine::{repro, Cancel, Event, Extensions, Repo, ReproOptions};

fn copy_fixture(to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for name in ["pipeline.toml", "params.yaml", "in.txt"] {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

/// Whether serde_json's `Map` keeps insertion order in this build.
fn preserve_order() -> bool {
    let mut m = serde_json::Map::new();
    m.insert("b".into(), serde_json::Value::Null);
    m.insert("a".into(), serde_json::Value::Null);
    m.keys().next().map(String::as_str) == Some("b")
}

#[test]
fn lock_bytes_do_not_depend_on_serde_features() {
    if std::env::var("NETSEC_EXPECT_SORTED_MAP").as_deref() == Ok("1") {
        assert!(
            !preserve_order(),
            "this run must build serde_json without preserve_order"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    let (repo, _) = Repo::open(dir.path(), Extensions::default(), BTreeMap::new()).unwrap();
    let sink = |_: Event<'_>| {};
    let result = repro(&repo, &ReproOptions::default(), &Cancel::new(), &sink).unwrap();
    assert_eq!(result.exit_code, 0);
    let got = std::fs::read_to_string(dir.path().join("netsec.lock")).unwrap();
    let expected_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/netsec.lock.expected");
    if std::env::var("NETSEC_BLESS").as_deref() == Ok("1") {
        std::fs::write(&expected_path, &got).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap();
    assert_eq!(
        got,
        expected,
        "netsec.lock differs from tests/golden/netsec.lock.expected (preserve_order: {})",
        preserve_order()
    );
}
