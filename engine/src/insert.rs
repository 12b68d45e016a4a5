//! Hashing an out and inserting it into the cache in one pass (what a stage's commit does).
//!
//! A small file is opened and read once: its bytes are hashed and the object is written from
//! the same buffer (temp name in its shard, then rename), instead of hashing by path and copying
//! by path afterwards. The files of a directory are done in parallel. Larger files keep the
//! paths of `Cache` (concurrent hash + copy, or a hard link from `LINK_MIN` up).

use std::fs;
use std::io;
use std::path::Path;

use rayon::prelude::*;

use crate::cache::Cache;
use crate::digest::{
    hash_file, list_tree, manifest_of, Digest, DirManifest, Hashed, ManifestEntry,
};
use crate::memo::Memo;

/// Files below this size are read whole into memory, hashed, and stored from that buffer.
pub const SMALL_FILE: u64 = 1 << 20;

/// Files at least this big are hashed while they are copied into the cache.
pub const CONCURRENT_INSERT: u64 = 8 << 20;

/// Hash the file or directory at `abs` and store it (every file, plus the manifest of a
/// directory) in `cache`. `Ok(None)` if it does not exist. The digests and the manifest are
/// exactly those `digest::hash_path` computes.
pub fn hash_insert_path(
    cache: &Cache,
    root: &Path,
    abs: &Path,
    memo: &Memo,
) -> io::Result<Option<Hashed>> {
    let meta = match fs::metadata(abs) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        let manifest = hash_insert_dir(cache, root, abs, memo)?;
        return Ok(Some(Hashed::Dir {
            digest: manifest.digest(),
            size: manifest.total_size(),
            manifest,
        }));
    }
    let (digest, size) = hash_insert_file(cache, abs, &meta, memo)?;
    Ok(Some(Hashed::File { digest, size }))
}

/// Hash and store every file under `dir` (in parallel), then its manifest object.
pub fn hash_insert_dir(
    cache: &Cache,
    root: &Path,
    dir: &Path,
    memo: &Memo,
) -> io::Result<DirManifest> {
    let files = list_tree(root, dir)?;
    let one =
        |f: &crate::digest::TreeFile| hash_insert_file(cache, &dir.join(&f.rel), &f.meta, memo);
    let done: Vec<io::Result<(Digest, u64)>> = if files.len() > 1 {
        files.par_iter().map(one).collect()
    } else {
        files.iter().map(one).collect()
    };
    let mut entries = Vec::with_capacity(files.len());
    for (f, r) in files.into_iter().zip(done) {
        let (digest, size) = r?;
        entries.push((f.rel, ManifestEntry { digest, size }));
    }
    let manifest = manifest_of(entries.into_iter());
    // Stored like any small object (temp name, rename, no fsync): a manifest lost to a power
    // cut is found missing or corrupt by its digest, as a file object would be.
    let bytes = manifest.to_bytes();
    cache.store_bytes(&Digest::of_bytes(&bytes), &bytes, memo)?;
    Ok(manifest)
}

/// Hash and store one file whose stat is `meta`; returns its digest and size.
pub fn hash_insert_file(
    cache: &Cache,
    path: &Path,
    meta: &fs::Metadata,
    memo: &Memo,
) -> io::Result<(Digest, u64)> {
    if meta.len() >= CONCURRENT_INSERT {
        return Ok((cache.hash_insert_file(path, meta, memo)?, meta.len()));
    }
    if meta.len() >= SMALL_FILE {
        let d = hash_file(path, meta, memo)?;
        cache.insert_file(path, &d, memo)?;
        return Ok((d, meta.len()));
    }
    insert_small(cache, path, meta, memo)
}

