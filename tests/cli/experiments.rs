//! Experiments: `exp run -S`, queued sweeps run in isolated workspaces, the queue commands,
//! `exp show`. Stage executions are counted in a side file outside the repository
//! (`$EXP_LOG`, inherited by every experiment's `repro`); overlap is proven by markers that
//! two running stages see at once.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use netsec_protocol::ExpRow;

use crate::support::{Project, Run};

/// prep → train; train's params live in params.yaml (with comments), prep's in pipeline.toml.
/// train writes `metrics.json` with the lr it read and how many train stages were running
/// at that moment (markers in `$EXP_MARK`, each waited for up to 5 s), and fails on lr < 0.
const PIPELINE: &str = r#"# experiments test pipeline
[params]
prep = { n = 3 } # rows

[stages.prep]
cmd = "echo prep >> \"$EXP_LOG\" && cat raw.txt > prepared.txt"
deps = ["raw.txt"]
params = ["prep.n"]
outs = ["prepared.txt"]

[stages.train]
cmd = "sh train.sh"
deps = ["prepared.txt", "train.sh"]
params = ["params.yaml:train.lr", "params.yaml:train.seed"]
outs = ["model.txt", { path = "metrics.json", metric = true, cache = false }]
"#;

const TRAIN: &str = r#"echo train >> "$EXP_LOG"
lr=$(grep 'lr:' params.yaml | awk '{print $2}')
seed=$(grep 'seed:' params.yaml | awk '{print $2}')
case "$lr" in -*) echo "bad lr $lr" >&2; exit 1;; esac
if [ -n "$EXP_GATE" ]; then i=0; while [ ! -e "$EXP_GATE" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; fi
touch "$EXP_MARK/$$"
i=0; while [ "$(ls "$EXP_MARK" | wc -l)" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
seen=$(ls "$EXP_MARK" | wc -l)
rm -f "$EXP_MARK/$$"
cat prepared.txt > model.txt; echo "$lr $seed" >> model.txt
printf '{"lr": %s, "seed": %s, "seen": %s}\n' "$lr" "$seed" "$seen" > metrics.json
"#;

const PARAMS: &str = "train:\n  lr: 0.1   # learning rate\n  seed: 1\n";

struct Exp {
    p: Project,
    side: tempfile::TempDir,
}

impl Exp {
    fn new() -> Exp {
        let p = Project::with_pipeline(PIPELINE);
        p.file("raw.txt", "a\nb\n")
            .file("train.sh", TRAIN)
            .file("params.yaml", PARAMS)
            .file(".gitignore", ".netsec/\n");
        p.git(&["init", "-q", "-b", "main"]);
        p.git(&["add", "-A"]);
        p.git(&["commit", "-q", "-m", "init"]);
        let side = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(side.path().join("mark")).unwrap();
        Exp { p, side }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.p.command(args);
        c.env("EXP_LOG", self.side.path().join("runs.log"))
            .env("EXP_MARK", self.side.path().join("mark"))
            .env("COLUMNS", "200");
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        let start = Instant::now();
        let out = self.cmd(args).output().unwrap();
        Run::from_output(args, out, start.elapsed())
    }

    fn count(&self, stage: &str) -> usize {
        std::fs::read_to_string(self.side.path().join("runs.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == stage)
            .count()
    }

    fn show(&self) -> Vec<ExpRow> {
        let r = self.run(&["exp", "show", "--json"]);
        r.code(0);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    }
}

fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(root).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_file() {
            v.push((name, std::fs::read(e.path()).unwrap()));
        }
    }
    v.sort();
    v
}

#[test]
fn exp_run_sets_exactly_the_value_keeps_comments_and_records() {
    let e = Exp::new();
    e.run(&[
        "exp",
        "run",
        "-S",
        "params.yaml:train.lr=0.25",
        "-S",
        "prep.n=4",
        "-n",
        "first",
    ])
    .code(0);
    assert_eq!(
        e.p.read("params.yaml"),
        "train:\n  lr: 0.25 # learning rate\n  seed: 1\n"
    );
    assert_eq!(
        e.p.read("pipeline.toml"),
        PIPELINE.replace("n = 3 } # rows", "n = 4 } # rows")
    );
    let rows = e.show();
    let first = rows.iter().find(|r| r.name == "first").expect("record");
    assert_eq!(first.status, "success");
    assert_eq!(
        first.params["params.yaml:train.lr"],
        serde_json::json!(0.25)
    );
    assert_eq!(first.params["prep.n"], serde_json::json!(4));
    assert_eq!(first.metrics["metrics.json:lr"], 0.25);
    assert_eq!(first.rev.as_deref().map(str::len), Some(40));
    // The record carries the whole lock of the run: equal to netsec.lock now.
    let rec: serde_json::Value =
        serde_json::from_str(&e.p.read(".netsec/exps/records-v1/first.json")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&e.p.read("netsec.lock")).unwrap();
    assert_eq!(rec["lock"], lock);
    // A duplicate name is refused; an unknown key is exit 3 naming it, nothing written.
    let before = (e.p.read("params.yaml"), e.p.read("pipeline.toml"));
    let dup = e.run(&[
        "exp",
        "run",
        "-S",
        "params.yaml:train.lr=0.5",
        "-n",
        "first",
    ]);
    dup.code(2);
    assert!(dup.stderr.contains("already exists"), "{}", dup.stderr);
    let bad = e.run(&[
        "exp",
        "run",
        "-S",
        "params.yaml:train.lr=0.5",
        "-S",
        "params.yaml:train.lrr=1",
    ]);
    bad.code(3);
    assert!(bad.stderr.contains("train.lrr"), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("did you mean `params.yaml:train.lr`"),
        "{}",
        bad.stderr
    );
    assert_eq!(before, (e.p.read("params.yaml"), e.p.read("pipeline.toml")));
    // Several points need --queue.
    e.run(&["exp", "run", "-S", "params.yaml:train.lr=1,2"])
        .code(2);
}

#[test]
fn sweep_runs_in_isolated_workspaces_in_parallel_sharing_upstream() {
    let e = Exp::new();
    let before = snapshot(e.p.root());
    let q = e.run(&[
        "exp",
        "run",
        "--queue",
        "-S",
        "params.yaml:train.lr=0.1,0.2,0.3",
        "-S",
        "params.yaml:train.seed=range(1, 3, 1)",
    ]);
    q.code(0);
    assert_eq!(q.stderr.matches("Queued").count(), 6, "{}", q.stderr);
    let status = e.run(&["queue", "status"]);
    assert_eq!(
        status.stdout.matches(" queued ").count(),
        6,
        "{}",
        status.stdout
    );
    e.run(&["exp", "run", "--run-all", "-j", "2"]).code(0);
    let rows = e.show();
    let exps: Vec<&ExpRow> = rows.iter().filter(|r| r.overrides.len() == 2).collect();
    assert_eq!(exps.len(), 6);
    let mut points = Vec::new();
    for r in &exps {
        assert_eq!(r.status, "success", "{r:?}");
        let lr = r.params["params.yaml:train.lr"].as_f64().unwrap();
        let seed = r.params["params.yaml:train.seed"].as_i64().unwrap();
        assert_eq!(r.metrics["metrics.json:lr"], lr);
        assert_eq!(r.metrics["metrics.json:seed"], seed as f64);
        assert_eq!(r.overrides["params.yaml:train.lr"].as_f64(), Some(lr));
        points.push(((lr * 10.0).round() as i64, seed));
    }
    points.sort();
    assert_eq!(points, vec![(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]);
    // prep is common to the sweep: computed once, restored by the other five.
    assert_eq!(e.count("prep"), 1);
    assert_eq!(e.count("train"), 6);
    // Two experiments ran at the same time: a train stage saw another's marker.
    assert!(
        exps.iter().any(|r| r.metrics["metrics.json:seen"] >= 2.0),
        "{exps:?}"
    );
    // The user's workspace is untouched: same files, no outs, no lock, no leftover workspace.
    assert_eq!(before, snapshot(e.p.root()));
    let ws = e.p.path(".netsec/exps/ws");
    assert_eq!(std::fs::read_dir(ws).map(|d| d.count()).unwrap_or(0), 0);
    e.p.assert_cache_intact();
}

#[test]
fn killed_runner_leaves_experiments_queued_and_a_new_run_completes_them() {
    let e = Exp::new();
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-S",
        "params.yaml:train.seed=1,2,3",
    ])
    .code(0);
    let gate = e.side.path().join("gate");
    let mut child = e
        .cmd(&["exp", "run", "--run-all", "-j", "1"])
        .env("EXP_GATE", &gate)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first experiment's train stage is running (it counts itself first).
    let start = Instant::now();
    while e.count("train") == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "train never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let rows = e.show();
    let exps: Vec<&ExpRow> = rows.iter().filter(|r| !r.overrides.is_empty()).collect();
    assert_eq!(exps.len(), 3);
    assert!(exps.iter().all(|r| r.status == "queued"), "{exps:?}");
    std::fs::write(&gate, "").unwrap();
    let again = e
        .cmd(&["exp", "run", "--run-all"])
        .env("EXP_GATE", &gate)
        .output()
        .unwrap();
    let again = Run::from_output(&["exp", "run", "--run-all"], again, Duration::ZERO);
    again.code(0);
    assert!(again.stderr.contains("queued again"), "{}", again.stderr);
    let rows = e.show();
    assert_eq!(
        rows.iter().filter(|r| r.status == "success").count(),
        3,
        "{rows:?}"
    );
}

#[test]
fn exp_show_escapes_control_characters_of_local_records() {
    let e = Exp::new();
    e.run(&[
        "exp",
        "run",
        "-S",
        "params.yaml:train.lr=0.25",
        "-n",
        "first",
    ])
    .code(0);
    // A local record edited by hand (or by anything with write access to `.netsec/`): a
    // terminal escape in a param value and in the status must not reach the terminal.
    let path = e.p.root().join(".netsec/exps/records-v1/first.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let params = rec["params"].as_object_mut().unwrap();
    let key = params
        .keys()
        .find(|k| k.ends_with("train.lr"))
        .cloned()
        .unwrap_or_else(|| panic!("no train.lr in {text}"));
    params[&key] = "\u{1b}]0;pwned\u{7}".into();
    std::fs::write(&path, serde_json::to_vec(&rec).unwrap()).unwrap();
    let edited = std::fs::read_to_string(&path).unwrap();
    assert!(edited.contains("\\u001b"), "{edited}");
    for args in [
        &["exp", "show"][..],
        &["exp", "show", "--csv"],
        &["exp", "show", "--md"],
    ] {
        let r = e.run(args);
        r.code(0);
        assert!(
            !r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'),
            "{args:?}: {:?}",
            r.stdout
        );
        assert!(
            r.stdout.contains("\\u{1b}]0;pwned"),
            "{args:?}: {}",
            r.stdout
        );
    }
    // `--json` keeps the value, escaped by JSON.
    let rows = e.show();
    let first = rows.iter().find(|r| r.name == "first").unwrap();
    assert_eq!(
        first.params[&key],
        serde_json::Value::from("\u{1b}]0;pwned\u{7}")
    );
}

#[test]
fn failing_experiment_shows_its_log_and_failed_status() {
    let e = Exp::new();
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "bad",
        "-S",
        "params.yaml:train.lr=-1",
    ])
    .code(0);
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "good",
        "-S",
        "params.yaml:train.lr=0.5",
    ])
    .code(0);
    let r = e.run(&["queue", "start", "-j", "2"]);
    r.code(1);
    assert!(r.stderr.contains("`bad`"), "{}", r.stderr);
    let logs = e.run(&["queue", "logs", "bad"]);
    logs.code(0);
    assert!(logs.stdout.contains("bad lr -1"), "{}", logs.stdout);
    let rows = e.show();
    let status = |n: &str| rows.iter().find(|r| r.name == n).unwrap().status.clone();
    assert_eq!(status("bad"), "failed");
    assert_eq!(status("good"), "success");
    let bad = rows.iter().find(|r| r.name == "bad").unwrap();
    assert!(
        bad.message.as_deref().unwrap_or("").contains("train"),
        "{bad:?}"
    );
    // Removal: --queued leaves finished ones; a name removes its record.
    e.run(&["exp", "remove", "bad"]).code(0);
    assert!(e.show().iter().all(|r| r.name != "bad"));
    e.run(&["queue", "logs", "bad"]).code(2);
}

