//! Every operation against the real S3 server (moto in IAM mode): small and multipart uploads,
//! streamed downloads, listing, copies, batched deletes, concurrent callers.

#![allow(clippy::unwrap_used)]

mod support;

use netsec_engine::remote::{RemoteErrorKind, RemoteObject};
use netsec_remote_s3::Tuning;
use std::sync::atomic::{AtomicU64, Ordering};
use support::*;

const MIB: u64 = 1024 * 1024;

#[test]
fn bytes_round_trip_exists_list_copy_delete() {
    let Some(env) = server() else { return };
    let r = open(&env, "basic");
    assert!(r.describe().starts_with("s3://"));
    assert!(!r.exists("files/blake3/ab/cdef").unwrap());
    r.put_bytes("files/blake3/ab/cdef", b"hello").unwrap();
    r.put_bytes("files/blake3/01/23", b"").unwrap();
    r.put_bytes("runs/blake3/ff/00.json", b"{}").unwrap();
    assert!(r.exists("files/blake3/ab/cdef").unwrap());
    assert_eq!(r.get_bytes("files/blake3/ab/cdef").unwrap(), b"hello");
    assert_eq!(r.get_bytes("files/blake3/01/23").unwrap(), b"");

    // keys come back relative to the remote's prefix, sorted, with sizes
    let files = r.list("files/").unwrap();
    assert_eq!(
        files,
        vec![
            RemoteObject {
                key: "files/blake3/01/23".into(),
                size: 0
            },
            RemoteObject {
                key: "files/blake3/ab/cdef".into(),
                size: 5
            },
        ]
    );
    assert_eq!(r.list("").unwrap().len(), 3);
    assert!(r.list("nothing/").unwrap().is_empty());

    r.copy(
        "files/blake3/ab/cdef",
        "artifact/20260101T000000Z/data/a b+c.csv",
    )
    .unwrap();
    assert_eq!(
        r.get_bytes("artifact/20260101T000000Z/data/a b+c.csv")
            .unwrap(),
        b"hello"
    );
    // replacing an object
    r.put_bytes("files/blake3/ab/cdef", b"hello again").unwrap();
    assert_eq!(r.get_bytes("files/blake3/ab/cdef").unwrap(), b"hello again");

    let all: Vec<String> = r.list("").unwrap().into_iter().map(|o| o.key).collect();
    let mut with_missing = all.clone();
    with_missing.push("files/blake3/no/such".into()); // already gone: not an error
    r.delete(&with_missing).unwrap();
    assert!(r.list("").unwrap().is_empty());
    r.delete(&[]).unwrap();
}

