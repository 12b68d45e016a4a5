//! Content digests: blake3 of files (mmap + rayon for big ones) and of directory trees, where a
//! tree's digest is the blake3 of its manifest object (sorted `relpath → digest, size`).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dvcignore::{IgnoreStack, FILE_NAME};
use crate::memo::Memo;

/// Files at least this big are hashed with mmap across all cores.
const BIG_FILE: u64 = 1 << 20;

/// A blake3 digest, shown and stored as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    pub fn from_bytes(b: [u8; 32]) -> Digest {
        Digest(b)
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    pub fn of_bytes(bytes: &[u8]) -> Digest {
        Digest(*blake3::hash(bytes).as_bytes())
    }
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
    pub fn parse(s: &str) -> Option<Digest> {
        blake3::Hash::from_hex(s)
            .ok()
            .map(|h| Digest(*h.as_bytes()))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", &self.to_hex()[..12])
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // On the stack: a manifest of 10,000 files serialises 10,000 digests.
        s.serialize_str(blake3::Hash::from_bytes(self.0).to_hex().as_str())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read in place (no String per digest: a lock of 10,000 stages holds 30,000 of them).
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Digest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a blake3 digest in hex")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Digest, E> {
                let shown: String = s.chars().take(80).collect();
                Digest::parse(s).ok_or_else(|| E::custom(format!("bad digest `{shown}`")))
            }
        }
        d.deserialize_str(V)
    }
}

/// One file of a directory manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub digest: Digest,
    pub size: u64,
}

/// A directory tree: relative paths (`/`-separated) to file digests. Its serialized bytes are
/// a cache object and their blake3 is the directory's digest.
///
/// Manifests come from the cache and from remotes, so deserializing one checks every key: a
/// normal relative path (no `..`, no absolute path, no `.git` component), or the manifest is
/// refused before a file is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawDirManifest")]
pub struct DirManifest {
    pub version: u32,
    pub files: BTreeMap<String, ManifestEntry>,
}

#[derive(Deserialize)]
struct RawDirManifest {
    version: u32,
    files: BTreeMap<String, ManifestEntry>,
}

impl TryFrom<RawDirManifest> for DirManifest {
    type Error = String;

    fn try_from(raw: RawDirManifest) -> Result<DirManifest, String> {
        for rel in raw.files.keys() {
            let p = crate::repo_path::RepoPath::try_from(rel.clone())
                .map_err(|e| format!("directory manifest entry: {e}"))?;
            if p.as_str().split('/').any(|c| c == ".git") {
                return Err(format!(
                    "directory manifest entry `{rel}` is inside a `.git` directory"
                ));
            }
        }
        Ok(DirManifest {
            version: raw.version,
            files: raw.files,
        })
    }
}

impl DirManifest {
    pub fn to_bytes(&self) -> Vec<u8> {
        // serde_json over BTreeMaps is deterministic; the trailing newline keeps `cat` tidy.
        // About 110 bytes per entry (path, 64 hex digits, size, punctuation).
        let mut v = Vec::with_capacity(64 + self.files.len() * 112);
        if serde_json::to_writer(&mut v, self).is_err() {
            v.clear();
        }
        v.push(b'\n');
        v
    }
    pub fn digest(&self) -> Digest {
        Digest::of_bytes(&self.to_bytes())
    }
    pub fn total_size(&self) -> u64 {
        self.files.values().map(|e| e.size).sum()
    }
}

/// The hashed state of a path on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hashed {
    File {
        digest: Digest,
        size: u64,
    },
    Dir {
        digest: Digest,
        size: u64,
        manifest: DirManifest,
    },
}

impl Hashed {
    pub fn digest(&self) -> Digest {
        match self {
            Hashed::File { digest, .. } | Hashed::Dir { digest, .. } => *digest,
        }
    }
    pub fn size(&self) -> u64 {
        match self {
            Hashed::File { size, .. } | Hashed::Dir { size, .. } => *size,
        }
    }
    pub fn nfiles(&self) -> Option<u64> {
        match self {
            Hashed::File { .. } => None,
            Hashed::Dir { manifest, .. } => Some(manifest.files.len() as u64),
        }
    }
}

/// Hash one file, consulting and feeding the memo.
pub fn hash_file(path: &Path, meta: &Metadata, memo: &Memo) -> io::Result<Digest> {
    if let Some(d) = memo.get(meta) {
        return Ok(d);
    }
    let d = hash_file_uncached(path, meta.len())?;
    memo.insert(meta, &d);
    Ok(d)
}

