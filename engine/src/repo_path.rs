//! `RepoPath`: a normalised, workspace-relative path with `/` separators and no trailing slash.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

#[cfg(test)]
thread_local! {
    static COMPARISONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts one path comparison (containment test or ordering) on this thread, in test builds:
/// tests bound the work of building a graph with it, without timing anything.
#[inline]
pub(crate) fn count_comparison() {
    #[cfg(test)]
    COMPARISONS.with(|c| c.set(c.get() + 1));
}

/// Path comparisons counted on this thread so far (test builds only).
#[cfg(test)]
pub(crate) fn comparisons() -> u64 {
    COMPARISONS.with(std::cell::Cell::get)
}

/// A path inside the workspace, relative to the repository root.
///
/// Normalised once at the parse boundary: `/` separators, no `.` components, no `..`, no
/// trailing slash. Because every stage path goes through [`RepoPath::parse`], equality and
/// prefix tests on the string are equality and containment on the file tree.
///
/// Deserializing (from `netsec.lock`, a run-cache entry, a remote, an experiment record: all
/// untrusted) accepts only the normalised form, so `../x`, `/etc/x`, `a/./b` or an empty path in
/// any of them is refused before anything is read or written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoPath(String);

impl TryFrom<String> for RepoPath {
    type Error = RepoPathError;

    fn try_from(s: String) -> Result<RepoPath, RepoPathError> {
        let p = RepoPath::parse(&s)?;
        if p.0 != s {
            return Err(RepoPathError::NotNormal(s));
        }
        Ok(p)
    }
}

impl From<RepoPath> for String {
    fn from(p: RepoPath) -> String {
        p.0
    }
}

/// Why a string is not a workspace path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoPathError {
    #[error("path `{0}` is absolute; paths must be relative to the repository root")]
    Absolute(String),
    #[error("path `{0}` points outside the workspace")]
    Escapes(String),
    #[error("path is empty")]
    Empty,
    #[error("path `{0}` is not in normal form (`a/b`, no `.`, `..`, `//` or trailing `/`)")]
    NotNormal(String),
    #[error("path `{0}` contains a NUL byte or a line break")]
    BadChar(String),
}

