//! The hash memo: `(dev, inode, size, mtime_ns) → blake3` so unchanged files are not re-read.
//! It only ever skips work; it is never part of a fingerprint, and losing it is harmless.
//!
//! Each entry also keeps the file's ctime and link count when it was vouched for. A user can
//! set a file's mtime back (`touch -d`) after editing it, but not its ctime: an entry whose
//! ctime moved while the link count stayed the same is not trusted (the file is re-hashed).
//! A ctime that moved together with the link count is a hard link made or removed (netsec
//! links large objects into the workspace), which changes no content. Without this, a cache
//! object with a flipped byte and its old mtime restored was vouched for, restored and pushed.
//!
//! On disk (`.netsec/state/memo-v3`): an 8-byte magic then fixed 88-byte records (six
//! little-endian u64/i64, the 32-byte digest, then a 64-bit check of the other 80 bytes), so
//! loading 10,000 entries costs a memcpy. A save that changed few entries appends their
//! records (a later record of a key overrides an earlier one) instead of rewriting the file:
//! re-sealing one restored 1 GiB out must not rewrite a memo of 100,000 entries. The file is
//! compacted (rewritten atomically) when appended records would outnumber live ones. A torn
//! append (a crash mid-write) leaves a misaligned tail or a record whose check fails: both
//! are dropped on load, and the next save rewrites the file.
//!
//! Indexing is lazy: loading reads the bytes, and the first few lookups scan the records from
//! the end (the last record of a key wins) instead of building a map of 100,000 entries that a
//! `checkout` of one out would probe once. Past [`SCAN_LIMIT`] lookups, or when a save must
//! rewrite the file, every record is indexed; entries looked up or added before stay on top.

use std::collections::HashMap;
use std::fs::Metadata;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::digest::Digest;
use netsec_common::atomic::{write_atomic, Durability};

const MAGIC: &[u8; 8] = b"NSMEMO3\n";
const RECORD: usize = 88;
/// The bytes of a record covered by its check.
const BODY: usize = 80;
/// Files modified this recently are not memoised (see [`crate::stamp::RACY_NS`]).
use crate::stamp::RACY_NS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
}

/// What identifies a file's inode state beyond the key (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seal {
    ctime_ns: i64,
    nlink: u64,
}

impl Seal {
    fn of(meta: &Metadata) -> Seal {
        Seal {
            ctime_ns: meta
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
            nlink: meta.nlink(),
        }
    }

    /// The stat `now` may be vouched for by an entry sealed as `self`.
    fn admits(self, now: Seal) -> bool {
        self.ctime_ns == now.ctime_ns || self.nlink != now.nlink
    }
}

impl MemoKey {
    pub fn of(meta: &Metadata) -> MemoKey {
        MemoKey {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
        }
    }
}

/// One remembered digest, whether this process looked it up or added it, and whether it
/// differs from what the file on disk says.
#[derive(Debug, Clone, Copy)]
struct Slot {
    digest: [u8; 32],
    seal: Seal,
    used: bool,
    dirty: bool,
}

type Map = HashMap<MemoKey, Slot, BuildHasherDefault<KeyHasher>>;

/// Loaded memo; thread-safe for the parallel hasher. One lock guards the map and the
/// "used" marks together: a lookup is a single hash probe (a no-op `status` over 10,000
/// files makes 10,000 of them).
#[derive(Debug, Default)]
pub struct Memo {
    path: Option<PathBuf>,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Every entry once `indexed`; before, only the entries looked up or added so far.
    map: Map,
    /// Whole records as read (after the magic), until they are indexed into `map`.
    raw: Vec<u8>,
    indexed: bool,
    /// Lookups answered by scanning `raw`.
    scans: u32,
    changed: bool,
    /// Records in the file as loaded (live, overridden or damaged).
    on_disk: usize,
    /// The file cannot be appended to (missing, foreign, torn or with damaged records).
    rewrite: bool,
}

/// Beyond this many entries, entries this process did not use are dropped on save (a touched
/// or rewritten file leaves its old key behind forever otherwise).
const PRUNE_ABOVE: usize = 100_000;