/// Files at least this big report their hashing as a progress task.
const PROGRESS_MIN: u64 = 256 << 20;

/// Chunk size of the reporting hash loop: big enough for rayon to spread over the cores.
const PROGRESS_CHUNK: usize = 32 << 20;

/// Hash one file from its bytes: read for small files, mmap + rayon for big ones.
pub fn hash_file_uncached(path: &Path, len: u64) -> io::Result<Digest> {
    if len < BIG_FILE {
        return Ok(Digest::of_bytes(&read_small(path, len)?));
    }
    let mut h = blake3::Hasher::new();
    if len >= PROGRESS_MIN {
        let task = crate::progress::task(
            &format!("hashing {}", path.display()),
            len,
            crate::progress::Unit::Bytes,
        );
        if crate::progress::live() {
            // A live bar needs updates as the hash goes, which one mmap call cannot give (and
            // mapping chunk by chunk would need unsafe code): read in chunks instead, which
            // costs a copy from the page cache but keeps rayon busy on each chunk.
            hash_chunks(&mut h, path, &task)?;
            return Ok(Digest(*h.finalize().as_bytes()));
        }
        h.update_mmap_rayon(path)?;
        task.inc(len);
        return Ok(Digest(*h.finalize().as_bytes()));
    }
    h.update_mmap_rayon(path)?;
    Ok(Digest(*h.finalize().as_bytes()))
}

/// The whole of a small file whose size the caller has just stat'ed: one buffer of that size
/// plus one byte (so a file that grew since is still read whole, to its end), and no second
/// `stat` or `lseek` for a size hint as `fs::read` makes: outs and deps of trivial stages are
/// hashed one after another, thousands of times in a first run.
fn read_small(path: &Path, len: u64) -> io::Result<Vec<u8>> {
    read_to_end_sized(std::fs::File::open(path)?, len)
}

/// Everything left in `f`, whose size was `len` when stat'ed: read to the end whatever the size
/// is now, without the extra `stat` and `lseek` of `File::read_to_end`'s size hint.
pub(crate) fn read_to_end_sized(f: std::fs::File, len: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    f.take(u64::MAX).read_to_end(&mut buf)?;
    Ok(buf)
}

fn hash_chunks(
    h: &mut blake3::Hasher,
    path: &Path,
    task: &crate::progress::Task,
) -> io::Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; PROGRESS_CHUNK];
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match f.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            return Ok(());
        }
        h.update_rayon(&buf[..filled]);
        task.inc(filled as u64);
        if filled < buf.len() {
            return Ok(());
        }
    }
}

/// Hash a file or directory at `abs`; `Ok(None)` if it does not exist. `root` anchors
/// `.dvcignore` lookup for directories.
pub fn hash_path(root: &Path, abs: &Path, memo: &Memo) -> io::Result<Option<Hashed>> {
    let meta = match std::fs::metadata(abs) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() && !meta.is_file() {
        return Err(not_followed(
            abs,
            "is not a regular file (FIFO, socket or device)",
        ));
    }
    if meta.is_dir() {
        let manifest = hash_dir(root, abs, memo)?;
        Ok(Some(Hashed::Dir {
            digest: manifest.digest(),
            size: manifest.total_size(),
            manifest,
        }))
    } else {
        Ok(Some(Hashed::File {
            digest: hash_file(abs, &meta, memo)?,
            size: meta.len(),
        }))
    }
}

/// Hash a directory tree, honouring `.dvcignore` files from `root` down.
pub fn hash_dir(root: &Path, dir: &Path, memo: &Memo) -> io::Result<DirManifest> {
    let files = list_tree(root, dir)?;
    // Memo hits are cheap and stay on this thread; only misses go to the rayon pool, so a
    // no-op run never pays for starting it.
    let mut entries: Vec<Option<Digest>> = files.iter().map(|f| memo.get(&f.meta)).collect();
    let misses: Vec<usize> = (0..files.len()).filter(|i| entries[*i].is_none()).collect();
    let hash = |&i: &usize| {
        let f = &files[i];
        (i, hash_file_uncached(&dir.join(&f.rel), f.meta.len()))
    };
    let hashed: Vec<(usize, io::Result<Digest>)> = if misses.len() > 1 {
        misses.par_iter().map(hash).collect()
    } else {
        misses.iter().map(hash).collect()
    };
    for (i, r) in hashed {
        let d = r?;
        memo.insert(&files[i].meta, &d);
        entries[i] = Some(d);
    }
    Ok(manifest_of(files.into_iter().zip(entries).filter_map(
        |(f, d)| {
            let size = f.meta.len();
            d.map(|digest| (f.rel, ManifestEntry { digest, size }))
        },
    )))
}

