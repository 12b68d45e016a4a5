//! The stage DAG: edges from out→dep path matching, a deterministic topological order, cycle
//! naming, ancestor/descendant selection and the text/dot/mermaid/JSON renderings.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt::Write as _;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

use crate::out_index::OutIndex;
use crate::pipeline::Stage;

/// Stages and `upstream → downstream` edges, with a topological order (ties broken by name).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub order: Vec<String>,
    pub upstream: BTreeMap<String, BTreeSet<String>>,
    pub downstream: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// Build the DAG from the stages and the index of their outs (see [`OutIndex`]): one
    /// O(log n) lookup per dep, no pass over stage pairs. On a cycle, return every stage in the
    /// (first) cycle found.
    pub fn build(stages: &BTreeMap<String, Stage>, outs: &OutIndex) -> Result<Graph, Vec<String>> {
        let names: Vec<&String> = stages.keys().collect();
        // Node `i` is the `i`-th stage in name order.
        let mut g = DiGraph::<(), ()>::with_capacity(names.len(), names.len());
        for _ in &names {
            g.add_node(());
        }
        for (i, s) in stages.values().enumerate() {
            // A dep matches an out when one contains the other (an out directory contains
            // the files under it; a dep directory contains the outs written into it).
            let mut ups: Vec<usize> = s.deps.iter().flat_map(|d| outs.producers(d)).collect();
            ups.sort_unstable();
            ups.dedup();
            for u in ups {
                if u == i {
                    return Err(vec![s.name.clone()]);
                }
                g.add_edge(NodeIndex::new(u), NodeIndex::new(i), ());
            }
        }
        let Some(order) = lexical_toposort(&g) else {
            return Err(find_cycle(&g, &names));
        };
        let mut upstream: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut downstream: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            let node = NodeIndex::new(i);
            let near = |dir| {
                g.neighbors_directed(node, dir)
                    .map(|x| names[x.index()].clone())
                    .collect()
            };
            upstream.insert((*n).clone(), near(Direction::Incoming));
            downstream.insert((*n).clone(), near(Direction::Outgoing));
        }
        Ok(Graph {
            order: order.into_iter().map(|i| names[i].clone()).collect(),
            upstream,
            downstream,
        })
    }

    fn closure(
        &self,
        start: &[String],
        edges: &BTreeMap<String, BTreeSet<String>>,
    ) -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut stack: Vec<String> = start.to_vec();
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) {
                stack.extend(edges.get(&n).into_iter().flatten().cloned());
            }
        }
        seen
    }

    /// The stages and everything upstream of them.
    pub fn with_ancestors(&self, stages: &[String]) -> BTreeSet<String> {
        self.closure(stages, &self.upstream)
    }

    /// The stages and everything downstream of them.
    pub fn with_descendants(&self, stages: &[String]) -> BTreeSet<String> {
        self.closure(stages, &self.downstream)
    }

    /// The graph with the members of each `foreach`/`matrix` group merged into one node named
    /// after the group (`dag --collapse`), and `keep` mapped the same way. Edges between members
    /// of one group disappear; a group sits where its first member does in the order.
    pub fn collapsed(
        &self,
        groups: &BTreeMap<String, Vec<String>>,
        keep: &BTreeSet<String>,
    ) -> (Graph, BTreeSet<String>) {
        let group_of: std::collections::HashMap<&str, &str> = groups
            .iter()
            .flat_map(|(g, members)| members.iter().map(move |m| (m.as_str(), g.as_str())))
            .collect();
        let node = |n: &str| group_of.get(n).copied().unwrap_or(n).to_string();
        let mut order = Vec::new();
        let mut seen = BTreeSet::new();
        for n in &self.order {
            let g = node(n);
            if seen.insert(g.clone()) {
                order.push(g);
            }
        }
        let merge = |edges: &BTreeMap<String, BTreeSet<String>>| {
            let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (n, near) in edges {
                let g = node(n);
                let set = out.entry(g.clone()).or_default();
                set.extend(near.iter().map(|x| node(x)).filter(|x| *x != g));
            }
            out
        };
        let graph = Graph {
            order,
            upstream: merge(&self.upstream),
            downstream: merge(&self.downstream),
        };
        (graph, keep.iter().map(|n| node(n)).collect())
    }

    fn edges_in(&self, keep: &BTreeSet<String>) -> Vec<(String, String)> {
        let mut e = Vec::new();
        for n in &self.order {
            if !keep.contains(n) {
                continue;
            }
            for d in &self.downstream[n] {
                if keep.contains(d) {
                    e.push((n.clone(), d.clone()));
                }
            }
        }
        e
    }

    fn nodes_in(&self, keep: &BTreeSet<String>) -> Vec<String> {
        self.order
            .iter()
            .filter(|n| keep.contains(*n))
            .cloned()
            .collect()
    }

    /// `{"nodes":[…],"edges":[[from,to],…]}`.
    pub fn to_json(&self, keep: &BTreeSet<String>) -> netsec_protocol::DagJson {
        netsec_protocol::DagJson {
            nodes: self.nodes_in(keep),
            edges: self.edges_in(keep),
        }
    }

    /// Graphviz; renders with `dot -Tsvg`.
    pub fn to_dot(&self, keep: &BTreeSet<String>) -> String {
        let mut s = String::from("digraph netsec {\n  rankdir=TB;\n  node [shape=box];\n");
        for n in self.nodes_in(keep) {
            let _ = writeln!(s, "  \"{}\";", escape(&n));
        }
        for (a, b) in self.edges_in(keep) {
            let _ = writeln!(s, "  \"{}\" -> \"{}\";", escape(&a), escape(&b));
        }
        s.push_str("}\n");
        s
    }

    /// Mermaid `flowchart TD`.
    pub fn to_mermaid(&self, keep: &BTreeSet<String>) -> String {
        let nodes = self.nodes_in(keep);
        let id: BTreeMap<&String, usize> = nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
        let mut s = String::from("flowchart TD\n");
        for (n, i) in &id {
            let _ = writeln!(s, "  n{i}[\"{}\"]", n.replace('"', "#quot;"));
        }
        for (a, b) in self.edges_in(keep) {
            let _ = writeln!(s, "  n{} --> n{}", id[&a], id[&b]);
        }
        s
    }

    /// Plain text: each stage in order with the stages it waits for.
    pub fn to_ascii(&self, keep: &BTreeSet<String>) -> String {
        let mut s = String::new();
        for n in self.nodes_in(keep) {
            let ups: Vec<&String> = self.upstream[&n]
                .iter()
                .filter(|u| keep.contains(*u))
                .collect();
            if ups.is_empty() {
                let _ = writeln!(s, "* {n}");
            } else {
                let list = ups
                    .iter()
                    .map(|u| u.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(s, "* {n}  <- {list}");
            }
        }
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Kahn's algorithm, always taking the ready stage first in name order: one deterministic
/// order. `None` when the graph has a cycle.
fn lexical_toposort(g: &DiGraph<(), ()>) -> Option<Vec<usize>> {
    let mut indeg: Vec<usize> = g
        .node_indices()
        .map(|n| g.neighbors_directed(n, Direction::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> = indeg
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| Reverse(i))
        .collect();
    let mut order = Vec::with_capacity(indeg.len());
    while let Some(Reverse(n)) = ready.pop() {
        order.push(n);
        for d in g.neighbors_directed(NodeIndex::new(n), Direction::Outgoing) {
            let v = &mut indeg[d.index()];
            *v -= 1;
            if *v == 0 {
                ready.push(Reverse(d.index()));
            }
        }
    }
    (order.len() == indeg.len()).then_some(order)
}

/// Every stage of one non-trivial strongly connected component, sorted (the first such list).
fn find_cycle(g: &DiGraph<(), ()>, names: &[&String]) -> Vec<String> {
    let mut best: Vec<String> = Vec::new();
    for scc in petgraph::algo::tarjan_scc(g) {
        if scc.len() > 1 {
            let mut found: Vec<String> = scc.iter().map(|i| names[i.index()].clone()).collect();
            found.sort();
            if best.is_empty() || found < best {
                best = found;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::extensions::Extensions;
    use crate::pipeline::Pipeline;
    use crate::repo_path::comparisons;

    /// `n` cmd stages in chains of ten: each reads its predecessor's out (a file, or a
    /// directory when `dirs`), the first of a chain a file of the workspace.
    fn chains(n: usize, dirs: bool) -> String {
        let mut s = String::new();
        for i in 0..n {
            let (c, k) = (i / 10, i % 10);
            let out = |k: usize| match dirs {
                true => format!("out/c{c}/s{k}"),
                false => format!("out/c{c}_s{k}.txt"),
            };
            let dep = if k == 0 {
                "seed.txt".into()
            } else {
                out(k - 1)
            };
            s.push_str(&format!(
                "[stages.c{c}_s{k}]\ncmd = \"true\"\ndeps = [\"{dep}\"]\nouts = [\"{}\"]\n",
                out(k)
            ));
        }
        s
    }

    fn parse(src: &str) -> Pipeline {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("seed.txt"), "x").unwrap();
        let file = Path::new("pipeline.toml");
        Pipeline::parse(src, file, t.path(), &Extensions::default())
            .unwrap()
            .0
    }

    /// Validating and building the graph of 20,000 stages makes O(n log n) path comparisons.
    /// A pass over stage pairs would make 2·10⁸ and fail this without any clock involved.
    #[test]
    fn graph_of_20000_stages_costs_n_log_n_path_comparisons() {
        let n = 20_000usize;
        let bound = 6 * n * (n as f64).log2().ceil() as usize;
        for dirs in [false, true] {
            let src = chains(n, dirs);
            let before = comparisons();
            let p = parse(&src);
            let made = (comparisons() - before) as usize;
            assert!(
                made <= bound,
                "dirs={dirs}: {made} path comparisons for {n} stages (bound {bound})"
            );
            assert_eq!(p.graph.order.len(), n);
            let edges: usize = p.graph.upstream.values().map(|u| u.len()).sum();
            assert_eq!(edges, n - n / 10, "dirs={dirs}");
            assert_eq!(
                p.graph.upstream["c123_s4"].iter().collect::<Vec<_>>(),
                ["c123_s3"]
            );
        }
    }

    #[test]
    fn edges_through_directories_and_order_by_name() {
        let p = parse(concat!(
            "[stages.z]\ncmd = \"x\"\ndeps = [\"seed.txt\"]\nouts = [\"d/a.txt\"]\n",
            "[stages.y]\ncmd = \"x\"\ndeps = [\"seed.txt\"]\nouts = [\"d/b\"]\n",
            "[stages.m]\ncmd = \"x\"\ndeps = [\"d\"]\nouts = [\"m.txt\"]\n",
            "[stages.b]\ncmd = \"x\"\ndeps = [\"d/b/inner.txt\", \"m.txt\"]\nouts = [\"d-b\"]\n",
            "[stages.a]\ncmd = \"x\"\ndeps = [\"d-b\"]\nouts = [\"a\"]\n",
        ));
        assert_eq!(p.graph.order, ["y", "z", "m", "b", "a"]);
        let ups = |s: &str| p.graph.upstream[s].iter().cloned().collect::<Vec<_>>();
        assert_eq!(ups("m"), ["y", "z"]);
        assert_eq!(ups("b"), ["m", "y"]);
        assert_eq!(ups("a"), ["b"]);
        let downs = p.graph.downstream["y"].iter().cloned().collect::<Vec<_>>();
        assert_eq!(downs, ["b", "m"]);
    }
}
