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
    let targets = &repo.resolve_stage_names(targets)?;
    let g = &repo.pipeline.graph;
    if targets.is_empty() {
        return Ok(g.order.clone());
    }
    let set = if sel.single_item {
        targets.iter().cloned().collect()
    } else if sel.downstream {
        g.with_descendants(targets)
    } else {
        // As in DVC, a frozen stage cuts the graph: its upstream is not reproduced through it.
        let mut seen = std::collections::BTreeSet::new();
        let mut stack: Vec<String> = targets.to_vec();
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) && !repo.pipeline.stages[&n].frozen {
                stack.extend(g.upstream[&n].iter().cloned());
            }
        }
        seen
    };
    Ok(g.order
        .iter()
        .filter(|s| set.contains(*s))
        .cloned()
        .collect())
}