/// Lookups answered by a scan of the unindexed records before they are all indexed (a scan of
/// 100,000 records costs about what 50 map probes after indexing them would save).
const SCAN_LIMIT: u32 = 8;

impl Inner {
    /// Index every record read from disk under the entries already in `map` (looked up or
    /// added since, so at least as new).
    fn index(&mut self) {
        if self.indexed {
            return;
        }
        let raw = std::mem::take(&mut self.raw);
        let mut all = Map::default();
        all.reserve(raw.len() / RECORD + self.map.len());
        for rec in raw.chunks_exact(RECORD) {
            match decode(rec) {
                Some((key, slot)) => {
                    all.insert(key, slot);
                }
                None => self.rewrite = true,
            }
        }
        all.extend(self.map.drain());
        self.map = all;
        self.indexed = true;
    }

    /// The entry of `key`: from the map, else (unindexed) from the newest valid record.
    fn find(&mut self, key: &MemoKey) -> Option<&mut Slot> {
        if !self.indexed && !self.map.contains_key(key) {
            if self.scans < SCAN_LIMIT {
                self.scans += 1;
                let want = key_bytes(key);
                let found = self
                    .raw
                    .chunks_exact(RECORD)
                    .rev()
                    .filter(|rec| rec[..32] == want)
                    .find_map(decode);
                if let Some((k, slot)) = found {
                    self.map.insert(k, slot);
                }
            } else {
                self.index();
            }
        }
        self.map.get_mut(key)
    }
}

/// A key as the first 32 bytes of its records.
fn key_bytes(key: &MemoKey) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, w) in [key.dev, key.ino, key.size, key.mtime_ns as u64]
        .iter()
        .enumerate()
    {
        b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    b
}

impl Memo {
    /// An in-memory memo that is never saved.
    pub fn ephemeral() -> Memo {
        Memo::default()
    }

    /// Load from `path`; a missing or unreadable file gives an empty memo.
    pub fn load(path: &Path) -> Memo {
        let mut raw = Vec::new();
        let mut on_disk = 0;
        let mut rewrite = true;
        if let Ok(mut bytes) = std::fs::read(path) {
            if bytes.len() >= 8 && &bytes[..8] == MAGIC {
                bytes.drain(..8);
                on_disk = bytes.len() / RECORD;
                rewrite = bytes.len() % RECORD != 0;
                bytes.truncate(on_disk * RECORD);
                raw = bytes;
            }
        }
        Memo {
            path: Some(path.to_path_buf()),
            inner: Mutex::new(Inner {
                map: Map::default(),
                raw,
                indexed: false,
                scans: 0,
                changed: false,
                on_disk,
                rewrite,
            }),
        }
    }

    pub fn get(&self, meta: &Metadata) -> Option<Digest> {
        let now = Seal::of(meta);
        let mut guard = self.inner.lock().ok()?;
        let inner = &mut *guard;
        let slot = inner.find(&MemoKey::of(meta))?;
        if !slot.seal.admits(now) {
            return None;
        }
        slot.used = true;
        let digest = slot.digest;
        if slot.seal != now {
            // A link made or removed: re-seal, so a later edit (ctime alone) is still caught.
            slot.seal = now;
            slot.dirty = true;
            inner.changed = true;
        }
        Some(Digest::from_bytes(digest))
    }

    pub fn insert(&self, meta: &Metadata, digest: &Digest) {
        let key = MemoKey::of(meta);
        if crate::stamp::now_ns() - i128::from(key.mtime_ns) < RACY_NS {
            return;
        }
        self.put(key, Seal::of(meta), digest);
    }

    /// Record a file netsec itself just wrote whole from known content (a cache object or a
    /// restored out): no racy-window check, since nobody else wrote it within that tick.
    pub fn insert_trusted(&self, meta: &Metadata, digest: &Digest) {
        self.put(MemoKey::of(meta), Seal::of(meta), digest);
    }

