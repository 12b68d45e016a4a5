//! `${…}` interpolation and `foreach`/`matrix` stages (issue #13): every field, typed whole
//! values, escapes, automatic param tracking, member naming, per-member freshness and
//! run-cache, group selection, `-j` overlap, `dag --collapse`, and each error case.

use serde_json::Value;

use crate::support::{assert_reason, Project};

/// Every interpolated field at once: `wdir` and `outs` from `[vars]`, a list var spliced into
/// `deps`, params from `[params]` and from a params file in `cmd`, and an escaped `$${`.
const FIELDS: &str = r#"
[params]
train = { lr = 0.5, epochs = 3, fast = true, other = "x" }

[vars]
dir = "work"
name = "model"
inputs = ["a.txt", "b.txt"]
steps = ["echo one >> runs.log", "echo two >> runs.log && echo done > work/steps.txt"]

[stages.fit]
wdir = "${vars.dir}"
cmd = "echo fit >> ../runs.log && echo lr=${train.lr} epochs=${ train.epochs } fast=${params.train.fast} seed=${params.yaml:seed} home='$${HOME}' > ${vars.name}.txt"
deps = ["${vars.inputs}", "extra-${vars.name}.txt"]
outs = ["${vars.name}.txt"]

[stages.steps]
cmd = "${vars.steps}"
deps = ["work/model.txt"]
outs = [{ path = "${vars.dir}/steps.txt", cache = false }]
"#;

fn fields() -> Project {
    let p = Project::with_pipeline(FIELDS);
    p.file("work/a.txt", "a\n")
        .file("work/b.txt", "b\n")
        .file("work/extra-model.txt", "e\n")
        .file("params.yaml", "seed: 7\nunused: 1\n");
    p
}

#[test]
fn interpolation_resolves_every_field_and_keeps_escapes() {
    let p = fields();
    // `steps` is one whole `${vars.steps}`: the list becomes two commands, run in order.
    p.repro(&[], 0).expect("fit", "ran").expect("steps", "ran");
    assert_eq!(
        p.read("work/model.txt"),
        "lr=0.5 epochs=3 fast=true seed=7 home=${HOME}\n"
    );
    assert_eq!(p.runs(), ["fit", "one", "two"]);
    // The resolved paths are what the lock records (deps relative to the wdir, splice kept).
    let lock = p.read("netsec.lock");
    for path in [
        "work/a.txt",
        "work/b.txt",
        "work/extra-model.txt",
        "work/model.txt",
        "work/steps.txt",
    ] {
        assert!(lock.contains(path), "lock lacks {path}:\n{lock}");
    }
    assert!(
        !lock.contains("${vars"),
        "unresolved text in the lock:\n{lock}"
    );
    // `explain` shows the command as it runs, text and JSON.
    let run = p.run(&["explain", "fit"]);
    run.code(0).says(
        "Command: echo fit >> ../runs.log && echo lr=0.5 epochs=3 fast=true seed=7 home='${HOME}' > model.txt",
    );
    p.run(&["status", "-v"])
        .code(0)
        .says("Fresh `fit`\n    $ echo fit >> ../runs.log && echo lr=0.5 epochs=3")
        .says("Fresh `steps`\n    $ echo one >> runs.log\n    $ echo two >> runs.log");
    let json = p.run(&["explain", "steps", "--json"]);
    json.code(0);
    assert_eq!(
        json.json()["cmd"],
        serde_json::json!([
            "echo one >> runs.log",
            "echo two >> runs.log && echo done > work/steps.txt"
        ])
    );
    assert!(p.status().up_to_date());
}

#[test]
fn interpolated_params_are_tracked_and_others_are_not() {
    let p = fields();
    p.repro(&[], 0).expect("fit", "ran");
    // A param no `${…}` names: nothing is stale, nothing runs.
    p.edit("pipeline.toml", "other = \"x\"", "other = \"y\"");
    p.file("params.yaml", "seed: 7\nunused: 2\n");
    assert!(p.status().up_to_date());
    p.repro(&[], 0).expect("fit", "skipped");
    // The interpolated one: stale with the param named, and it reruns.
    p.edit("pipeline.toml", "lr = 0.5", "lr = 0.25");
    let status = p.status();
    assert_eq!(status.of("fit"), "dirty");
    let reasons = status.reasons("fit");
    assert_reason(&reasons, "param_changed", Some(("key", "train.lr")));
    // The command in the reason is the resolved one.
    let changed = reasons
        .iter()
        .find(|r| r["kind"] == "command_changed")
        .expect("command_changed");
    assert!(
        changed["new"][0].as_str().unwrap().contains("lr=0.25"),
        "{changed}"
    );
    p.repro(&[], 0).expect("fit", "ran");
    assert!(p.read("work/model.txt").starts_with("lr=0.25 "));
    // A param from a params file is tracked the same way (`params.yaml:seed`).
    p.file("params.yaml", "seed: 8\nunused: 2\n");
    assert_reason(
        &p.status().reasons("fit"),
        "param_changed",
        Some(("key", "params.yaml:seed")),
    );
    // The lock stores the tracked values.
    let lock = p.read("netsec.lock");
    assert!(
        lock.contains("train.lr") && lock.contains("params.yaml:seed"),
        "{lock}"
    );
    assert!(!lock.contains("train.other"), "{lock}");
}

