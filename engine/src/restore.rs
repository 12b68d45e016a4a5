//! Putting outs in place: atomic replacement of a workspace path, restoring an out from the
//! cache (used by `checkout` and by run-cache restores) or from known bytes (an uncached out
//! kept in a run-cache entry), un-sharing `persist` outs.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cache::Cache;
use crate::digest::hash_path;
use crate::lock::OutRecord;
use crate::memo::Memo;
use crate::repo_path::RepoPath;
use crate::workspace::Repo;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A fresh unique path under `.netsec/tmp/`.
pub fn tmp_path(repo: &Repo, what: &str) -> io::Result<PathBuf> {
    let dir = repo.tmp_dir();
    fs::create_dir_all(&dir)?;
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!("{what}-{}-{n}", std::process::id())))
}

/// Remove a file or directory tree if it exists.
pub fn remove_path(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Move `new` to `dest`, replacing whatever is there. The old content is first renamed aside,
/// so at every instant `dest` is either the old version, missing, or the new version: never a
/// mixture. A kill between the two renames leaves it missing, which reads as "out missing".
pub fn replace_path(repo: &Repo, new: &Path, dest: &Path) -> io::Result<()> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent)?;
    }
    let trash = if fs::symlink_metadata(dest).is_ok() {
        let t = tmp_path(repo, "trash")?;
        fs::rename(dest, &t)?;
        Some(t)
    } else {
        None
    };
    fs::rename(new, dest)?;
    if let Some(t) = trash {
        remove_path(&t)?;
    }
    Ok(())
}

/// Restore one out from the cache per its lock record (if it differs from what is there).
/// Returns whether anything changed.
pub fn restore_out(repo: &Repo, path: &RepoPath, rec: &OutRecord) -> io::Result<bool> {
    place(repo, path, rec, |staged| {
        materialise_record(&repo.cache, &repo.memo, rec, staged)
    })
}

/// Write the content `rec` records (a file, or a directory's every file) at `dest`, which must
/// not exist, from `cache`.
pub fn materialise_record(
    cache: &Cache,
    memo: &Memo,
    rec: &OutRecord,
    dest: &Path,
) -> io::Result<()> {
    if rec.record.nfiles.is_some() {
        let manifest = cache.read_manifest(&rec.record.digest)?;
        fs::create_dir_all(dest)?;
        for (rel, e) in &manifest.files {
            let file = dest.join(rel);
            if let Some(parent) = file.parent() {
                fs::create_dir_all(parent)?;
            }
            cache.materialise(&e.digest, &file, memo)?;
        }
        Ok(())
    } else {
        cache.materialise(&rec.record.digest, dest, memo)
    }
}

/// Restore an uncached out from its known bytes (a run-cache entry's kept text), already
/// checked against `rec`. Returns whether anything changed.
pub fn restore_bytes(
    repo: &Repo,
    path: &RepoPath,
    rec: &OutRecord,
    bytes: &[u8],
) -> io::Result<bool> {
    place(repo, path, rec, |staged| fs::write(staged, bytes))
}

/// Put the out `rec` describes at `path` unless it is already there: `fill` writes the
/// content into a staging path, which then replaces the workspace path atomically.
fn place(
    repo: &Repo,
    path: &RepoPath,
    rec: &OutRecord,
    fill: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<bool> {
    crate::confine::check_inside(&repo.root, path)?;
    let abs = path.to_path(&repo.root);
    if let Some(h) = hash_path(&repo.root, &abs, &repo.memo)? {
        if h.digest() == rec.record.digest {
            return Ok(false);
        }
    }
    let staged = tmp_path(repo, "restore")?;
    let result = fill(&staged).and_then(|()| replace_path(repo, &staged, &abs));
    if result.is_err() {
        let _ = remove_path(&staged);
        return result.map(|()| true);
    }
    // The rename moved the file's ctime: vouch for the restored file under its new stat,
    // or the next `status` would re-hash what was just verified.
    if rec.record.nfiles.is_none() {
        if let Ok(meta) = fs::metadata(&abs) {
            repo.memo.insert_trusted(&meta, &rec.record.digest);
        }
    }
    Ok(true)
}

/// Give a `persist` out that shares its inode with a (read-only, hard-linked) cache object its
/// own copy again, so a command appending to it cannot write through into the object.
pub fn unshare_persist_out(repo: &Repo, abs: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::metadata(abs) else {
        return Ok(());
    };
    if meta.is_dir() {
        for e in fs::read_dir(abs)? {
            unshare_persist_out(repo, &e?.path())?;
        }
        return Ok(());
    }
    if meta.nlink() > 1 && meta.permissions().readonly() {
        use std::os::unix::fs::PermissionsExt;
        let t = tmp_path(repo, "unshare")?;
        fs::copy(abs, &t)?;
        fs::set_permissions(&t, fs::Permissions::from_mode(0o644))?;
        fs::rename(&t, abs)?;
    }
    Ok(())
}
