//! The local content-addressed cache: `.netsec/cache/objects-v1/ab/cdef…` (blake3 hex).
//!
//! Objects are immutable and read-only. Insertion tries a reflink (btrfs, XFS: instant and
//! independent) and otherwise copies; either lands in a temp name in the object's directory
//! and is renamed into place, so a kill leaves either no object or a whole one.
//!
//! Files under `LINK_MIN` (64 MiB) are copied (concurrently with hashing when big enough to
//! matter), so the workspace file and the object are independent: an in-place edit of an out
//! can never touch the last good version. Files of at least `LINK_MIN` are hard-linked
//! instead (copying a 1 GiB out would cost several times its hash); the shared inode is made
//! read-only, `persist` outs are un-shared before a command may append to them, and commands
//! delete their other outs first, so only a user editing such an out in place *as root* can
//! damage its object. That is why objects are never trusted blindly: before reuse (restore,
//! checkout, or an insert that finds one present) an object's stat must be vouched for by the
//! memo, else it is re-hashed; a damaged object is replaced on insert and refused on restore.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::digest::{hash_file, hash_file_uncached, Digest, DirManifest};
use crate::memo::Memo;

/// Makes temp names unique within the process (identical files may be inserted concurrently).
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Files at least this big are hard-linked into (and out of) the cache rather than copied.
pub const LINK_MIN: u64 = 64 << 20;

/// Handle on the cache directories of one repository.
#[derive(Debug, Clone)]
pub struct Cache {
    objects: PathBuf,
    /// Fan-out directories (`ab/`) this handle has already created or seen: each is made at
    /// most once per run instead of one failing `mkdir` per object.
    shards: Arc<ShardDirs>,
}

/// One flag per possible shard directory (first digest byte).
#[derive(Debug)]
struct ShardDirs([AtomicBool; 256]);

/// How an object came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    AlreadyPresent,
    Reflinked,
    HardLinked,
    Copied,
    /// Written from bytes already in memory (small files read once to be hashed).
    Written,
}

impl Cache {
    pub fn new(dot_netsec: &Path) -> Cache {
        Cache {
            objects: dot_netsec.join("cache").join("objects-v1"),
            shards: Arc::new(ShardDirs(std::array::from_fn(|_| AtomicBool::new(false)))),
        }
    }

    /// The shard directory of `d`, created if this handle has not made or seen it yet.
    fn shard_dir(&self, d: &Digest) -> io::Result<PathBuf> {
        let flag = &self.shards.0[usize::from(d.as_bytes()[0])];
        let dir = self.objects.join(&d.to_hex()[..2]);
        if !flag.load(Ordering::Relaxed) {
            fs::create_dir_all(&dir)?;
            flag.store(true, Ordering::Relaxed);
        }
        Ok(dir)
    }

    /// Forget that `d`'s shard exists (someone removed it under us): the next call recreates it.
    fn forget_shard(&self, d: &Digest) {
        self.shards.0[usize::from(d.as_bytes()[0])].store(false, Ordering::Relaxed);
    }

