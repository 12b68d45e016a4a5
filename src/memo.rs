//! The hash memo: `(dev, inode, size, mtime_ns) → blake3` so unchanged files are not re-read.
//! It only ever skips work; it is never part of a fingerprint, and losing it is harmless.
//!
//! On disk (`.netsec/state/memo-v1`): an 8-byte magic then fixed 64-byte records (four
//! little-endian u64/i64 then the 32-byte digest), so loading 10,000 entries costs a memcpy.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::atomic::write_atomic;
use crate::digest::Digest;

const MAGIC: &[u8; 8] = b"NSMEMO1\n";
const RECORD: usize = 64;
/// Files modified this recently are not memoised: a second write within the same timestamp
/// tick would keep the same key with different content (git's "racy" problem).
const RACY_NS: i128 = 100_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i64,
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

/// Loaded memo; thread-safe for the parallel hasher.
#[derive(Debug, Default)]
pub struct Memo {
    path: Option<PathBuf>,
    map: Mutex<HashMap<MemoKey, [u8; 32]>>,
    changed: Mutex<bool>,
    /// Keys looked up or added by this process: kept first when the memo is pruned.
    used: Mutex<std::collections::HashSet<MemoKey>>,
}

/// Beyond this many entries, entries this process did not use are dropped on save (a touched
/// or rewritten file leaves its old key behind forever otherwise).
const PRUNE_ABOVE: usize = 100_000;

impl Memo {
    /// An in-memory memo that is never saved.
    pub fn ephemeral() -> Memo {
        Memo::default()
    }

    /// Load from `path`; a missing or unreadable file gives an empty memo.
    pub fn load(path: &Path) -> Memo {
        let mut map = HashMap::new();
        if let Ok(bytes) = std::fs::read(path) {
            if bytes.len() >= 8 && &bytes[..8] == MAGIC {
                for rec in bytes[8..].chunks_exact(RECORD) {
                    let u = |i: usize| {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&rec[i * 8..i * 8 + 8]);
                        u64::from_le_bytes(b)
                    };
                    let mut d = [0u8; 32];
                    d.copy_from_slice(&rec[32..64]);
                    let key = MemoKey {
                        dev: u(0),
                        ino: u(1),
                        size: u(2),
                        mtime_ns: u(3) as i64,
                    };
                    map.insert(key, d);
                }
            }
        }
        Memo {
            path: Some(path.to_path_buf()),
            map: Mutex::new(map),
            changed: Mutex::new(false),
            used: Mutex::default(),
        }
    }

    pub fn get(&self, meta: &Metadata) -> Option<Digest> {
        let key = MemoKey::of(meta);
        let hit = self
            .map
            .lock()
            .ok()?
            .get(&key)
            .map(|d| Digest::from_bytes(*d));
        if hit.is_some() {
            if let Ok(mut u) = self.used.lock() {
                u.insert(key);
            }
        }
        hit
    }

    pub fn insert(&self, meta: &Metadata, digest: &Digest) {
        let key = MemoKey::of(meta);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        if now - i128::from(key.mtime_ns) < RACY_NS {
            return;
        }
        self.put(key, digest);
    }

    /// Record a file netsec itself just wrote whole from known content (a cache object or a
    /// restored out): no racy-window check, since nobody else wrote it within that tick.
    pub fn insert_trusted(&self, meta: &Metadata, digest: &Digest) {
        self.put(MemoKey::of(meta), digest);
    }

    fn put(&self, key: MemoKey, digest: &Digest) {
        if let Ok(mut u) = self.used.lock() {
            u.insert(key);
        }
        if let Ok(mut m) = self.map.lock() {
            if m.insert(key, *digest.as_bytes()) != Some(*digest.as_bytes()) {
                if let Ok(mut c) = self.changed.lock() {
                    *c = true;
                }
            }
        }
    }

    /// Write back if anything was added. Past `PRUNE_ABOVE` entries, only the ones this process
    /// used are kept, so the memo cannot grow without bound.
    pub fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.changed.lock().map(|c| *c).unwrap_or(false) {
            return Ok(());
        }
        let Ok(map) = self.map.lock() else {
            return Ok(());
        };
        let mut out = Vec::with_capacity(8 + map.len() * RECORD);
        out.extend_from_slice(MAGIC);
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        let prune = map.len() > PRUNE_ABOVE;
        for (k, d) in map.iter().filter(|(k, _)| !prune || used.contains(*k)) {
            out.extend_from_slice(&k.dev.to_le_bytes());
            out.extend_from_slice(&k.ino.to_le_bytes());
            out.extend_from_slice(&k.size.to_le_bytes());
            out.extend_from_slice(&k.mtime_ns.to_le_bytes());
            out.extend_from_slice(d);
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        write_atomic(path, &out)
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
}
