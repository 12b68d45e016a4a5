//! Unit-test support: a repository of one trivial stage (`a`, out `a.txt`), opened in `root`.

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