    /// A fresh temp name inside `d`'s shard directory, so that publishing is a same-directory
    /// rename. Leftovers of a killed insert are `.tmp-*` files that `gc` removes.
    fn temp_in_shard(&self, d: &Digest, tag: &str) -> io::Result<PathBuf> {
        let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .shard_dir(d)?
            .join(format!(".tmp-{}-{tag}-{n}", std::process::id())))
    }

    /// Store `bytes`, whose digest is `d`, as an object, written from memory: no second read of
    /// the source. Written to a temp name in the shard (mode 0444, `O_EXCL`), renamed into place,
    /// then vouched for in the memo, so a kill never leaves a partial object under a final name.
    pub fn store_bytes(&self, d: &Digest, bytes: &[u8], memo: &Memo) -> io::Result<Inserted> {
        if self.has_valid(d, memo) {
            return Ok(Inserted::AlreadyPresent);
        }
        self.write_bytes(d, bytes, memo)
    }

    /// `store_bytes` for a caller that has just found no valid object `d`: writes without
    /// probing again.
    pub(crate) fn write_bytes(
        &self,
        d: &Digest,
        bytes: &[u8],
        memo: &Memo,
    ) -> io::Result<Inserted> {
        let dst = self.object_path(d);
        let meta = match self.write_temp_and_publish(d, bytes, &dst) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // The shard vanished since we made it (a concurrent `rm`): make it again, once.
                self.forget_shard(d);
                self.write_temp_and_publish(d, bytes, &dst)?
            }
            r => r?,
        };
        memo.insert_trusted(&meta, d);
        Ok(Inserted::Written)
    }

    fn write_temp_and_publish(
        &self,
        d: &Digest,
        bytes: &[u8],
        dst: &Path,
    ) -> io::Result<fs::Metadata> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = self.temp_in_shard(d, "mem")?;
        let written = (|| {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .open(&tmp)?;
            f.write_all(bytes)?;
            // Stat through the open file: same inode, size and mtime as after the rename.
            let meta = f.metadata()?;
            drop(f);
            fs::rename(&tmp, dst)?;
            Ok(meta)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    pub fn objects_dir(&self) -> &Path {
        &self.objects
    }

    pub fn object_path(&self, d: &Digest) -> PathBuf {
        let hex = d.to_hex();
        self.objects.join(&hex[..2]).join(&hex[2..])
    }

    /// The object exists and its content still has digest `d`.
    pub fn has_valid(&self, d: &Digest, memo: &Memo) -> bool {
        let p = self.object_path(d);
        match fs::metadata(&p) {
            Ok(meta) => hash_file(&p, &meta, memo)
                .map(|got| got == *d)
                .unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Ok when object `d` is present and its content still hashes to `d` (vouched for by the memo
    /// when its stat, ctime included, is unchanged; re-hashed otherwise). A damaged object is
    /// moved to `.netsec/cache/quarantine/` (so the next run that produces it stores a good copy)
    /// and reported as `InvalidData`, naming it.
    pub fn verify(&self, d: &Digest, memo: &Memo) -> io::Result<()> {
        let p = self.object_path(d);
        let meta = fs::metadata(&p).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cache object {} is missing ({e})", d.to_hex()),
            )
        })?;
        let got = hash_file(&p, &meta, memo)?;
        if got == *d {
            return Ok(());
        }
        let quarantine = self.objects.with_file_name("quarantine");
        let moved = fs::create_dir_all(&quarantine)
            .and_then(|()| fs::rename(&p, quarantine.join(d.to_hex())));
        let where_ = match moved {
            Ok(()) => format!("moved to `{}`", quarantine.join(d.to_hex()).display()),
            Err(e) => format!("could not be moved aside: {e}"),
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "cache object {} is corrupt: its content hashes to {} ({where_}); rerun the stage that produces it (`netsec repro -f STAGE`) or `netsec pull` it",
                d.to_hex(),
                got.to_hex()
            ),
        ))
    }

    /// Store the file at `src` (whose digest is `d`) as an object.
    pub fn insert_file(&self, src: &Path, d: &Digest, memo: &Memo) -> io::Result<Inserted> {
        if self.has_valid(d, memo) {
            return Ok(Inserted::AlreadyPresent);
        }
        let dst = self.object_path(d);
        // Unique per call: identical files of one directory may be inserted concurrently.
        let tmp = self.temp_in_shard(d, "file")?;
        let placed = (|| {
            let len = fs::metadata(src)?.len();
            let how = if reflink(src, &tmp).is_ok() {
                Inserted::Reflinked
            } else if len >= LINK_MIN && fs::hard_link(src, &tmp).is_ok() {
                Inserted::HardLinked
            } else {
                copy_new(src, &tmp, 0o444)?;
                Inserted::Copied
            };
            self.publish(&tmp, &dst, d, memo)?;
            Ok(how)
        })();
        if placed.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        placed
    }

    /// Make a temp copy the object `d`: read-only, vouched for in the memo, renamed in place.
    fn publish(&self, tmp: &Path, dst: &Path, d: &Digest, memo: &Memo) -> io::Result<()> {
        if fs::metadata(tmp)?.permissions().mode() & 0o222 != 0 {
            fs::set_permissions(tmp, fs::Permissions::from_mode(0o444))?;
        }
        fs::rename(tmp, dst)?;
        if let Ok(meta) = fs::metadata(dst) {
            memo.insert_trusted(&meta, d);
        }
        Ok(())
    }

    /// A temp name for content whose digest is not known yet (renamed into its shard later).
    fn temp_for(&self, tag: &str) -> io::Result<PathBuf> {
        fs::create_dir_all(&self.objects)?;
        let n = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .objects
            .join(format!(".tmp-{}-{tag}-{n}", std::process::id())))
    }

    /// Hash `src` and store it, copying concurrently with hashing when the digest is not known
    /// yet (a cold 1 GiB out then costs about max(hash, copy), not their sum).
    pub fn hash_insert_file(
        &self,
        src: &Path,
        meta: &fs::Metadata,
        memo: &Memo,
    ) -> io::Result<Digest> {
        if let Some(d) = memo.get(meta) {
            self.insert_file(src, &d, memo)?;
            return Ok(d);
        }
        if meta.len() >= LINK_MIN {
            // Linked, not copied: hash, then one link(2).
            let d = hash_file(src, meta, memo)?;
            self.insert_file(src, &d, memo)?;
            return Ok(d);
        }
        let tmp = self.temp_for("copy")?;
        let (digest, copied) = std::thread::scope(|s| {
            let copier = s.spawn(|| -> io::Result<()> {
                if reflink(src, &tmp).is_err() {
                    copy_new(src, &tmp, 0o444)?;
                }
                Ok(())
            });
            let digest = hash_file_uncached(src, meta.len());
            let copied = copier
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("copy thread panicked")));
            (digest, copied)
        });
        let digest = match digest {
            Ok(d) => d,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        memo.insert(meta, &digest);
        if let Err(e) = copied {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        if self.has_valid(&digest, memo) {
            fs::remove_file(&tmp)?;
        } else {
            self.shard_dir(&digest)?;
            self.publish(&tmp, &self.object_path(&digest), &digest, memo)?;
        }
        Ok(digest)
    }

    /// Read a directory manifest object.
    pub fn read_manifest(&self, d: &Digest) -> io::Result<DirManifest> {
        let bytes = fs::read(self.object_path(d))?;
        if Digest::of_bytes(&bytes) != *d {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("manifest object {d} is corrupt"),
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Materialise object `d` at `dest` (which must not exist) as an independent, writable
    /// file: reflink or copy.
    pub fn materialise(&self, d: &Digest, dest: &Path, memo: &Memo) -> io::Result<()> {
        self.verify(d, memo)?;
        let src = self.object_path(d);
        if reflink(&src, dest).is_err() {
            let big = fs::metadata(&src)
                .map(|m| m.len() >= LINK_MIN)
                .unwrap_or(false);
            if big && fs::hard_link(&src, dest).is_ok() {
                return Ok(());
            }
            copy_new(&src, dest, 0o644)?;
        }
        if let Ok(meta) = fs::metadata(dest) {
            memo.insert_trusted(&meta, d);
        }
        Ok(())
    }

    /// Every object digest present (for gc).
    pub fn list(&self) -> io::Result<Vec<(Digest, PathBuf)>> {
        let mut out = Vec::new();
        let Ok(rd) = fs::read_dir(&self.objects) else {
            return Ok(out);
        };
        for shard in rd {
            let shard = shard?;
            let prefix = shard.file_name().to_string_lossy().into_owned();
            if prefix.len() != 2 || !shard.path().is_dir() {
                continue;
            }
            for obj in fs::read_dir(shard.path())? {
                let obj = obj?;
                let name = obj.file_name().to_string_lossy().into_owned();
                match Digest::parse(&format!("{prefix}{name}")) {
                    Some(d) => out.push((d, obj.path())),
                    // Leftover temp files of a killed insert are garbage too.
                    None if name.starts_with(".tmp-") || name.starts_with(".netsec-tmp-") => {
                        out.push((Digest::from_bytes([0; 32]), obj.path()))
                    }
                    None => {}
                }
            }
        }
        Ok(out)
    }
}

/// Copy-on-write clone where the filesystem supports it (btrfs, XFS); fails elsewhere.
/// Once a clone fails as unsupported, later calls skip straight to the fallback: on ext4 each
/// attempt would cost a create and an unlink per object.
static REFLINK_UNSUPPORTED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

fn reflink(src: &Path, dst: &Path) -> io::Result<()> {
    use std::sync::atomic::Ordering;
    if REFLINK_UNSUPPORTED.load(Ordering::Relaxed) {
        return Err(io::Error::from(io::ErrorKind::Unsupported));
    }
    let from = fs::File::open(src)?;
    let to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dst)?;
    match rustix::fs::ioctl_ficlone(&to, &from) {
        Ok(()) => Ok(()),
        Err(e) => {
            if matches!(
                e,
                rustix::io::Errno::OPNOTSUPP
                    | rustix::io::Errno::XDEV
                    | rustix::io::Errno::INVAL
                    | rustix::io::Errno::NOTTY
            ) {
                REFLINK_UNSUPPORTED.store(true, Ordering::Relaxed);
            }
            drop(to);
            let _ = fs::remove_file(dst);
            Err(e.into())
        }
    }
}

/// Copy `src` to a new file `dst` created with `mode` (copy_file_range under the hood).
fn copy_new(src: &Path, dst: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut from = fs::File::open(src)?;
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(dst)?;
    io::copy(&mut from, &mut to)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_materialise_and_detect_corruption() {
        let t = tempfile::tempdir().unwrap();
        let cache = Cache::new(&t.path().join(".netsec"));
        let memo = Memo::ephemeral();
        let f = t.path().join("f");
        fs::write(&f, b"payload").unwrap();
        let d = Digest::of_bytes(b"payload");
        cache.insert_file(&f, &d, &memo).unwrap();
        assert!(cache.has_valid(&d, &memo));
        assert_eq!(
            cache.insert_file(&f, &d, &memo).unwrap(),
            Inserted::AlreadyPresent
        );
        let out = t.path().join("restored");
        cache.materialise(&d, &out, &memo).unwrap();
        assert_eq!(fs::read(&out).unwrap(), b"payload");
        // Restored and inserted files are independent of the object: editing them in place
        // leaves the object intact.
        fs::write(&out, b"tampered").unwrap();
        fs::write(&f, b"tampered too").unwrap();
        assert!(cache.has_valid(&d, &Memo::ephemeral()));
        // An object damaged behind our back is detected, not served.
        let obj = cache.object_path(&d);
        fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&obj, b"rot").unwrap();
        assert!(!cache.has_valid(&d, &Memo::ephemeral()));
        assert!(cache
            .materialise(&d, &t.path().join("again"), &Memo::ephemeral())
            .is_err());
        // Identical files inserted concurrently (a directory of duplicates) all succeed.
        use rayon::prelude::*;
        let dup = Digest::of_bytes(b"same");
        let srcs: Vec<PathBuf> = (0..32)
            .map(|i| {
                let p = t.path().join(format!("dup{i}"));
                fs::write(&p, b"same").unwrap();
                p
            })
            .collect();
        let fresh = Memo::ephemeral();
        srcs.par_iter().for_each(|p| {
            cache.insert_file(p, &dup, &fresh).unwrap();
        });
        assert!(cache.has_valid(&dup, &Memo::ephemeral()));
        // Concurrent hash + copy of a big file.
        let big = t.path().join("big");
        let bytes: Vec<u8> = (0..(3usize << 20)).map(|i| (i % 253) as u8).collect();
        fs::write(&big, &bytes).unwrap();
        let meta = fs::metadata(&big).unwrap();
        let d2 = cache.hash_insert_file(&big, &meta, &memo).unwrap();
        assert_eq!(d2, Digest::of_bytes(&bytes));
        assert_eq!(fs::read(cache.object_path(&d2)).unwrap(), bytes);
    }
}