#[test]
fn small_file_put_and_streamed_get() {
    let Some(env) = server() else { return };
    let r = open(&env, "small");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.bin");
    let data = bytes(3 * MIB as usize + 17, 7);
    std::fs::write(&src, &data).unwrap();
    let up = AtomicU64::new(0);
    r.put_file("files/blake3/aa/small", &src, &|n| {
        up.fetch_add(n, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(up.load(Ordering::Relaxed), data.len() as u64);

    let dest = dir.path().join("dest.bin");
    std::fs::write(&dest, b"stale content that must be truncated away").unwrap();
    let down = AtomicU64::new(0);
    r.get_file("files/blake3/aa/small", &dest, &|n| {
        down.fetch_add(n, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(down.load(Ordering::Relaxed), data.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), data);
}

#[test]
fn multipart_upload_and_copy_of_a_20_mib_file() {
    let Some(env) = server() else { return };
    // 5 MiB parts (the S3 minimum) above 6 MiB: the 20 MiB file goes up in 4 parts, 3 at a time.
    let tuning = Tuning {
        multipart_threshold: 6 * MIB,
        part_size: 5 * MIB,
        parts_in_flight: 3,
        copy_threshold: 6 * MIB,
        copy_part_size: 5 * MIB,
    };
    let r = open_tuned(&env, "multipart", tuning);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    let data = bytes(20 * MIB as usize + 123, 11);
    std::fs::write(&src, &data).unwrap();
    let calls = AtomicU64::new(0);
    let sent = AtomicU64::new(0);
    r.put_file("files/blake3/bb/big", &src, &|n| {
        calls.fetch_add(1, Ordering::Relaxed);
        sent.fetch_add(n, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(sent.load(Ordering::Relaxed), data.len() as u64);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        5,
        "one progress call per part"
    );
    assert_eq!(
        r.list("files/").unwrap(),
        vec![RemoteObject {
            key: "files/blake3/bb/big".into(),
            size: data.len() as u64
        }]
    );

    let dest = dir.path().join("back.bin");
    r.get_file("files/blake3/bb/big", &dest, &|_| {}).unwrap();
    assert_eq!(
        blake3::hash(&std::fs::read(&dest).unwrap()),
        blake3::hash(&data)
    );

    // above copy_threshold: UploadPartCopy ranges, server-side
    r.copy(
        "files/blake3/bb/big",
        "final_model/20260101T000000Z/model.bin",
    )
    .unwrap();
    let copy = r
        .get_bytes("final_model/20260101T000000Z/model.bin")
        .unwrap();
    assert_eq!(blake3::hash(&copy), blake3::hash(&data));
    r.delete(&[
        "files/blake3/bb/big".into(),
        "final_model/20260101T000000Z/model.bin".into(),
    ])
    .unwrap();
}

#[test]
fn failed_multipart_upload_leaves_no_object() {
    let Some(env) = server() else { return };
    let tuning = Tuning {
        multipart_threshold: 5 * MIB,
        part_size: 5 * MIB,
        parts_in_flight: 1,
        ..Tuning::default()
    };
    let r = open_tuned(&env, "mpfail", tuning);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("shrinks.bin");
    std::fs::write(&src, bytes(12 * MIB as usize, 3)).unwrap();
    // The file shrinks after the upload planned its parts: the last part cannot be read,
    // the upload is aborted and the key never appears.
    let path = src.clone();
    let first = std::sync::Once::new();
    let err = r
        .put_file("files/blake3/cc/partial", &src, &|_| {
            first.call_once(|| {
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.set_len(MIB).unwrap();
            })
        })
        .unwrap_err();
    assert_ne!(err.kind, RemoteErrorKind::Denied, "{err}");
    assert!(
        !r.exists("files/blake3/cc/partial").unwrap(),
        "a failed multipart upload must not be visible"
    );
}

#[test]
fn concurrent_callers_share_one_remote() {
    let Some(env) = server() else { return };
    let r = open(&env, "concurrent");
    let dir = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        for i in 0..8u64 {
            let (r, dir) = (&r, dir.path());
            s.spawn(move || {
                let p = dir.join(format!("f{i}"));
                let data = bytes(256 * 1024 + i as usize, i + 1);
                std::fs::write(&p, &data).unwrap();
                let key = format!("files/blake3/0{i}/x");
                r.put_file(&key, &p, &|_| {}).unwrap();
                assert_eq!(r.get_bytes(&key).unwrap(), data);
            });
        }
    });
    assert_eq!(r.list("files/").unwrap().len(), 8);
}

#[test]
fn delete_goes_in_batches_of_1000() {
    let Some(env) = server() else { return };
    let r = open(&env, "batch");
    let keys: Vec<String> = (0..1003)
        .map(|i| format!("runs/blake3/{:02x}/{i}.json", i % 256))
        .collect();
    std::thread::scope(|s| {
        for chunk in keys.chunks(126) {
            let r = &r;
            s.spawn(move || {
                for k in chunk {
                    r.put_bytes(k, b"{}").unwrap();
                }
            });
        }
    });
    assert_eq!(
        r.list("runs/").unwrap().len(),
        1003,
        "listing pages past 1000 keys"
    );
    r.delete(&keys).unwrap();
    assert!(r.list("runs/").unwrap().is_empty());
}
