//! The fresh seal: "every stage was fresh", remembered with the stamp of every file that
//! verdict rests on, so a no-op `status` or `repro` can answer from `lstat` calls alone
//! instead of parsing pipeline.toml, reading the lock and evaluating each stage.
//!
//! A seal is written only after a full evaluation found every stage fresh (and every `netsec
//! add` source unchanged), from stamps taken *before* that evaluation: a file changed while it
//! ran has a newer stamp than the one sealed, so the next check fails and evaluates again.
//! It covers pipeline.toml, the params files, `.netsec/config.local.toml`, the lock and its
//! journal, every dep and out (a directory with every entry below it, a symlink also through
//! its target), the `.dvcignore` files above directory deps and outs, the `.gitignore` files
//! netsec keeps (for `repro`), the records of running commands and Slurm jobs, and the netsec
//! executable itself. No stamp changed within the racy window ([`crate::stamp::RACY_NS`]) is
//! sealed. Any stamp that differs, a damaged or foreign file, or any doubt: the caller takes
//! the full path. The seal never decides anything else (what to run, what to restore).
//!
//! Format (`.netsec/state/fresh-v1`): magic, a blake3 of the body, then length-prefixed
//! fields (little-endian). Read bounded, and every path checked to be relative and inside.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::lock::Lockfile;
use crate::stamp::{now_ns, FileStamp};
use crate::workspace::{Repo, DOT_DIR, MANIFEST};

const MAGIC: &[u8; 8] = b"NSFRESH1";
const FILE: &str = "fresh-v1";
/// Largest seal read or written (about a million paths).
const MAX_BYTES: u64 = 128 << 20;
/// A pipeline whose deps and outs hold more entries than this is not sealed.
const MAX_STAMPS: usize = 1_000_000;
/// Below this many stamps, checking on one thread is faster than starting the pool.
const PARALLEL_FROM: usize = 4_096;

/// What a valid seal vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Every stage, in the pipeline's topological order: all fresh, none frozen.
    pub stages: Vec<String>,
    /// The data sources of `netsec add`, all unchanged.
    pub sources: Vec<String>,
    /// The `.gitignore` files were in sync when sealed (written by `repro`, which syncs them).
    pub gitignores_synced: bool,
}

/// How a stamp is taken: the path itself, or what it leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Follow {
    No = 0,
    Yes = 1,
}

/// Stamps taken before an evaluation, sealed after it if everything was fresh.
#[derive(Debug)]
pub struct Pending {
    taken_at: i128,
    stamps: Vec<(Follow, String, FileStamp)>,
}

fn seal_path(root: &Path) -> PathBuf {
    root.join(DOT_DIR).join("state").join(FILE)
}

/// Netsec's version and formats: a seal written by another build is never read.
fn key() -> String {
    format!(
        "netsec {} fingerprint {} seal 1",
        env!("CARGO_PKG_VERSION"),
        crate::fingerprint::FORMAT
    )
}

/// The running executable and its stamp (a rebuilt binary may judge stages differently).
fn exe() -> Option<(String, FileStamp)> {
    let p = std::env::current_exe().ok()?;
    let s = FileStamp::stat(&p).filter(FileStamp::exists)?;
    Some((p.to_str()?.to_string(), s))
}

/// The seal of the workspace at `root`, if it is intact and every stamp still holds.
/// `with_gitignores`: only a seal that also vouches for the `.gitignore` blocks (`repro`).
pub fn check(root: &Path, with_gitignores: bool) -> Option<Sealed> {
    let bytes = netsec_common::read_regular(&seal_path(root), Some(MAX_BYTES)).ok()?;
    let decoded = decode(&bytes)?;
    if decoded.key != key() || (with_gitignores && !decoded.sealed.gitignores_synced) {
        return None;
    }
    let (exe_path, exe_stamp) = exe()?;
    if decoded.exe != (exe_path, exe_stamp) {
        return None;
    }
    let holds = |(follow, rel, want): &(Follow, String, FileStamp)| {
        let p = root.join(rel);
        let now = match follow {
            Follow::No => FileStamp::lstat(&p),
            Follow::Yes => FileStamp::stat(&p),
        };
        now.as_ref() == Some(want)
    };
    let all = if decoded.stamps.len() >= PARALLEL_FROM {
        use rayon::prelude::*;
        decoded.stamps.par_iter().all(holds)
    } else {
        decoded.stamps.iter().all(holds)
    };
    if !all {
        tracing::debug!("fresh seal: a stamp changed; evaluating every stage");
        return None;
    }
    tracing::debug!(
        "fresh seal: {} stages fresh by {} stamps",
        decoded.sealed.stages.len(),
        decoded.stamps.len()
    );
    Some(decoded.sealed)
}