    fn put(&self, key: MemoKey, seal: Seal, digest: &Digest) {
        if let Ok(mut inner) = self.inner.lock() {
            let slot = Slot {
                digest: *digest.as_bytes(),
                seal,
                used: true,
                dirty: true,
            };
            // Unindexed, an identical record on disk is not looked for: appending it again
            // costs 88 bytes, a scan costs a pass over every record.
            match inner.map.get_mut(&key) {
                Some(old) if (old.digest, old.seal) == (slot.digest, slot.seal) => old.used = true,
                _ => {
                    inner.map.insert(key, slot);
                    inner.changed = true;
                }
            }
        }
    }

    /// Write back what changed: appended when few entries changed, else rewritten whole
    /// (compacted). Past `PRUNE_ABOVE` entries, a rewrite keeps only the ones this process
    /// used, so the memo cannot grow without bound.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let Ok(mut inner) = self.inner.lock() else {
            return Ok(());
        };
        if !inner.changed {
            return Ok(());
        }
        let dirty = inner.map.values().filter(|s| s.dirty).count();
        // Unindexed, the live count is unknown: append while the changes are few against what
        // the file holds, else index everything and decide as below (compact, prune).
        if !inner.indexed {
            let few = dirty * 4 <= inner.on_disk && inner.on_disk + dirty <= 2 * PRUNE_ABOVE;
            if !inner.rewrite
                && few
                && append_records(path, inner.map.iter().filter(|(_, s)| s.dirty))?
            {
                inner.on_disk += dirty;
                for slot in inner.map.values_mut() {
                    slot.dirty = false;
                }
                inner.changed = false;
                return Ok(());
            }
            inner.index();
        }
        let live = inner.map.len();
        let prune = live > PRUNE_ABOVE;
        let append = !inner.rewrite && !prune && inner.on_disk + dirty <= 2 * live;
        if append && append_records(path, inner.map.iter().filter(|(_, s)| s.dirty))? {
            inner.on_disk += dirty;
        } else {
            let mut out = Vec::with_capacity(8 + live * RECORD);
            out.extend_from_slice(MAGIC);
            let kept = inner.map.iter().filter(|(_, s)| !prune || s.used);
            let mut n = 0;
            for (k, slot) in kept {
                out.extend_from_slice(&encode(k, slot));
                n += 1;
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_atomic(path, &out, Durability::NoFsync)?;
            inner.on_disk = n;
            inner.rewrite = false;
        }
        for slot in inner.map.values_mut() {
            slot.dirty = false;
        }
        inner.changed = false;
        Ok(())
    }

    /// Number of remembered files.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .map(|mut i| {
                i.index();
                i.map.len()
            })
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Appends `slots` to the memo file when it is whole (the magic, then whole records);
/// `Ok(false)` when it is not, so the caller rewrites it instead.
fn append_records<'a>(
    path: &Path,
    slots: impl Iterator<Item = (&'a MemoKey, &'a Slot)>,
) -> std::io::Result<bool> {
    use std::io::Write;
    let mut file = match std::fs::OpenOptions::new().append(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len() as usize;
    if len < MAGIC.len() || !(len - MAGIC.len()).is_multiple_of(RECORD) {
        return Ok(false);
    }
    let mut out = Vec::new();
    for (k, slot) in slots {
        out.extend_from_slice(&encode(k, slot));
    }
    // One write: a crash tears at most this batch, which the checks then drop.
    file.write_all(&out)?;
    Ok(true)
}

fn encode(k: &MemoKey, slot: &Slot) -> [u8; RECORD] {
    let mut rec = [0u8; RECORD];
    let words = [
        k.dev,
        k.ino,
        k.size,
        k.mtime_ns as u64,
        slot.seal.ctime_ns as u64,
        slot.seal.nlink,
    ];
    for (i, w) in words.iter().enumerate() {
        rec[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    rec[48..BODY].copy_from_slice(&slot.digest);
    let check = record_check(&rec[..BODY]);
    rec[BODY..].copy_from_slice(&check.to_le_bytes());
    rec
}

/// A record's key and slot, or `None` when its check does not match (a torn write).
fn decode(rec: &[u8]) -> Option<(MemoKey, Slot)> {
    let u = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&rec[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    };
    if record_check(&rec[..BODY]) != u(BODY / 8) {
        return None;
    }
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&rec[48..BODY]);
    let key = MemoKey {
        dev: u(0),
        ino: u(1),
        size: u(2),
        mtime_ns: u(3) as i64,
    };
    let seal = Seal {
        ctime_ns: u(4) as i64,
        nlink: u(5),
    };
    let slot = Slot {
        digest,
        seal,
        used: false,
        dirty: false,
    };
    Some((key, slot))
}

/// A 64-bit check of a record's body, against torn writes (not against an adversary: the
/// memo lives in `.netsec/state`, which never comes from git or a remote). A zeroed record
/// does not pass.
fn record_check(body: &[u8]) -> u64 {
    let mut h: u64 = 0x6e_73_6d_65_6d_6f_33_21;
    for chunk in body.chunks_exact(8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 29;
    }
    h ^ (h >> 32)
}

/// A multiply-rotate hasher for `MemoKey` (four integers from `stat`): keys come from the
/// local filesystem, not from an adversary, so SipHash's flood resistance buys nothing here
/// and costs most of a lookup.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_racy_guard() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let d = Digest::of_bytes(b"x");
        let memo = Memo::load(&t.path().join("memo"));
        let meta = std::fs::metadata(&f).unwrap();
        // Just written: inside the racy window, so not remembered.
        memo.insert(&meta, &d);
        assert_eq!(memo.get(&meta), None);
        memo.insert_trusted(&meta, &d);
        memo.save().unwrap();
        let again = Memo::load(&t.path().join("memo"));
        assert_eq!(again.get(&meta), Some(d));
        // A rewrite changes the key (mtime, and usually size): no stale hit.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&f, b"yy").unwrap();
        assert_eq!(again.get(&std::fs::metadata(&f).unwrap()), None);
    }

    const SEAL: Seal = Seal {
        ctime_ns: 1,
        nlink: 1,
    };

    #[test]
    fn lookups_mark_entries_kept_when_pruning() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("memo");
        let key = |i: u64| MemoKey {
            dev: 1,
            ino: i,
            size: i.wrapping_mul(3),
            mtime_ns: i as i64,
        };
        let d = |i: u64| Digest::of_bytes(&i.to_le_bytes());
        let big = Memo::load(&path);
        for i in 0..(PRUNE_ABOVE as u64 + 10) {
            big.put(key(i), SEAL, &d(i));
        }
        big.save().unwrap();
        let loaded = Memo::load(&path);
        assert_eq!(loaded.len(), PRUNE_ABOVE + 10);
        // Loading marks nothing used; a hit does, and so does an insert.
        let hit = |m: &Memo, i: u64| {
            let mut g = m.inner.lock().unwrap();
            let slot = g.map.get_mut(&key(i))?;
            slot.used = true;
            Some(Digest::from_bytes(slot.digest))
        };
        assert_eq!(hit(&loaded, 7), Some(d(7)));
        loaded.put(key(u64::MAX), SEAL, &d(1));
        loaded.save().unwrap();
        let pruned = Memo::load(&path);
        assert_eq!(
            pruned.len(),
            2,
            "only the entries this process used survive"
        );
        assert_eq!(hit(&pruned, 7), Some(d(7)));
        assert_eq!(hit(&pruned, 8), None);
        // An unchanged memo is not rewritten (a no-op status writes nothing).
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        let _ = hit(&pruned, 7);
        pruned.save().unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
    }

    #[test]
    fn few_changes_are_appended_and_torn_appends_are_dropped() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("memo");
        let key = |i: u64| MemoKey {
            dev: 1,
            ino: i,
            size: 1,
            mtime_ns: 1,
        };
        let d = |i: u64| Digest::of_bytes(&i.to_le_bytes());
        let get = |m: &Memo, i: u64| m.inner.lock().unwrap().find(&key(i)).map(|s| s.digest);
        let memo = Memo::load(&path);
        for i in 0..100 {
            memo.put(key(i), SEAL, &d(i));
        }
        memo.save().unwrap();
        let len = |p: &Path| std::fs::metadata(p).unwrap().len() as usize;
        assert_eq!(len(&path), 8 + 100 * RECORD);

        // One re-sealed entry: one record appended, the later one wins on load.
        let memo = Memo::load(&path);
        let resealed = Seal {
            ctime_ns: 2,
            nlink: 2,
        };
        memo.put(key(5), resealed, &d(5));
        memo.save().unwrap();
        assert_eq!(len(&path), 8 + 101 * RECORD, "appended, not rewritten");
        let memo = Memo::load(&path);
        assert_eq!(memo.len(), 100);
        assert_eq!(memo.inner.lock().unwrap().map[&key(5)].seal, resealed);

        // A torn append: a partial record is dropped, and the next save rewrites whole.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&encode(&key(500), &memo.inner.lock().unwrap().map[&key(5)])[..40]);
        std::fs::write(&path, &bytes).unwrap();
        let memo = Memo::load(&path);
        assert_eq!(memo.len(), 100);
        memo.put(key(200), SEAL, &d(200));
        memo.save().unwrap();
        assert_eq!(len(&path), 8 + 101 * RECORD, "compacted");

        // A record with a damaged digest fails its check and is not trusted.
        let mut bytes = std::fs::read(&path).unwrap();
        let at = 8 + 3 * RECORD + 50;
        bytes[at] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let memo = Memo::load(&path);
        assert_eq!(memo.len(), 100);
        assert!(
            (0..100)
                .chain([200])
                .filter(|i| get(&memo, *i).is_none())
                .count()
                == 1
        );
        let zeros = [0u8; RECORD];
        assert!(decode(&zeros).is_none());

        // Many changes: rewritten (compacted) rather than appended past twice the live count.
        let memo = Memo::load(&path);
        for i in 0..100 {
            memo.put(key(i), resealed, &d(i + 1));
        }
        memo.save().unwrap();
        let memo2 = Memo::load(&path);
        for i in 0..100 {
            memo2.put(key(i), SEAL, &d(i + 2));
        }
        memo2.save().unwrap();
        assert!(len(&path) <= 8 + 2 * 101 * RECORD, "{}", len(&path));
        let last = Memo::load(&path);
        assert_eq!(get(&last, 7), Some(*d(9).as_bytes()));
    }

    #[test]
    fn unindexed_lookups_find_the_newest_record_and_index_past_the_limit() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("memo");
        let key = |i: u64| MemoKey {
            dev: 7,
            ino: i,
            size: 10,
            mtime_ns: 5,
        };
        let d = |i: u64| Digest::of_bytes(&i.to_le_bytes());
        let first = Memo::load(&path);
        for i in 0..50 {
            first.put(key(i), SEAL, &d(i));
        }
        first.save().unwrap();
        // A later record of key 3 (appended) overrides the first one.
        let second = Memo::load(&path);
        second.put(key(3), SEAL, &d(333));
        second.save().unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len() as usize,
            8 + 51 * RECORD,
            "appended without indexing"
        );
        let memo = Memo::load(&path);
        let probe = |m: &Memo, i: u64| {
            let mut g = m.inner.lock().unwrap();
            g.find(&key(i)).map(|s| s.digest)
        };
        assert_eq!(probe(&memo, 3), Some(*d(333).as_bytes()));
        assert_eq!(probe(&memo, 4), Some(*d(4).as_bytes()));
        assert_eq!(probe(&memo, 99), None);
        assert!(!memo.inner.lock().unwrap().indexed, "a few lookups scan");
        for i in 10..20 {
            assert_eq!(probe(&memo, i), Some(*d(i).as_bytes()));
        }
        let g = memo.inner.lock().unwrap();
        assert!(g.indexed && g.raw.is_empty(), "indexed past the limit");
        assert_eq!(g.map.len(), 50);
        assert_eq!(g.map[&key(3)].digest, *d(333).as_bytes());
    }
}