#[test]
fn exp_show_formats_sorting_and_filters() {
    let e = Exp::new();
    e.run(&["repro"]).code(0);
    e.p.git(&["add", "-A"]);
    e.p.git(&["commit", "-q", "-m", "ran"]);
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-S",
        "params.yaml:train.lr=0.3,0.7",
    ])
    .code(0);
    e.run(&["exp", "run", "--run-all", "-j", "2"]).code(0);
    let rows = e.show();
    assert_eq!(rows[0].name, "workspace");
    assert_eq!(rows[1].name, "HEAD");
    assert_eq!(rows[1].metrics["metrics.json:lr"], 0.1);
    let v: serde_json::Value =
        serde_json::from_str(&e.run(&["exp", "show", "--json"]).stdout).unwrap();
    for key in ["name", "rev", "status", "params", "metrics"] {
        assert!(v[2].get(key).is_some(), "{key} missing: {v}");
    }
    let csv = e.run(&[
        "exp",
        "show",
        "--csv",
        "--only-changed",
        "--sort-by",
        "metrics.json:lr",
        "--sort-order",
        "desc",
    ]);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", csv.stdout);
    assert!(
        lines[0].starts_with("Experiment,rev,status,created,duration,"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains("params.yaml:train.lr") && !lines[0].contains("prep.n"),
        "{}",
        lines[0]
    );
    assert!(
        lines[3].contains("0.7 *") && lines[4].contains(",0.3"),
        "{}",
        csv.stdout
    );
    let md = e.run(&[
        "exp", "show", "--md", "--metric", "lr", "--param", "train.lr",
    ]);
    assert!(
        md.stdout.starts_with("| Experiment | rev |"),
        "{}",
        md.stdout
    );
    assert_eq!(
        md.stdout.lines().nth(1),
        Some("|---|---|---|---|---|---|---|")
    );
    let narrow = e
        .cmd(&["exp", "show"])
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&narrow.stdout);
    assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
}

