//! Which stages a `repro` considers: targets plus their upstream (default), only the targets
//! (`-s`), or the targets plus their downstream (`--downstream`); all stages with no targets.

use crate::error::Error;
use crate::workspace::Repo;

/// Selection flags of `repro`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection {
    pub single_item: bool,
    pub downstream: bool,
}

/// The selected stages in topological order.
pub fn select(repo: &Repo, targets: &[String], sel: Selection) -> Result<Vec<String>, Error> {
    repo.check_stage_names(targets)?;
    let g = &repo.pipeline.graph;
    if targets.is_empty() {
        return Ok(g.order.clone());
    }
    let set = if sel.single_item {
        targets.iter().cloned().collect()
    } else if sel.downstream {
        g.with_descendants(targets)
    } else {
        g.with_ancestors(targets)
    };
    Ok(g.order
        .iter()
        .filter(|s| set.contains(*s))
        .cloned()
        .collect())
}
