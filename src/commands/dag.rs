//! `netsec dag`: the stage graph as ASCII (default), Graphviz dot, Mermaid or JSON, on stdout.

use std::collections::BTreeSet;
use std::path::Path;

use netsec_engine::Error;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this stage and its upstream.
    stage: Option<String>,
    /// Graphviz dot.
    #[arg(long, group = "format")]
    dot: bool,
    /// Mermaid flowchart.
    #[arg(long, group = "format")]
    mermaid: bool,
    /// `{"nodes": [...], "edges": [[from, to], ...]}`.
    #[arg(long, group = "format")]
    json: bool,
    /// One node per `foreach`/`matrix` stage instead of one per member.
    #[arg(long)]
    collapse: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let g = &repo.pipeline.graph;
    let keep: BTreeSet<String> = match &args.stage {
        Some(s) => g.with_ancestors(&repo.resolve_stage_names(std::slice::from_ref(s))?),
        None => g.order.iter().cloned().collect(),
    };
    let (g, keep) = if args.collapse {
        let (merged, keep) = g.collapsed(&repo.pipeline.groups, &keep);
        (std::borrow::Cow::Owned(merged), keep)
    } else {
        (std::borrow::Cow::Borrowed(g), keep)
    };
    if args.dot {
        crate::out!("{}", g.to_dot(&keep));
    } else if args.mermaid {
        crate::out!("{}", g.to_mermaid(&keep));
    } else if args.json {
        crate::output::json_line(&g.to_json(&keep));
    } else {
        crate::out!("{}", g.to_ascii(&keep));
    }
    Ok(0)
}