/// A regular file found under a directory being hashed.
#[derive(Debug)]
pub(crate) struct TreeFile {
    /// `/`-separated path relative to the directory: the manifest key (`dir.join(rel)` is the
    /// file).
    pub rel: String,
    pub meta: Metadata,
}

/// Every file under `dir` not excluded by a `.dvcignore` (from `root` down), with its stat.
/// The order is unspecified (subdirectories are listed in parallel); manifests sort it.
pub(crate) fn list_tree(root: &Path, dir: &Path) -> io::Result<Vec<TreeFile>> {
    walk(dir, "", IgnoreStack::for_dir(root, dir), true, root, 0)
}

/// Deepest directory nesting a walk enters (a deeper tree is an error, not a hang).
const MAX_DEPTH: usize = 256;

fn not_followed(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("`{}` {why}", path.display()),
    )
}

/// The manifest of `(relpath, entry)` pairs.
pub(crate) fn manifest_of(entries: impl Iterator<Item = (String, ManifestEntry)>) -> DirManifest {
    DirManifest {
        version: 1,
        files: entries.collect(),
    }
}

/// List one directory, stat its files relative to its own descriptor (one path component to
/// resolve, not the whole path), then walk its subdirectories in parallel. A directory's handle
/// is closed before its children are walked, so open descriptors stay bounded by the threads.
///
/// Bounded: a symlink to a directory is entered only when it leads inside the workspace and not
/// to an ancestor of itself (no loops, no `/proc/self/root`), special files (FIFOs, sockets,
/// devices) are errors, and nesting stops at [`MAX_DEPTH`].
fn walk(
    dir: &Path,
    prefix: &str,
    mut ignore: IgnoreStack,
    top: bool,
    root: &Path,
    depth: usize,
) -> io::Result<Vec<TreeFile>> {
    if depth > MAX_DEPTH {
        return Err(not_followed(
            dir,
            &format!("is nested more than {MAX_DEPTH} directories deep"),
        ));
    }
    let mut entries = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| (e.file_name(), e)))
        .collect::<io::Result<Vec<_>>>()?;
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    // `for_dir` already holds the top directory's own `.dvcignore`; a subdirectory's is seen
    // in its listing (no probe per directory when there is none).
    let has_ignore_file = || {
        entries
            .binary_search_by(|(n, _)| n.as_os_str().cmp(std::ffi::OsStr::new(FILE_NAME)))
            .is_ok()
    };
    if !top && has_ignore_file() {
        ignore.push_dir(dir);
    }
    let mut files = Vec::new();
    let mut subdirs = Vec::new();
    for (name, e) in entries {
        let ft = e.file_type()?;
        // Symlinks are followed, as `fs::metadata` does.
        let followed = if ft.is_symlink() {
            Some(std::fs::metadata(e.path())?)
        } else {
            None
        };
        let is_dir = followed.as_ref().map_or(ft.is_dir(), |m| m.is_dir());
        if !ignore.is_empty() && ignore.is_ignored(&e.path(), is_dir) {
            continue;
        }
        if is_dir && followed.is_some() {
            let target = std::fs::canonicalize(e.path())?;
            let here = std::fs::canonicalize(dir)?;
            if !target.starts_with(root) || here.starts_with(&target) {
                return Err(not_followed(
                    &e.path(),
                    "is a symlink to a directory outside the workspace or to one of its own ancestors: not followed",
                ));
            }
        }
        let kind = followed.as_ref().map_or(ft, |m| m.file_type());
        if !is_dir && !kind.is_file() {
            return Err(not_followed(
                &e.path(),
                "is not a regular file (FIFO, socket or device)",
            ));
        }
        let name = name.to_string_lossy();
        let rel = if prefix.is_empty() {
            name.into_owned()
        } else {
            let mut r = String::with_capacity(prefix.len() + 1 + name.len());
            r.push_str(prefix);
            r.push('/');
            r.push_str(&name);
            r
        };
        if is_dir {
            subdirs.push((rel, e.path()));
        } else {
            let meta = match followed {
                Some(m) => m,
                None => stat_entry(&e)?,
            };
            files.push(TreeFile { rel, meta });
        }
    }
    let sub =
        |(rel, path): &(String, PathBuf)| walk(path, rel, ignore.clone(), false, root, depth + 1);
    let nested: Vec<io::Result<Vec<TreeFile>>> = if subdirs.len() > 1 {
        subdirs.par_iter().map(sub).collect()
    } else {
        subdirs.iter().map(sub).collect()
    };
    for n in nested {
        files.extend(n?);
    }
    Ok(files)
}