#[test]
fn whole_values_keep_their_type() {
    // A built-in's `with.input` must be a string: a whole `${vars.n}` stays an integer (and is
    // refused as one), the same value inside a longer string is text (and accepted).
    let typed = Project::with_pipeline(
        "[vars]\nn = 5\n[stages.t]\nuses = \"train\"\nwith = { input = \"${vars.n}\" }\nouts = [\"o\"]\n",
    );
    typed
        .run(&["status"])
        .code(3)
        .says("pipeline.toml:5:8")
        .says("`with.input` must be a string path");
    let text = Project::with_pipeline(
        "[vars]\nn = 5\n[stages.t]\nuses = \"train\"\nwith = { input = \"dir-${vars.n}\" }\nouts = [\"o\"]\n",
    );
    let json = text.run(&["explain", "t", "--json"]);
    json.code(0);
    let changed = json.json()["changed"].clone();
    let with = changed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "action.with.input")
        .unwrap_or_else(|| panic!("{changed}"));
    assert_eq!(with["now"], "dir-5");
    // A list or table cannot be part of a string.
    let list = Project::with_pipeline(
        "[vars]\nl = [1, 2]\n[stages.t]\ncmd = \"echo ${vars.l}\"\nouts = [\"o\"]\n",
    );
    list.run(&["status"])
        .code(3)
        .says("pipeline.toml:4:13")
        .says("stage `t`: cmd: `${vars.l}` is a list and cannot be part of a string");
}

#[test]
fn unknown_keys_name_stage_field_and_place() {
    let cases = [
        (
            "[params]\ntrain = { lr = 1 }\n[stages.fit]\ncmd = \"python fit.py --lr ${train.lrr}\"\nouts = [\"o\"]\n",
            "pipeline.toml:4:27",
            "stage `fit`: cmd: unknown key `${train.lrr}`",
        ),
        (
            "[vars]\nname = \"m\"\n[stages.fit]\ncmd = \"true\"\nouts = [\"out/${vars.nam}\"]\n",
            "pipeline.toml:5:14",
            "stage `fit`: outs: unknown key `${vars.nam}`",
        ),
        (
            "[stages.fit]\ncmd = \"true\"\ndeps = [\"${item}.csv\"]\n",
            "pipeline.toml:3:10",
            "stage `fit`: deps: unknown key `${item}`",
        ),
        (
            "[stages.fit]\ncmd = \"true\"\nwdir = \"${nowhere}\"\n",
            "pipeline.toml:3:9",
            "stage `fit`: wdir: unknown key `${nowhere}`",
        ),
        (
            "[stages.fit]\ncmd = \"echo ${oops\"\n",
            "pipeline.toml:2:7",
            "unterminated `${`",
        ),
    ];
    for (pipeline, place, message) in cases {
        let p = Project::with_pipeline(pipeline);
        p.run(&["repro"]).code(3).says(place).says(message);
    }
    let p = Project::with_pipeline(cases[1].0);
    p.run(&["status"]).code(3).says("did you mean `vars.name`?");
    let p = Project::with_pipeline(cases[2].0);
    p.run(&["status"])
        .code(3)
        .says("`item` is defined only in a `foreach` or `matrix` stage");
}

/// A foreach over a list, a foreach over a table and a matrix declared `seed` before `model`
/// (names follow declaration order, not key order). Each member logs its name to `runs.log`.
const GROUPS: &str = r#"
[vars]
sets = ["dev", "test"]

[stages.prep]
foreach = "${vars.sets}"
cmd = "echo prep@${item} >> runs.log && cat data/${item}.csv > prep/${item}.txt"
deps = ["data/${item}.csv"]
outs = ["prep/${item}.txt"]

[stages.fit]
matrix = { seed = [1, 2], model = ["forest", "boosting"] }
cmd = "echo fit@${item.seed}-${item.model} >> runs.log && echo ${item.model} ${item.seed} > models/${item.model}-${item.seed}.txt"
deps = ["prep/dev.txt"]
outs = ["models/${item.model}-${item.seed}.txt"]

