//! `netsec dag` in its four forms; dot output is rendered by graphviz when it is installed.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::Project;

/// ingest → validate → {transform → train} → evaluate, evaluate also reading validate's out.
const FIVE: &str = r#"
[stages.ingest]
cmd = "cp raw.csv ingested.csv"
deps = ["raw.csv"]
outs = ["ingested.csv"]

[stages.validate]
cmd = "cp ingested.csv report.txt"
deps = ["ingested.csv"]
outs = ["report.txt"]

[stages.transform]
cmd = "cp report.txt features.txt"
deps = ["report.txt"]
outs = ["features.txt"]

[stages.train]
cmd = "cp features.txt model.txt"
deps = ["features.txt"]
outs = ["model.txt"]

[stages.evaluate]
cmd = "cat model.txt report.txt > metrics.txt"
deps = ["model.txt", "report.txt"]
outs = ["metrics.txt"]
"#;

const NAMES: [&str; 5] = ["ingest", "validate", "transform", "train", "evaluate"];

fn five() -> Project {
    let p = Project::with_pipeline(FIVE);
    p.file("raw.csv", "a,b\n1,2\n");
    p
}

fn sorted_strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("not a string: {x}"))
                .to_owned()
        })
        .collect();
    out.sort();
    out
}

fn sorted_edges(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v
        .as_array()
        .unwrap_or_else(|| panic!("edges not an array: {v}"))
        .iter()
        .map(|e| {
            (
                e[0].as_str().unwrap_or_default().to_owned(),
                e[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn edges(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn json_lists_nodes_and_data_flow_edges() {
    let p = five();
    let run = p.run(&["dag", "--json"]);
    run.code(0);
    let v = run.json();
    let mut names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    names.sort();
    assert_eq!(sorted_strings(&v["nodes"]), names);
    assert_eq!(
        sorted_edges(&v["edges"]),
        edges(&[
            ("ingest", "validate"),
            ("validate", "transform"),
            ("transform", "train"),
            ("train", "evaluate"),
            ("validate", "evaluate"),
        ])
    );
}

#[test]
fn target_limits_the_graph_to_its_ancestors() {
    let p = five();
    let run = p.run(&["dag", "--json", "train"]);
    run.code(0);
    let v = run.json();
    assert_eq!(
        sorted_strings(&v["nodes"]),
        ["ingest", "train", "transform", "validate"]
    );
    assert_eq!(
        sorted_edges(&v["edges"]),
        edges(&[
            ("ingest", "validate"),
            ("validate", "transform"),
            ("transform", "train")
        ])
    );
}

#[test]
fn ascii_names_every_stage() {
    let p = five();
    let run = p.run(&["dag"]);
    run.code(0);
    for n in NAMES {
        assert!(
            run.stdout.contains(n),
            "ASCII dag lacks {n}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn dot_renders_with_graphviz() {
    let p = five();
    let run = p.run(&["dag", "--dot"]);
    run.code(0);
    assert!(run.stdout.contains("digraph"), "{}", run.stdout);
    assert_eq!(run.stdout.matches("->").count(), 5, "{}", run.stdout);
    for n in NAMES {
        assert!(run.stdout.contains(&format!("\"{n}\"")), "{}", run.stdout);
    }
    let Ok(mut dot) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("skipped rendering: graphviz `dot` not installed (apt-get install -y graphviz)");
        return;
    };
    dot.stdin
        .take()
        .expect("dot stdin")
        .write_all(run.stdout.as_bytes())
        .expect("feed dot");
    let out = dot.wait_with_output().expect("wait dot");
    assert!(
        out.status.success(),
        "dot rejected the output: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        run.stdout
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("<svg") && svg.contains("evaluate"));
}

#[test]
fn mermaid_is_a_flowchart_with_every_stage_and_edge() {
    let p = five();
    let run = p.run(&["dag", "--mermaid"]);
    run.code(0);
    let text = run.stdout.trim_start();
    assert!(
        text.starts_with("flowchart") || text.starts_with("graph"),
        "{text}"
    );
    for n in NAMES {
        assert!(text.contains(n), "mermaid lacks {n}:\n{text}");
    }
    assert_eq!(text.matches("-->").count(), 5, "{text}");
    // Render with mermaid-cli when present (it needs a browser, so it usually is not).
    let src = p.path("dag.mmd");
    std::fs::write(&src, text).expect("write dag.mmd");
    match Command::new("mmdc")
        .arg("-i")
        .arg(&src)
        .arg("-o")
        .arg(p.path("dag.svg"))
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "mmdc rejected the output: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(_) => eprintln!("skipped rendering: mermaid-cli `mmdc` not installed"),
    }
}

#[test]
fn dag_of_a_pipeline_without_edges() {
    let p = Project::with_pipeline(
        "[stages.solo]\ncmd = \"echo > s.txt\"\ndeps = [\"in.txt\"]\nouts = [\"s.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    let v = p.run(&["dag", "--json"]).code(0).json();
    assert_eq!(sorted_strings(&v["nodes"]), ["solo"]);
    assert!(v["edges"].as_array().is_some_and(|e| e.is_empty()));
}