impl Pending {
    /// Stamp everything a verdict on `repo` rests on, now. `None` when the pipeline cannot be
    /// sealed: a stage that is frozen, always changed or without deps is never "fresh" alone,
    /// and a stage the lock does not record will run (stamping 10,000 paths before a first
    /// run would be wasted: [`Pending::commit`] seals only a lock recording every stage).
    pub fn collect(repo: &Repo) -> Option<Pending> {
        let p = &repo.pipeline;
        if p.stages
            .values()
            .any(|s| s.frozen || s.always_changed || s.deps.is_empty())
            || repo.lock_lacks_a_stage()
        {
            return None;
        }
        let taken_at = now_ns();
        let mut c = Collector::new(&repo.root);
        c.file(MANIFEST);
        c.file(crate::local_config::LOCAL_CONFIG);
        c.file(&rel(&Lockfile::path(Path::new(""))));
        c.file(&rel(&crate::lock_journal::path(Path::new(""))));
        for kind in ["running", "jobs"] {
            c.file(&format!("{DOT_DIR}/state/{kind}"));
        }
        for s in p.stages.values() {
            for k in &s.params {
                if let Some(f) = &k.file {
                    c.file(f.as_str());
                }
            }
            for d in &s.deps {
                c.tree(d.as_str())?;
            }
            for o in &s.outs {
                c.tree(o.path.as_str())?;
            }
            if !s.wdir.is_root() {
                c.file(s.wdir.as_str());
            }
        }
        c.finish(taken_at)
    }

    /// Seal: `order` is every stage as just found fresh, in topological order. Checks what the
    /// stamps alone cannot say (the lock records exactly these stages, nothing is running, the
    /// sources are unchanged), stamps the sources and, with `gitignores_synced`, the
    /// `.gitignore` files; writes nothing if any of it fails or a stamp is racy.
    pub fn commit(self, repo: &Repo, lock: &Lockfile, order: &[String], gitignores_synced: bool) {
        let p = &repo.pipeline;
        let same_stages = order == p.graph.order.as_slice()
            && lock.stages.len() == p.stages.len()
            && p.stages.keys().all(|k| lock.stages.contains_key(k));
        if !same_stages || crate::exec::slurm::any_job_records(repo) || running_records(repo) {
            return;
        }
        let mut c = Collector::new(&repo.root);
        c.seen = self
            .stamps
            .iter()
            .map(|(f, p, _)| (*f, p.clone()))
            .collect();
        c.stamps = self.stamps;
        for src in lock.sources.keys() {
            if c.tree(src.as_str()).is_none() {
                return;
            }
        }
        if gitignores_synced {
            for f in crate::gitignore::files_synced(repo, lock) {
                c.file(&f);
            }
        }
        // Stamped above, judged now: a change in between shows as a different stamp later.
        let sources = match crate::add::sources_status(repo, lock) {
            Ok(s)
                if s.iter()
                    .all(|s| s.state == netsec_protocol::SourceState::Fresh) =>
            {
                s
            }
            _ => return,
        };
        let Some(stamps) = c.finish(self.taken_at.min(now_ns())).map(|p| p.stamps) else {
            return;
        };
        let Some((exe_path, exe_stamp)) = exe() else {
            return;
        };
        let decoded = Decoded {
            key: key(),
            exe: (exe_path, exe_stamp),
            sealed: Sealed {
                stages: order.to_vec(),
                sources: sources.into_iter().map(|s| s.path).collect(),
                gitignores_synced,
            },
            stamps,
        };
        let bytes = encode(&decoded);
        if bytes.len() as u64 > MAX_BYTES {
            return;
        }
        let path = seal_path(&repo.root);
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = netsec_common::atomic::write_atomic(
            &path,
            &bytes,
            netsec_common::atomic::Durability::NoFsync,
        ) {
            tracing::debug!("cannot write the fresh seal: {e}");
        }
    }
}