/// `stat` of a listed non-symlink entry, through its directory's descriptor. If it became a
/// symlink since the listing, follow it like `fs::metadata`.
fn stat_entry(e: &std::fs::DirEntry) -> io::Result<Metadata> {
    let meta = e.metadata()?;
    if meta.file_type().is_symlink() {
        return std::fs::metadata(e.path());
    }
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_file_digest() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("a.txt");
        std::fs::write(&f, b"hello netsec\n").unwrap();
        let memo = Memo::ephemeral();
        let h = hash_path(t.path(), &f, &memo).unwrap().unwrap();
        assert_eq!(
            h.digest().to_hex(),
            blake3::hash(b"hello netsec\n").to_hex().to_string()
        );
        assert_eq!(
            h.digest().to_hex(),
            "f8a743a70a56f0590226637d839bcec8105256cd36d500fd065e626017072342"
        );
        // Large files go through mmap + rayon and must agree with the one-shot hash.
        let big = t.path().join("big.bin");
        let bytes: Vec<u8> = (0..3 * BIG_FILE as usize + 17)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        std::fs::write(&big, &bytes).unwrap();
        let hb = hash_path(t.path(), &big, &memo).unwrap().unwrap();
        assert_eq!(hb.digest(), Digest::of_bytes(&bytes));
    }

    #[test]
    fn a_small_file_is_hashed_whole_whatever_size_its_stat_said() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("grown.txt");
        let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&f, &bytes).unwrap();
        // The stat said 4 bytes (the file grew since), or more than there is: read to the end.
        for len in [0, 4, 70_000, 900_000] {
            assert_eq!(
                hash_file_uncached(&f, len).unwrap(),
                Digest::of_bytes(&bytes),
                "{len}"
            );
        }
    }

    #[test]
    fn pinned_tree_digest_honours_nested_dvcignore() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("data");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("x.csv"), b"1,2\n").unwrap();
        std::fs::write(d.join("sub/y.csv"), b"3,4\n").unwrap();
        std::fs::write(t.path().join(".dvcignore"), b"*.tmp\n").unwrap();
        let memo = Memo::ephemeral();
        let before = hash_dir(t.path(), &d, &memo).unwrap();
        assert_eq!(before.files.len(), 2);
        // The manifest object is sorted, compact JSON; its blake3 is the tree digest.
        let expected = format!(
            "{{\"version\":1,\"files\":{{\"sub/y.csv\":{{\"digest\":\"{}\",\"size\":4}},\"x.csv\":{{\"digest\":\"{}\",\"size\":4}}}}}}\n",
            blake3::hash(b"3,4\n").to_hex(),
            blake3::hash(b"1,2\n").to_hex()
        );
        assert_eq!(String::from_utf8(before.to_bytes()).unwrap(), expected);
        assert_eq!(
            before.digest().to_hex(),
            "734454a89b2aba26511574958321dc099cd0876e5d4607a54ab9990ea05dae51"
        );
        std::fs::write(d.join("junk.tmp"), b"noise").unwrap();
        std::fs::write(d.join("sub/.dvcignore"), b"skip.me\n").unwrap();
        std::fs::write(d.join("sub/skip.me"), b"noise").unwrap();
        let after = hash_dir(t.path(), &d, &memo).unwrap();
        assert!(!after.files.contains_key("junk.tmp"));
        assert!(!after.files.contains_key("sub/skip.me"));
        assert_eq!(
            after.files.len(),
            3,
            "only the nested .dvcignore itself is added"
        );
        std::fs::write(d.join("sub/y.csv"), b"3,5\n").unwrap();
        assert_ne!(
            hash_dir(t.path(), &d, &Memo::ephemeral()).unwrap().digest(),
            before.digest()
        );
    }
}