impl RepoPath {
    /// Parse `raw` (relative to `base`, itself a workspace path or the root) into a `RepoPath`.
    pub fn parse_in(base: Option<&RepoPath>, raw: &str) -> Result<RepoPath, RepoPathError> {
        if raw.trim().is_empty() {
            return Err(RepoPathError::Empty);
        }
        if raw.contains(['\0', '\n', '\r']) {
            return Err(RepoPathError::BadChar(raw.escape_debug().to_string()));
        }
        let p = Path::new(raw);
        if p.is_absolute() || raw.starts_with('~') {
            return Err(RepoPathError::Absolute(raw.to_string()));
        }
        let mut parts: Vec<String> = match base {
            Some(b) if !b.is_root() => b.0.split('/').map(str::to_string).collect(),
            _ => Vec::new(),
        };
        for c in p.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::CurDir => {}
                Component::ParentDir => {
                    if parts.pop().is_none() {
                        return Err(RepoPathError::Escapes(raw.to_string()));
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(RepoPathError::Absolute(raw.to_string()))
                }
            }
        }
        Ok(RepoPath(parts.join("/")))
    }

    /// Parse a path relative to the repository root.
    pub fn parse(raw: &str) -> Result<RepoPath, RepoPathError> {
        Self::parse_in(None, raw)
    }

    /// The repository root itself (empty relative path); only valid as a `wdir`.
    pub fn root() -> RepoPath {
        RepoPath(String::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// Paths netsec never writes as an out: the repository's `.git` (at any depth), its own
    /// `.netsec/`, and the pipeline and lock files. `None` when the path is allowed.
    pub fn reserved(&self) -> Option<&'static str> {
        let mut parts = self.0.split('/');
        let first = parts.next().unwrap_or("");
        if first == ".netsec" {
            return Some("netsec's own state (`.netsec/`)");
        }
        if first == ".git" || self.0.split('/').any(|c| c == ".git") {
            return Some("a git directory");
        }
        match self.0.as_str() {
            "pipeline.toml" => Some("the pipeline file"),
            "netsec.lock" => Some("the lock file"),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self` equals `other` or lies inside the directory `other`.
    pub fn is_within(&self, other: &RepoPath) -> bool {
        count_comparison();
        other.is_root()
            || self.0 == other.0
            || (self.0.len() > other.0.len()
                && self.0.starts_with(&other.0)
                && self.0.as_bytes()[other.0.len()] == b'/')
    }

    /// One of the two paths contains the other.
    pub fn overlaps(&self, other: &RepoPath) -> bool {
        self.is_within(other) || other.is_within(self)
    }

    /// `self` relative to `dir` (which must contain it), `/`-separated.
    pub fn strip_prefix(&self, dir: &RepoPath) -> Option<&str> {
        if dir.is_root() {
            return Some(&self.0);
        }
        if self.0 == dir.0 {
            return Some("");
        }
        if self.is_within(dir) {
            return Some(&self.0[dir.0.len() + 1..]);
        }
        None
    }

    /// Join a `/`-separated relative suffix.
    pub fn join(&self, rel: &str) -> RepoPath {
        if self.is_root() {
            RepoPath(rel.to_string())
        } else if rel.is_empty() {
            self.clone()
        } else {
            RepoPath(format!("{}/{}", self.0, rel))
        }
    }

    /// Absolute path on disk under `root`.
    pub fn to_path(&self, root: &Path) -> PathBuf {
        if self.is_root() {
            root.to_path_buf()
        } else {
            root.join(&self.0)
        }
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            f.write_str(".")
        } else {
            f.write_str(&self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_rejects_escapes() {
        assert_eq!(RepoPath::parse("./a//b/").unwrap().as_str(), "a/b");
        assert_eq!(RepoPath::parse("a/../b").unwrap().as_str(), "b");
        assert!(matches!(
            RepoPath::parse("../x"),
            Err(RepoPathError::Escapes(_))
        ));
        assert!(matches!(
            RepoPath::parse("/etc/x"),
            Err(RepoPathError::Absolute(_))
        ));
        let base = RepoPath::parse("sub").unwrap();
        assert_eq!(
            RepoPath::parse_in(Some(&base), "../y").unwrap().as_str(),
            "y"
        );
    }

    #[test]
    fn untrusted_forms_are_refused_when_deserialized() {
        for bad in [
            "../x",
            "/etc/passwd",
            "a/./b",
            "a//b",
            "a/",
            "",
            "a/../b",
            "x\u{0}y",
        ] {
            let json = serde_json::to_string(bad).unwrap();
            assert!(serde_json::from_str::<RepoPath>(&json).is_err(), "{bad:?}");
        }
        let ok: RepoPath = serde_json::from_str("\"data/x.csv\"").unwrap();
        assert_eq!(ok.as_str(), "data/x.csv");
        assert!(RepoPath::parse(".netsec/cache")
            .unwrap()
            .reserved()
            .is_some());
        assert!(RepoPath::parse(".git").unwrap().reserved().is_some());
        assert!(RepoPath::parse("sub/.git/hooks")
            .unwrap()
            .reserved()
            .is_some());
        assert!(RepoPath::parse("netsec.lock").unwrap().reserved().is_some());
        assert!(RepoPath::parse("data/.gitignore")
            .unwrap()
            .reserved()
            .is_none());
    }

    #[test]
    fn containment_is_by_component() {
        let a = RepoPath::parse("data").unwrap();
        assert!(RepoPath::parse("data/x").unwrap().is_within(&a));
        assert!(!RepoPath::parse("database").unwrap().is_within(&a));
        assert_eq!(
            RepoPath::parse("data/x/y").unwrap().strip_prefix(&a),
            Some("x/y")
        );
    }
}
