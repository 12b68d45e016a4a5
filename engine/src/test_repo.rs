//! Unit-test support: a repository of one trivial stage (`a`, out `a.txt`), opened in `root`,
//! and FIFOs where state files belong (a plain open or read of one blocks forever).

use std::collections::BTreeMap;
use std::path::Path;

use crate::workspace::Repo;

pub(crate) fn one_stage_repo(root: &Path) -> Repo {
    std::fs::write(
        root.join("pipeline.toml"),
        "[stages.a]\ncmd = \"true\"\ndeps = []\nouts = [\"a.txt\"]\n",
    )
    .expect("pipeline");
    Repo::open(root, crate::Extensions::default(), BTreeMap::new())
        .expect("open")
        .0
}

/// A FIFO at `p` (its parent directories created).
pub(crate) fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().expect("dir")).expect("mkdir");
    let made = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo");
    assert!(made.success(), "mkfifo {}", p.display());
}