[stages.score]
foreach = { small = { n = 1 }, big = { n = 2 } }
cmd = "echo score@${key} >> runs.log && cat models/forest-${item.n}.txt prep/test.txt > scores/${key}.txt"
deps = ["models/forest-${item.n}.txt", "prep/test.txt"]
outs = [{ path = "scores/${key}.txt", metric = false, cache = false }]
"#;

const MEMBERS: [&str; 8] = [
    "fit@1-boosting",
    "fit@1-forest",
    "fit@2-boosting",
    "fit@2-forest",
    "prep@dev",
    "prep@test",
    "score@big",
    "score@small",
];

fn groups() -> Project {
    let p = Project::with_pipeline(GROUPS);
    p.file("data/dev.csv", "d\n").file("data/test.csv", "t\n");
    p
}

#[test]
fn foreach_and_matrix_expand_to_named_members() {
    let p = groups();
    let r = p.repro(&[], 0);
    assert_eq!(r.list("ran"), MEMBERS);
    assert_eq!(p.read("models/boosting-2.txt"), "boosting 2\n");
    assert_eq!(p.read("scores/big.txt"), "forest 2\nt\n");
    let mut runs = p.runs();
    runs.sort();
    assert_eq!(runs, MEMBERS);
    // Each member is an ordinary stage: its own lock entry and status line.
    let lock = p.read("netsec.lock");
    for m in MEMBERS {
        assert!(lock.contains(m), "lock lacks {m}");
    }
    let status = p.status();
    assert!(status.up_to_date());
    for m in MEMBERS {
        assert_eq!(status.of(m), "fresh");
    }
    // `dag` lists members; `--collapse` one node per definition, edges merged.
    let dag = p.run(&["dag", "--json"]);
    dag.code(0);
    let nodes: Vec<String> = serde_json::from_value(dag.json()["nodes"].clone()).unwrap();
    let mut sorted = nodes.clone();
    sorted.sort();
    assert_eq!(sorted, MEMBERS);
    let collapsed = p.run(&["dag", "--json", "--collapse"]);
    collapsed.code(0);
    let j = collapsed.json();
    assert_eq!(j["nodes"], serde_json::json!(["prep", "fit", "score"]));
    assert_eq!(
        j["edges"],
        serde_json::json!([["prep", "fit"], ["prep", "score"], ["fit", "score"]])
    );
    p.run(&["dag", "--collapse"])
        .code(0)
        .says("* score  <- fit, prep");
    p.run(&["dag", "score@small"])
        .code(0)
        .says("* score@small  <- fit@1-forest, prep@test");
}

#[test]
fn members_have_their_own_freshness_and_run_cache() {
    let p = groups();
    p.repro(&[], 0);
    // Only the member whose dep changed reruns, and its downstream.
    p.file("data/test.csv", "t2\n");
    let r = p.repro(&[], 0);
    assert_eq!(r.list("ran"), ["prep@test", "score@big", "score@small"]);
    assert_eq!(r.list("skipped").len(), 5, "{}", r.raw);
    // Back to the old content: the run-cache restores each member without running it.
    p.file("data/test.csv", "t\n");
    let before = p.runs().len();
    let r = p.repro(&[], 0);
    assert_eq!(
        r.list("restored"),
        ["prep@test", "score@big", "score@small"]
    );
    assert_eq!(
        p.runs().len(),
        before,
        "restored members ran: {:?}",
        p.runs()
    );
    assert_eq!(p.read("scores/small.txt"), "forest 1\nt\n");
    assert!(p.status().up_to_date());
}

#[test]
fn group_names_select_all_members_and_member_names_one() {
    let p = groups();
    // `-s`: the named stages only. The group runs all its members, a member only itself.
    p.repro(&["prep"], 0);
    let mut runs = p.runs();
    runs.sort();
    assert_eq!(runs, ["prep@dev", "prep@test"]);
    p.remove("runs.log");
    let r = p.repro(&["fit@2-forest"], 0);
    assert_eq!(r.list("ran"), ["fit@2-forest"]);
    assert_eq!(r.outcome("fit@1-forest"), "absent");
    // status, explain and the other stage-selecting commands take group names too.
    let s = p.run(&["status", "fit", "--json"]);
    s.code(0);
    let listed: Vec<String> = s.json()["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["stage"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed.len(),
        4,
        "status fit lists the four members: {listed:?}"
    );
    assert!(listed.iter().all(|n| n.starts_with("fit@")), "{listed:?}");
    let explain = p.run(&["explain", "prep"]);
    explain
        .code(0)
        .says("Stage `prep@dev` is fresh.")
        .says("Stage `prep@test` is fresh.");
    p.run(&["checkout", "prep"]).code(0);
    p.file("models/forest-1.txt", "by hand\n");
    p.run(&["commit", "fit@1-forest"]).code(0);
    assert_eq!(p.status().of("fit@1-forest"), "fresh");
    // An unknown name lists definitions, not every member, and suggests the close one.
    p.run(&["repro", "fitt"])
        .code(2)
        .says("did you mean `fit`?")
        .says("fit (4 members fit@…)");
}