/// A record of a command a killed run may have left running.
fn running_records(repo: &Repo) -> bool {
    let dir = repo.dot.join("state").join("running");
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

fn rel(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Stamps, each path once; a directory contributes every entry below it.
struct Collector<'a> {
    root: &'a Path,
    seen: BTreeSet<(Follow, String)>,
    stamps: Vec<(Follow, String, FileStamp)>,
    failed: bool,
}

impl<'a> Collector<'a> {
    fn new(root: &'a Path) -> Self {
        Collector {
            root,
            seen: BTreeSet::new(),
            stamps: Vec::new(),
            failed: false,
        }
    }

    fn push(&mut self, follow: Follow, rel: &str) -> Option<FileStamp> {
        if self.stamps.len() >= MAX_STAMPS {
            self.failed = true;
            return None;
        }
        let abs = self.root.join(rel);
        let stamp = match follow {
            Follow::No => FileStamp::lstat(&abs),
            Follow::Yes => FileStamp::stat(&abs),
        };
        let Some(stamp) = stamp else {
            self.failed = true;
            return None;
        };
        if self.seen.insert((follow, rel.to_string())) {
            self.stamps.push((follow, rel.to_string(), stamp));
        }
        Some(stamp)
    }

    /// One path, not followed and not descended into.
    fn file(&mut self, rel: &str) {
        self.push(Follow::No, rel);
    }

    /// A dep, out or source: itself, its target if a link, every entry below if a directory,
    /// and the `.dvcignore` files above a directory (they change what it hashes to).
    fn tree(&mut self, rel: &str) -> Option<()> {
        if self.seen.contains(&(Follow::No, rel.to_string())) {
            return Some(());
        }
        let own = self.push(Follow::No, rel)?;
        let dir = if own.is_symlink() {
            self.push(Follow::Yes, rel)?.is_dir()
        } else {
            own.is_dir()
        };
        if dir {
            self.dvcignores_above(rel);
            self.walk(rel);
        }
        (!self.failed).then_some(())
    }

    fn dvcignores_above(&mut self, rel: &str) {
        let mut prefix = String::new();
        self.file(crate::dvcignore::FILE_NAME);
        let parts: Vec<&str> = rel.split('/').collect();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            self.file(&format!("{prefix}/{}", crate::dvcignore::FILE_NAME));
        }
    }

    /// Every entry below `rel` (not following links), iteratively.
    fn walk(&mut self, rel: &str) {
        let mut stack = vec![rel.to_string()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(self.root.join(&dir)) else {
                self.failed = true;
                return;
            };
            for e in entries {
                let Ok(e) = e else {
                    self.failed = true;
                    return;
                };
                let Some(name) = e.file_name().to_str().map(str::to_string) else {
                    self.failed = true;
                    return;
                };
                let child = format!("{dir}/{name}");
                let Some(s) = self.push(Follow::No, &child) else {
                    return;
                };
                if s.is_dir() {
                    stack.push(child);
                }
            }
        }
    }

    fn finish(self, taken_at: i128) -> Option<Pending> {
        if self.failed || self.stamps.iter().any(|(_, _, s)| s.is_racy(taken_at)) {
            return None;
        }
        Some(Pending {
            taken_at,
            stamps: self.stamps,
        })
    }
}

#[derive(Debug, PartialEq)]
struct Decoded {
    key: String,
    exe: (String, FileStamp),
    sealed: Sealed,
    stamps: Vec<(Follow, String, FileStamp)>,
}

fn encode(d: &Decoded) -> Vec<u8> {
    let mut body = Vec::with_capacity(64 + d.stamps.len() * 100);
    let put_str = |b: &mut Vec<u8>, s: &str| {
        b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
    };
    let put_stamp = |b: &mut Vec<u8>, s: &FileStamp| {
        b.extend_from_slice(&s.mode.to_le_bytes());
        for v in [s.dev, s.ino, s.nlink, s.size] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [s.mtime_ns, s.ctime_ns] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    };
    put_str(&mut body, &d.key);
    put_str(&mut body, &d.exe.0);
    put_stamp(&mut body, &d.exe.1);
    body.push(u8::from(d.sealed.gitignores_synced));
    for list in [&d.sealed.stages, &d.sealed.sources] {
        body.extend_from_slice(&(list.len() as u32).to_le_bytes());
        for s in list {
            put_str(&mut body, s);
        }
    }
    body.extend_from_slice(&(d.stamps.len() as u32).to_le_bytes());
    for (follow, path, stamp) in &d.stamps {
        body.push(*follow as u8);
        put_str(&mut body, path);
        put_stamp(&mut body, stamp);
    }
    let mut out = Vec::with_capacity(body.len() + 40);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(blake3::hash(&body).as_bytes());
    out.extend_from_slice(&body);
    out
}

