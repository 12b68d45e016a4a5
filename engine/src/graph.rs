//! The stage DAG: edges from out→dep path matching, a deterministic topological order, cycle
//! naming, ancestor/descendant selection and the text/dot/mermaid/JSON renderings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use petgraph::graph::DiGraph;

use crate::pipeline::Stage;

/// Stages and `upstream → downstream` edges, with a topological order (ties broken by name).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub order: Vec<String>,
    pub upstream: BTreeMap<String, BTreeSet<String>>,
    pub downstream: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    /// Build the DAG; on a cycle, return every stage in the (first) cycle found.
    pub fn build(stages: &BTreeMap<String, Stage>) -> Result<Graph, Vec<String>> {
        let mut upstream: BTreeMap<String, BTreeSet<String>> = stages
            .keys()
            .map(|k| (k.clone(), BTreeSet::new()))
            .collect();
        let mut downstream = upstream.clone();
        for s in stages.values() {
            for p in stages.values() {
                // A dep matches an out when one contains the other (an out directory contains
                // the files under it; a dep directory contains the outs written into it).
                if s.deps
                    .iter()
                    .any(|d| p.outs.iter().any(|o| o.path.overlaps(d)))
                {
                    if p.name == s.name {
                        return Err(vec![s.name.clone()]);
                    }
                    upstream
                        .entry(s.name.clone())
                        .or_default()
                        .insert(p.name.clone());
                    downstream
                        .entry(p.name.clone())
                        .or_default()
                        .insert(s.name.clone());
                }
            }
        }
        // Kahn's algorithm over a sorted ready set gives one deterministic order.
        let mut indeg: BTreeMap<&str, usize> = upstream
            .iter()
            .map(|(k, v)| (k.as_str(), v.len()))
            .collect();
        let mut ready: BTreeSet<&str> = indeg
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(k, _)| *k)
            .collect();
        let mut order = Vec::new();
        while let Some(n) = ready.pop_first() {
            order.push(n.to_string());
            for d in &downstream[n] {
                if let Some(v) = indeg.get_mut(d.as_str()) {
                    *v -= 1;
                    if *v == 0 {
                        ready.insert(d.as_str());
                    }
                }
            }
        }
        if order.len() < stages.len() {
            return Err(find_cycle(&upstream));
        }
        Ok(Graph {
            order,
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

/// Every stage of one non-trivial strongly connected component, sorted.
fn find_cycle(upstream: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut g = DiGraph::<&str, ()>::new();
    let idx: BTreeMap<&str, _> = upstream
        .keys()
        .map(|k| (k.as_str(), g.add_node(k.as_str())))
        .collect();
    for (n, ups) in upstream {
        for u in ups {
            g.add_edge(idx[u.as_str()], idx[n.as_str()], ());
        }
    }
    let mut best: Vec<String> = Vec::new();
    for scc in petgraph::algo::tarjan_scc(&g) {
        if scc.len() > 1 {
            let mut names: Vec<String> = scc.iter().map(|i| g[*i].to_string()).collect();
            names.sort();
            if best.is_empty() || names < best {
                best = names;
            }
        }
    }
    best
}