#[test]
fn apply_branch_and_diffs() {
    let e = Exp::new();
    e.run(&["repro"]).code(0);
    e.p.git(&["add", "-A"]);
    e.p.git(&["commit", "-q", "-m", "ran"]);
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "low",
        "-S",
        "params.yaml:train.lr=0.3",
    ])
    .code(0);
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "high",
        "-S",
        "params.yaml:train.lr=0.7",
    ])
    .code(0);
    e.run(&["queue", "start", "-j", "2"]).code(0);
    // exp diff: params and metrics with deltas.
    let d = e.run(&["exp", "diff", "low", "high", "--json"]);
    d.code(0);
    let rows: Vec<netsec_protocol::ValueDiff> = serde_json::from_str(&d.stdout).unwrap();
    let lr = rows.iter().find(|r| r.key == "metrics.json:lr").unwrap();
    assert_eq!(lr.kind, "metric");
    assert!((lr.delta.unwrap() - 0.4).abs() < 1e-9, "{rows:?}");
    assert!(rows
        .iter()
        .any(|r| r.key == "params.yaml:train.lr" && r.kind == "param"));
    assert!(!rows.iter().any(|r| r.key == "prep.n"), "{rows:?}");
    // exp branch: a commit on the base with the params, lock and metrics; HEAD untouched.
    let head = e.p.git(&["rev-parse", "HEAD"]);
    let rec: serde_json::Value =
        serde_json::from_str(&e.p.read(".netsec/exps/records-v1/high.json")).unwrap();
    e.run(&["exp", "branch", "high", "try-high"]).code(0);
    assert_eq!(e.p.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(e.p.git(&["rev-parse", "try-high~1"]), head);
    assert_eq!(
        e.p.git(&["show", "try-high:params.yaml"]),
        "train:\n  lr: 0.7 # learning rate\n  seed: 1\n"
    );
    let lock: serde_json::Value =
        serde_json::from_str(&e.p.git(&["show", "try-high:netsec.lock"])).unwrap();
    assert_eq!(lock, rec["lock"]);
    assert!(e
        .p
        .git(&["show", "try-high:metrics.json"])
        .contains("\"lr\": 0.7"));
    assert_eq!(e.p.git(&["status", "--porcelain"]), "");
    e.run(&["exp", "branch", "high", "try-high"]).code(2);
    // exp apply: params, outs and lock, no stage run; then status is up to date.
    let trains = e.count("train");
    e.run(&["exp", "apply", "high"]).code(0);
    assert_eq!(e.count("train"), trains);
    assert_eq!(
        e.p.read("params.yaml"),
        "train:\n  lr: 0.7 # learning rate\n  seed: 1\n"
    );
    assert!(e.p.read("metrics.json").contains("\"lr\": 0.7"));
    assert!(e.p.read("model.txt").ends_with("0.7 1\n"));
    let st = e.run(&["status"]);
    st.code(0);
    assert!(
        st.stdout.contains("Pipeline is up to date."),
        "{}",
        st.stdout
    );
    // params diff: workspace vs HEAD, and between two commits.
    let pd = e.run(&["params", "diff", "--json"]);
    pd.code(0);
    let rows: Vec<netsec_protocol::ValueDiff> = serde_json::from_str(&pd.stdout).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].key, "params.yaml:train.lr");
    assert_eq!(rows[0].old, Some(serde_json::json!(0.1)));
    assert_eq!(rows[0].new, Some(serde_json::json!(0.7)));
    e.p.git(&["commit", "-q", "-am", "high"]);
    let pd = e.run(&["params", "diff", "HEAD~1", "HEAD"]);
    pd.code(0);
    assert!(
        pd.stdout.contains("params.yaml:train.lr") && pd.stdout.contains("+0.6"),
        "{}",
        pd.stdout
    );
    let all = e.run(&["params", "diff", "HEAD~1", "HEAD", "--all", "--json"]);
    let rows: Vec<netsec_protocol::ValueDiff> = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    e.run(&["params", "diff", "nope"]).code(2);
}

#[test]
fn run_all_passes_the_executor_to_each_experiment() {
    let e = Exp::new();
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "one",
        "-S",
        "params.yaml:train.seed=2",
    ])
    .code(0);
    // An executor name `repro` does not know fails the experiment's run, and its log says so.
    e.run(&["queue", "start", "--executor", "no-such-executor"])
        .code(1);
    let logs = e.run(&["queue", "logs", "one"]);
    assert!(logs.stdout.contains("no-such-executor"), "{}", logs.stdout);
    e.run(&["exp", "remove", "--all"]).code(0);
    e.run(&[
        "exp",
        "run",
        "--queue",
        "-n",
        "two",
        "-S",
        "params.yaml:train.seed=3",
    ])
    .code(0);
    e.run(&["exp", "run", "--run-all", "--executor", "local"])
        .code(0);
    assert_eq!(
        e.show().iter().find(|r| r.name == "two").unwrap().status,
        "success"
    );
}