/// Reads the fields in order; every length is checked against what is left.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn stamp(&mut self) -> Option<FileStamp> {
        Some(FileStamp {
            mode: self.u32()?,
            dev: self.u64()?,
            ino: self.u64()?,
            nlink: self.u64()?,
            size: self.u64()?,
            mtime_ns: self.u64()? as i64,
            ctime_ns: self.u64()? as i64,
        })
    }
    /// A count of items each at least `min` bytes long: never more than the bytes left allow.
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = self.u32()? as usize;
        (n <= self.0.len() / min).then_some(n)
    }
}

/// A relative path with no `..`, empty or NUL component: joined to the root, it stays inside.
fn inside(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\0')
        && p.split('/').all(|c| !c.is_empty() && c != "..")
}

fn decode(bytes: &[u8]) -> Option<Decoded> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    if rest.len() < 32 {
        return None;
    }
    let (sum, body) = rest.split_at(32);
    if blake3::hash(body).as_bytes() != sum {
        return None;
    }
    let mut c = Cursor(body);
    let key = c.str()?;
    let exe = (c.str()?, c.stamp()?);
    let gitignores_synced = match c.u8()? {
        0 => false,
        1 => true,
        _ => return None,
    };
    let mut lists = [Vec::new(), Vec::new()];
    for list in &mut lists {
        let n = c.count(4)?;
        list.reserve(n);
        for _ in 0..n {
            list.push(c.str()?);
        }
    }
    let [stages, sources] = lists;
    let n = c.count(1 + 4 + 52)?;
    let mut stamps = Vec::with_capacity(n);
    for _ in 0..n {
        let follow = match c.u8()? {
            0 => Follow::No,
            1 => Follow::Yes,
            _ => return None,
        };
        let path = c.str()?;
        if !inside(&path) {
            return None;
        }
        stamps.push((follow, path, c.stamp()?));
    }
    if !c.0.is_empty() {
        return None;
    }
    Some(Decoded {
        key,
        exe,
        sealed: Sealed {
            stages,
            sources,
            gitignores_synced,
        },
        stamps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Decoded {
        let s = FileStamp {
            mode: 0o100_644,
            dev: 1,
            ino: 2,
            nlink: 1,
            size: 3,
            mtime_ns: 4,
            ctime_ns: 5,
        };
        Decoded {
            key: key(),
            exe: ("/usr/bin/netsec".into(), s),
            sealed: Sealed {
                stages: vec!["a".into(), "b".into()],
                sources: vec!["data/raw.csv".into()],
                gitignores_synced: true,
            },
            stamps: vec![
                (Follow::No, "pipeline.toml".into(), s),
                (Follow::Yes, "data/link".into(), FileStamp::ABSENT),
            ],
        }
    }

    #[test]
    fn round_trip_and_every_damage_is_refused() {
        let d = sample();
        let bytes = encode(&d);
        assert_eq!(decode(&bytes), Some(sample()));
        // Any flipped byte, any truncation: refused, never a panic.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x40;
            assert_eq!(decode(&b), None, "byte {i}");
            assert_eq!(decode(&bytes[..i]), None, "cut at {i}");
        }
    }

    #[test]
    fn paths_leading_out_are_refused_even_with_a_valid_checksum() {
        for bad in ["../x", "/etc/passwd", "a/../../x", "a//b", ""] {
            let mut d = sample();
            d.stamps[0].1 = bad.into();
            assert_eq!(decode(&encode(&d)), None, "{bad}");
        }
        // A count larger than the bytes that follow is refused before anything is reserved.
        let mut c = Cursor(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(c.count(4), None);
    }
}
