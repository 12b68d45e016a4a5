//! `.dvcignore`: gitignore-syntax files, nested anywhere, that exclude paths when a directory
//! dep or out is hashed. Matching uses the `ignore` crate's gitignore matcher, one per file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;

pub const FILE_NAME: &str = ".dvcignore";

/// A stack of matchers from the repository root down to the directory being walked. Layers
/// are shared, so a walker can hand each subdirectory its own copy cheaply.
#[derive(Debug, Clone, Default)]
pub struct IgnoreStack {
    layers: Vec<Arc<Gitignore>>,
}

impl IgnoreStack {
    /// Matchers of every `.dvcignore` from `root` down to (and including) `dir`.
    pub fn for_dir(root: &Path, dir: &Path) -> IgnoreStack {
        let mut stack = IgnoreStack::default();
        stack.push_dir(root);
        if let Ok(rel) = dir.strip_prefix(root) {
            let mut cur = PathBuf::from(root);
            for c in rel.components() {
                cur.push(c);
                stack.push_dir(&cur);
            }
        }
        stack
    }

    /// Add the `.dvcignore` of `dir`, if any. Returns whether a layer was pushed.
    pub fn push_dir(&mut self, dir: &Path) -> bool {
        if !dir.join(FILE_NAME).is_file() {
            return false;
        }
        self.push_file(dir)
    }

    /// Add the `.dvcignore` of `dir`, known to exist (seen while listing `dir`).
    pub fn push_file(&mut self, dir: &Path) -> bool {
        let file = dir.join(FILE_NAME);
        let mut b = GitignoreBuilder::new(dir);
        // A malformed line is skipped rather than failing the whole hash: gitignore semantics.
        let _ = b.add(&file);
        match b.build() {
            Ok(g) => {
                self.layers.push(Arc::new(g));
                true
            }
            Err(_) => false,
        }
    }

    pub fn pop(&mut self) {
        self.layers.pop();
    }

    /// No `.dvcignore` applies: nothing can be ignored (and no path needs building to ask).
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The innermost file with an opinion wins, as in git.
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        for g in self.layers.iter().rev() {
            match g.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}
