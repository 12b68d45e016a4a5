//! The Experiments view: `GET /experiments` runs the real `netsec exp show --json` as a child
//! process, and the page renders its rows, sorts them by a clicked header and plots a chosen
//! metric, checked in headless Chromium against a temp git repository with a small `cmd`
//! pipeline and three experiments run by the real binary.

mod common;

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use common::chromium::{chromium, dump_dom};
use common::server::{http_get, Server};
use common::*;
use netsec_protocol::{ExpKind, ExpRow};

/// prep → train; train writes `score = 10 × lr` and `loss = 1 − lr` from params.yaml.
const PIPELINE: &str = r#"[stages.prep]
cmd = "cp raw.txt prepared.txt"
deps = ["raw.txt"]
outs = ["prepared.txt"]

[stages.train]
cmd = "sh train.sh"
deps = ["prepared.txt", "train.sh"]
params = ["params.yaml:train.lr", "params.yaml:train.note"]
outs = [{ path = "metrics.json", metric = true, cache = false }]
"#;

const TRAIN: &str = r#"lr=$(grep 'lr:' params.yaml | awk '{print $2}')
awk -v lr="$lr" 'BEGIN { printf "{\"score\": %.4f, \"loss\": %.4f}\n", lr * 10, 1 - lr }' > metrics.json
"#;

/// A param value that is markup: the page must show it as text.
const HOSTILE: &str = "<img src=x id=injected>";

fn netsec(root: &Path, args: &[&str]) -> String {
    let out = Command::new(netsec_exe())
        .args(args)
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .expect("run netsec");
    assert!(
        out.status.success(),
        "netsec {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git(root: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t"])
        .args(args)
        .current_dir(root)
        .status()
        .expect("git");
    assert!(st.success(), "git {args:?}");
}

/// The repository after `repro` (workspace lr 0.05) and a 3-point sweep lr = 0.3, 0.1, 0.2
/// with `--run-all -j 2`.
fn repo_with_three_experiments() -> tempfile::TempDir {
    let repo = tempfile::tempdir().expect("tempdir");
    let root = repo.path();
    std::fs::write(root.join("pipeline.toml"), PIPELINE).expect("write");
    std::fs::write(root.join("raw.txt"), "a\n").expect("write");
    std::fs::write(root.join("train.sh"), TRAIN).expect("write");
    std::fs::write(
        root.join("params.yaml"),
        "train:\n  lr: 0.05 # learning rate\n  note: base\n",
    )
    .expect("write");
    std::fs::write(root.join(".gitignore"), ".netsec/\n").expect("write");
    git(root, &["init", "-q", "-b", "main"]);
    netsec(root, &["repro", "-q"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "base"]);
    let note = format!("params.yaml:train.note=\"{HOSTILE}\"");
    netsec(
        root,
        &[
            "exp",
            "run",
            "--queue",
            "-S",
            "params.yaml:train.lr=0.3,0.1,0.2",
            "-S",
            &note,
        ],
    );
    netsec(root, &["exp", "run", "--run-all", "-j", "2", "-q"]);
    repo
}

/// The `<tr>` elements of the experiments table's body, as text.
fn body_rows(dom: &str) -> Vec<String> {
    let table = dom
        .split("<table id=\"exp-table\"")
        .nth(1)
        .and_then(|s| s.split("</table>").next())
        .unwrap_or_else(|| panic!("no experiments table:\n{dom}"));
    let body = table
        .split("<tbody>")
        .nth(1)
        .and_then(|s| s.split("</tbody>").next())
        .unwrap_or_else(|| panic!("no table body:\n{table}"));
    body.split("<tr").skip(1).map(str::to_string).collect()
}

/// The value of attribute `name` in each element of `html` that has it, in order.
fn attr_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    html.split(&needle)
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or("").to_string())
        .collect()
}

/// The `<svg id="exp-svg" …>` element's text.
fn chart(dom: &str) -> String {
    dom.split("<svg id=\"exp-svg\"")
        .nth(1)
        .and_then(|s| s.split("</svg>").next())
        .unwrap_or_else(|| panic!("no chart:\n{dom}"))
        .to_string()
}