/// One open and one read: hash the bytes, write the object from them.
fn insert_small(
    cache: &Cache,
    path: &Path,
    meta: &fs::Metadata,
    memo: &Memo,
) -> io::Result<(Digest, u64)> {
    // Known content and an intact object: nothing to read or write.
    let known = memo.get(meta);
    if let Some(d) = known {
        if cache.has_valid(&d, memo) {
            return Ok((d, meta.len()));
        }
    }
    let f = fs::File::open(path)?;
    // The stat of the open file describes exactly the bytes read below (the walk's stat may
    // predate a rewrite), so the memo key and the recorded size always match the content.
    let now = f.metadata()?;
    let bytes = crate::digest::read_to_end_sized(f, now.len())?;
    let d = Digest::of_bytes(&bytes);
    if now.len() == bytes.len() as u64 {
        memo.insert(&now, &d);
    }
    if known == Some(d) {
        // Just found missing or damaged: write without probing again.
        cache.write_bytes(&d, &bytes, memo)?;
    } else {
        cache.store_bytes(&d, &bytes, memo)?;
    }
    Ok((d, bytes.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Inserted;
    use crate::digest::{hash_dir, hash_path};
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn one_pass_insert_matches_hash_path_and_stores_every_object() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(&t.path().join(".netsec"));
        let d = t.path().join("out");
        for i in 0..300 {
            let sub = d.join(format!("d{}", i % 7));
            fs::create_dir_all(&sub).unwrap();
            fs::write(
                sub.join(format!("f{i}.txt")),
                format!("file {i}\n").repeat(i % 5),
            )
            .unwrap();
        }
        // Duplicates (one object, written concurrently) and a file above SMALL_FILE.
        fs::write(d.join("dup-a"), b"same").unwrap();
        fs::write(d.join("dup-b"), b"same").unwrap();
        let big: Vec<u8> = (0..(SMALL_FILE as usize + 4097))
            .map(|i| (i % 249) as u8)
            .collect();
        fs::write(d.join("big.bin"), &big).unwrap();
        let memo = Memo::ephemeral();
        let h = hash_insert_path(&cache, t.path(), &d, &memo)
            .unwrap()
            .unwrap();
        let plain = hash_path(t.path(), &d, &Memo::ephemeral())
            .unwrap()
            .unwrap();
        assert_eq!(h, plain, "same digest and manifest as hashing alone");
        let Hashed::Dir { manifest, .. } = &h else {
            panic!("a directory")
        };
        assert_eq!(manifest.files.len(), 303);
        // Every object is present, intact and read-only; the manifest is an object too.
        let fresh = Memo::ephemeral();
        for e in manifest.files.values() {
            assert!(cache.has_valid(&e.digest, &fresh));
            let mode = fs::metadata(cache.object_path(&e.digest)).unwrap().mode();
            assert_eq!(mode & 0o222, 0, "objects are read-only");
        }
        assert_eq!(cache.read_manifest(&h.digest()).unwrap(), *manifest);
        // No temp file is left behind in any shard.
        let leftovers: Vec<_> = cache
            .list()
            .unwrap()
            .into_iter()
            .filter(|(_, p)| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".tmp-")
            })
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        // A second pass finds everything present; a single small file takes the same path.
        let again = hash_insert_path(&cache, t.path(), &d, &memo)
            .unwrap()
            .unwrap();
        assert_eq!(again, h);
        let f = d.join("d0/f7.txt");
        let hf = hash_insert_path(&cache, t.path(), &f, &memo)
            .unwrap()
            .unwrap();
        assert_eq!(hf.digest(), Digest::of_bytes(&fs::read(&f).unwrap()));
        assert!(hash_insert_path(&cache, t.path(), &d.join("nope"), &memo)
            .unwrap()
            .is_none());
        // Same bytes as hash_dir, including a nested .dvcignore.
        fs::write(d.join(".dvcignore"), b"*.tmp\n").unwrap();
        fs::write(d.join("x.tmp"), b"ignored").unwrap();
        let m = hash_insert_dir(&cache, t.path(), &d, &memo).unwrap();
        assert_eq!(m, hash_dir(t.path(), &d, &Memo::ephemeral()).unwrap());
        assert!(!m.files.contains_key("x.tmp"));
    }

    #[test]
    fn store_bytes_is_atomic_and_recreates_a_vanished_shard() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(&t.path().join(".netsec"));
        let memo = Memo::ephemeral();
        let d = Digest::of_bytes(b"abc");
        assert_eq!(
            cache.store_bytes(&d, b"abc", &memo).unwrap(),
            Inserted::Written
        );
        assert_eq!(
            cache.store_bytes(&d, b"abc", &memo).unwrap(),
            Inserted::AlreadyPresent
        );
        // The shard directory is remembered; if it disappears mid-run, it is made again.
        let shard = cache.object_path(&d).parent().unwrap().to_path_buf();
        fs::remove_dir_all(&shard).unwrap();
        assert_eq!(
            cache.store_bytes(&d, b"abc", &memo).unwrap(),
            Inserted::Written
        );
        assert_eq!(fs::read(cache.object_path(&d)).unwrap(), b"abc");
        // A damaged object (same size) is not trusted: it is replaced.
        let obj = cache.object_path(&d);
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&obj, b"xyz").unwrap();
        assert_eq!(
            cache.store_bytes(&d, b"abc", &Memo::ephemeral()).unwrap(),
            Inserted::Written
        );
        assert_eq!(fs::read(&obj).unwrap(), b"abc");
    }
}