#[test]
fn j2_runs_members_side_by_side() {
    // Each member announces itself, then waits (at most 10 s) for the other one. Run side by
    // side both see the other; run one at a time the first would give up alone.
    let p = Project::with_pipeline(
        r#"
[stages.meet]
foreach = ["a", "b"]
cmd = "mkdir -p here && touch here/${item} && n=0; while [ $(ls here | wc -l) -lt 2 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done; ls here | wc -l | tr -d ' ' > met-${item}.txt"
deps = ["seed.txt"]
outs = ["met-${item}.txt"]
"#,
    );
    p.file("seed.txt", "s\n");
    p.repro(&["-j", "2"], 0)
        .expect("meet@a", "ran")
        .expect("meet@b", "ran");
    assert_eq!(p.read("met-a.txt"), "2\n");
    assert_eq!(p.read("met-b.txt"), "2\n");
}

#[test]
fn expansion_errors_name_the_place() {
    let cases: [(&str, &str, &str); 9] = [
        (
            "[stages.t]\nforeach = [\"a\", \"a\"]\ncmd = \"echo ${item} > ${item}.txt\"\nouts = [\"${item}.txt\"]\n",
            "pipeline.toml:2:11",
            "stage `t` expands to `t@a` twice",
        ),
        (
            "[stages.t]\nmatrix = { a = [\"x-y\", \"x\"], b = [\"z\", \"y-z\"] }\ncmd = \"true\"\nouts = [\"${item.a}/${item.b}\"]\n",
            "pipeline.toml:2:10",
            "stage `t` expands to `t@x-y-z` twice",
        ),
        (
            "[stages.t]\nforeach = [\"a\", \"b\"]\ncmd = \"echo ${item} > same.txt\"\nouts = [\"same.txt\"]\n",
            "pipeline.toml:4:9",
            "stages `t@a` and `t@b` declare the same out",
        ),
        (
            "[stages.t]\nforeach = []\ncmd = \"true\"\n",
            "pipeline.toml:2:11",
            "`foreach` is an empty list",
        ),
        (
            "[stages.t]\nmatrix = { a = [1], b = [] }\ncmd = \"true\"\n",
            "pipeline.toml:2:25",
            "matrix axis `b` is an empty list",
        ),
        (
            "[stages.t]\nforeach = [\"dev set\"]\ncmd = \"true\"\n",
            "pipeline.toml:2:11",
            "`dev set` cannot be part of a stage name",
        ),
        (
            "[stages.t]\nmatrix = { m = [{ x = 1 }] }\ncmd = \"true\"\n",
            "pipeline.toml:2:16",
            "a table cannot be part of a stage name",
        ),
        (
            "[stages.t]\nforeach = \"${vars.nope}\"\ncmd = \"true\"\n",
            "pipeline.toml:2:12",
            "unknown key `${vars.nope}`",
        ),
        (
            "[stages.\"t@x\"]\ncmd = \"true\"\n",
            "pipeline.toml:1:9",
            "invalid stage name `t@x`",
        ),
    ];
    for (pipeline, place, message) in cases {
        let p = Project::with_pipeline(pipeline);
        p.run(&["status"]).code(3).says(place).says(message);
    }
    let both =
        Project::with_pipeline("[stages.t]\nforeach = [1]\nmatrix = { a = [1] }\ncmd = \"true\"\n");
    both.run(&["dag"])
        .code(3)
        .says("pipeline.toml:3:10")
        .says("has both `foreach` and `matrix`");
    let dvc_style = Project::with_pipeline("[stages.t]\nforeach = [1]\ndo = { cmd = \"true\" }\n");
    dvc_style.run(&["status"]).code(3).says("without `do`");
}

#[test]
fn foreach_over_a_params_list_and_list_of_tables() {
    // `${params.key}` as the source; tables as elements are numbered, their fields `${item.x}`.
    let p = Project::with_pipeline(
        r#"
[params]
runs = [{ name = "r1", n = 1 }, { name = "r2", n = 2 }]

[stages.run]
foreach = "${params.runs}"
cmd = "echo ${item.name} ${item.n} > out-${item.name}.txt"
deps = ["seed.txt"]
outs = ["out-${item.name}.txt"]
"#,
    );
    p.file("seed.txt", "s\n");
    let r = p.repro(&[], 0);
    assert_eq!(r.list("ran"), ["run@0", "run@1"]);
    assert_eq!(p.read("out-r2.txt"), "r2 2\n");
    let v: Value = p.run(&["dag", "--json"]).json();
    assert_eq!(v["nodes"], serde_json::json!(["run@0", "run@1"]));
}