#[test]
fn experiments_view_lists_sorts_and_plots_the_real_exp_show_rows_in_chromium() {
    let repo = repo_with_three_experiments();
    let root = repo.path();
    let shown: Vec<ExpRow> =
        serde_json::from_str(&netsec(root, &["exp", "show", "--json"])).expect("exp show --json");

    let mut server = Server::start_in_repo(root, &[]);
    let url = server.url();
    let (status, body) = http_get(&url, "/experiments");
    assert!(status.contains(" 200 "), "{status}: {body}");
    let rows: Vec<ExpRow> = serde_json::from_str(&body).expect("rows");
    // The endpoint gives exactly the command's rows.
    assert_eq!(rows, shown);
    let kinds: Vec<ExpKind> = rows.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            ExpKind::Workspace,
            ExpKind::Baseline,
            ExpKind::Experiment,
            ExpKind::Experiment,
            ExpKind::Experiment
        ]
    );
    let score = |r: &ExpRow| r.metrics["metrics.json:score"];
    let exps: Vec<&ExpRow> = rows
        .iter()
        .filter(|r| r.kind == ExpKind::Experiment)
        .collect();
    for r in &exps {
        assert_eq!(r.status, "success", "{r:?}");
        assert_eq!(r.params["params.yaml:train.note"], HOSTILE);
    }
    // Names by score, ascending (scores 1, 2, 3).
    let mut by_score: Vec<&ExpRow> = exps.clone();
    by_score.sort_by(|a, b| score(a).total_cmp(&score(b)));
    let ascending: Vec<&str> = by_score.iter().map(|r| r.name.as_str()).collect();
    let descending: Vec<&str> = ascending.iter().rev().copied().collect();
    let command_order: Vec<&str> = exps.iter().map(|r| r.name.as_str()).collect();
    assert_ne!(
        command_order, ascending,
        "the sweep order must differ from the sorted one"
    );

    let Some(browser) = chromium() else { return };

    // As loaded: workspace, HEAD, the experiments in the command's order; the first metric
    // key (loss) is plotted, one bar per experiment.
    let dom = dump_dom(&browser, &format!("{url}/"));
    assert!(
        dom.contains("data-exp-rows=\"5\""),
        "rows not rendered:\n{dom}"
    );
    let trs = body_rows(&dom);
    assert_eq!(trs.len(), 5, "{trs:?}");
    let names: Vec<String> = trs
        .iter()
        .map(|tr| attr_values(tr, "data-name").remove(0))
        .collect();
    assert_eq!(names[..2], ["workspace", "HEAD"]);
    assert_eq!(names[2..], command_order);
    let headers = attr_values(&dom, "data-key");
    for key in [
        "name",
        "rev",
        "status",
        "created",
        "duration",
        "param:params.yaml:train.lr",
        "metric:metrics.json:score",
    ] {
        assert!(
            headers.iter().any(|h| h == key),
            "no column {key}: {headers:?}"
        );
    }
    let svg = chart(&dom);
    assert!(svg.contains("data-metric=\"metrics.json:loss\""), "{svg}");
    assert!(svg.contains("data-marks=\"3\""), "{svg}");
    // The markup in a param is text, not an element.
    assert!(dom.contains("&lt;img src=x id=injected&gt;"), "{dom}");
    assert!(!dom.contains("<img"), "a param became markup:\n{dom}");

    // One click on the score header sorts ascending, a second descending; the pinned rows
    // stay first. Choosing the score metric draws one bar per experiment, in the table's order.
    for (clicks, order, aria) in [(1, &ascending, "ascending"), (2, &descending, "descending")] {
        let query: String = std::iter::repeat_n("exp_click=metric:metrics.json:score", clicks)
            .collect::<Vec<_>>()
            .join("&");
        let dom = dump_dom(
            &browser,
            &format!("{url}/?{query}&exp_metric=metrics.json:score"),
        );
        let names: Vec<String> = body_rows(&dom)
            .iter()
            .map(|tr| attr_values(tr, "data-name").remove(0))
            .collect();
        assert_eq!(names[..2], ["workspace", "HEAD"], "{clicks} click(s)");
        assert_eq!(names[2..], order[..], "{clicks} click(s)");
        let sort = format!(
            "data-sort=\"metric:metrics.json:score:{}\"",
            &aria[..aria.len() - 6]
        );
        assert!(dom.contains(&sort), "{sort} missing");
        assert!(dom.contains(&format!("aria-sort=\"{aria}\"")), "{aria}");
        let svg = chart(&dom);
        assert!(svg.contains("data-metric=\"metrics.json:score\""), "{svg}");
        assert!(svg.contains("data-marks=\"3\""), "{svg}");
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3, "{svg}");
        let bar_names = attr_values(&svg, "data-name");
        assert_eq!(bar_names, order[..], "bars follow the table");
        let values: Vec<f64> = attr_values(&svg, "data-value")
            .iter()
            .map(|v| v.parse().expect("number"))
            .collect();
        let expected: Vec<f64> = order
            .iter()
            .map(|n| score(rows.iter().find(|r| r.name == *n).expect("row")))
            .collect();
        assert_eq!(values, expected);
        // The workspace's score (0.5) is the dashed reference line.
        assert!(svg.contains("class=\"ref\""), "{svg}");
    }
    server.stop();
}

#[tokio::test]
async fn experiments_errors_are_json_and_name_no_path() {
    // A pipeline that does not parse: exp show exits 3; its error line is the message.
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("pipeline.toml"), "[stages.a]\ncmd = 3\n").expect("write");
    let mut cfg = config(repo.path());
    cfg.exe = netsec_exe();
    let (router, _) = app(cfg);
    let r = get(&router, "/experiments").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    let message = r.error()["message"].as_str().unwrap_or("").to_string();
    assert!(message.contains("exited with code 3"), "{message}");
    assert!(message.contains("pipeline.toml:2:7"), "{message}");
    let path = repo.path().display().to_string();
    assert!(
        !r.text().contains(&path),
        "a path in the reply: {}",
        r.text()
    );

    // More output than the bound: 500, the child stopped.
    let repo = repo_with_three_experiments();
    let mut cfg = config(repo.path());
    cfg.exe = netsec_exe();
    cfg.exp_show_max_bytes = 100;
    let (router, _) = app(cfg);
    let r = get(&router, "/experiments").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
    assert!(
        r.error()["message"]
            .as_str()
            .unwrap_or("")
            .contains("more than 100 bytes"),
        "{}",
        r.text()
    );
    // Within the bound (the default), the same repository answers.
    let mut cfg = config(repo.path());
    cfg.exe = netsec_exe();
    let (router, _) = app(cfg);
    let r = get(&router, "/experiments").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json().as_array().map(Vec::len), Some(5));
}
