//! `netsec plots show/diff` and `[plots.NAME]` validation through the binary: every template
//! and data format drawn on one self-contained page (checked in headless Chromium, whose
//! screenshot must show the curves' colours), two git revisions overlaid with data read from
//! the cache by each lock's digest, `plot = true` outs, `--open`, and bad declarations (exit 3
//! at file:line).

use std::path::Path;
use std::process::Command;

use netsec_protocol::PlotsJson;

use crate::support::Project;

/// A stage writing one data file per format; `{a}` and `{b}` vary the numbers between commits.
fn pipeline(a: &str, b: &str) -> String {
    format!(
        r#"[stages.gen]
cmd = [
  "mkdir -p out",
  "printf 'step,loss,acc\n0,{a},0.5\n1,0.6,0.7\n2,0.4,0.8\n3,0.3,{b}\n' > out/train.csv",
  "printf 'x\ty\n0.1\t0.2\n0.5\t{a}\n0.9\t0.3\n' > out/points.tsv",
  "printf '[{{\"actual\":\"cat\",\"pred\":\"cat\"}},{{\"actual\":\"dog\",\"pred\":\"cat\"}},{{\"actual\":\"dog\",\"pred\":\"dog\"}}]' > out/cm.json",
  "printf '{{\"model\":\"tree\",\"f1\":{b}}}\n{{\"model\":\"forest\",\"f1\":0.9}}\n' > out/scores.jsonl",
  "printf 'epoch,val\n1,{a}\n2,0.5\n3,0.45\n4,0.4\n' > curve.csv",
]
outs = ["out/", {{ path = "curve.csv", plot = true, cache = false }}]

[plots.loss]
file = "out/train.csv"
x = "step"
y = ["loss", "acc"]
title = "Training"

[plots.points]
file = "out/points.tsv"
x = "x"
y = "y"
template = "scatter"

[plots.cm]
file = "out/cm.json"
x = "actual"
y = "pred"
template = "confusion"

[plots.Scores]
file = "out/scores.jsonl"
x = "model"
y = "f1"
template = "bar"

[plots.smooth]
file = "out/train.csv"
y = "loss"
template = "smooth"
"#
    )
}

/// Pixels of `png` within a small distance of the colour `#rrggbb`.
fn pixels_of(png: &[u8], hex: &str) -> usize {
    let rgb: Vec<u8> = (1..7)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|px| {
            px.iter()
                .zip(&rgb)
                .all(|(a, b)| (i32::from(*a) - i32::from(*b)).abs() <= 12)
        })
        .count()
}

/// Headless Chromium: `None` (with a note) when not installed and services are not required.
fn chromium() -> Option<&'static str> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if found.is_none() {
        assert!(
            std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "chromium is not installed (scripts/test.sh installs it)"
        );
        eprintln!("note: chromium not installed; skipping the browser check");
    }
    found
}

fn browse(chromium: &str, page: &Path, what: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(what)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium")
}

#[test]
fn plots_show_draws_every_template_in_chromium() {
    let p = Project::with_pipeline(&pipeline("1.0", "0.85"));
    p.run(&["repro"]).code(0);
    let run = p.run(&["plots", "show", "--json"]);
    run.code(0);
    let out: PlotsJson = serde_json::from_str(run.stdout.trim()).unwrap();
    let names: Vec<&str> = out.plots.iter().map(|x| x.name.as_str()).collect();
    // Sorted case-insensitively; the `plot = true` out is named by its path.
    assert_eq!(
        names,
        ["cm", "curve.csv", "loss", "points", "Scores", "smooth"]
    );
    for plot in &out.plots {
        assert!(plot.error.is_none(), "{plot:?}");
        assert!(!plot.series.is_empty(), "{plot:?}");
    }
    let loss = &out.plots[2];
    assert_eq!(loss.series.len(), 2);
    assert_eq!(loss.series[0].points, 4);
    assert_eq!(out.plots[1].series[0].column, "val");
    let page = Path::new(&out.page);
    assert_eq!(page, p.path(".netsec/plots/index.html"));
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://") && !html.contains("<script"),
        "self-contained, no script"
    );
    assert_eq!(html.matches("<svg").count(), 6);

    // NAMEs select plots; an unknown one is a usage error listing the known ones.
    let one = p.run(&["plots", "show", "loss", "-o", "one.html"]);
    one.code(0);
    assert_eq!(one.stdout.trim(), p.path("one.html").display().to_string());
    assert_eq!(p.read("one.html").matches("<svg").count(), 1);
    p.run(&["plots", "show", "nope"])
        .code(2)
        .says("no plot named `nope`")
        .says("cm, curve.csv, loss");

    let Some(chromium) = chromium() else { return };
    let dom = browse(chromium, page, &["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<svg class=\"plot\"").count(), 6, "{dom}");
    let shot = p.path("shot.png");
    let run = browse(
        chromium,
        page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1300,1800",
        ],
    );
    let png = std::fs::read(&shot)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&run.stderr)));
    // The first two series colours are drawn (lines, points, bars, heat map cells).
    let (blue, red) = (pixels_of(&png, "#1f77b4"), pixels_of(&png, "#d62728"));
    assert!(blue > 2000 && red > 300, "blue {blue}, red {red}");
    assert_eq!(pixels_of(&png, "#00ff00"), 0, "a colour never drawn");
}

#[test]
fn plots_diff_overlays_two_revisions_from_the_cache_and_git() {
    let p = Project::with_pipeline(&pipeline("1.0", "0.85"));
    p.git(&["init", "-q"]);
    p.run(&["repro"]).code(0);
    // out/ is cached and git-ignored (its data comes from the cache by the lock's digest);
    // curve.csv (cache = false) is committed to git.
    p.git(&[
        "add",
        "pipeline.toml",
        "netsec.lock",
        ".gitignore",
        "curve.csv",
    ]);
    p.git(&["commit", "-qm", "one"]);
    p.file("pipeline.toml", &pipeline("2.5", "0.95"));
    p.run(&["repro"]).code(0);
    p.git(&["add", "pipeline.toml", "netsec.lock", "curve.csv"]);
    p.git(&["commit", "-qm", "two"]);

    let run = p.run(&["plots", "diff", "HEAD~1", "--json"]);
    run.code(0);
    let out: PlotsJson = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(out.revisions, ["workspace", "HEAD~1"]);
    for plot in &out.plots {
        assert!(plot.error.is_none() && plot.missing.is_empty(), "{plot:?}");
        let revs: Vec<&str> = plot.series.iter().map(|s| s.revision.as_str()).collect();
        assert!(
            revs.contains(&"workspace") && revs.contains(&"HEAD~1"),
            "{plot:?}"
        );
    }
    let points = out.plots.iter().find(|x| x.name == "points").unwrap();
    assert_eq!(points.series.len(), 2);
    assert_ne!(points.series[0].color, points.series[1].color);
    // Two polylines with different data on the smooth plot, a legend naming both revisions.
    let html = std::fs::read_to_string(&out.page).unwrap();
    let svg = html
        .split("<figure class=\"plot\" id=\"plot-smooth\">")
        .nth(1)
        .unwrap()
        .split("</svg>")
        .next()
        .unwrap();
    let lines: Vec<&str> = svg
        .match_indices("<polyline class=\"series\"")
        .map(|(i, _)| &svg[i..i + svg[i..].find("/>").unwrap()])
        .collect();
    assert_eq!(lines.len(), 2, "{svg}");
    assert!(
        lines[0].contains("data-label=\"workspace\"") && lines[1].contains("data-label=\"HEAD~1\"")
    );
    let pts = |l: &str| {
        l.split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    assert_ne!(pts(lines[0]), pts(lines[1]));
    assert!(svg.contains(">HEAD~1</text>") && svg.contains(">workspace</text>"));

    // No REV: against HEAD, where nothing changed; three revisions give three series.
    let same = p.run(&["plots", "diff", "--json"]);
    let same: PlotsJson = serde_json::from_str(same.stdout.trim()).unwrap();
    assert_eq!(same.revisions, ["workspace", "HEAD"]);
    let three = p.run(&["plots", "diff", "HEAD", "HEAD~1", "--json"]);
    let three: PlotsJson = serde_json::from_str(three.stdout.trim()).unwrap();
    assert_eq!(
        three
            .plots
            .iter()
            .find(|x| x.name == "points")
            .unwrap()
            .series
            .len(),
        3
    );

    // Data gone from the cache and absent from git: reported, the plot drawn from the rest.
    let lock: serde_json::Value =
        serde_json::from_str(&p.git(&["show", "HEAD~1:netsec.lock"])).unwrap();
    let dir = lock["stages"]["gen"]["outs"]["out"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let object = p.path(&format!(
        ".netsec/cache/objects-v1/{}/{}",
        &dir[..2],
        &dir[2..]
    ));
    assert!(object.exists(), "{}", object.display());
    std::fs::remove_file(&object).unwrap();
    let gone = p.run(&["plots", "diff", "HEAD~1", "--json"]);
    gone.code(0);
    let gone_json: PlotsJson = serde_json::from_str(gone.stdout.trim()).unwrap();
    let loss = gone_json.plots.iter().find(|x| x.name == "loss").unwrap();
    assert_eq!(loss.missing, ["HEAD~1"]);
    assert_eq!(loss.series.len(), 2, "workspace loss and acc");
    assert!(
        gone.stderr.contains("not in git, not in the cache"),
        "{}",
        gone.stderr
    );

    p.run(&["plots", "diff", "no-such-rev"]).code(2);
}

#[test]
fn plots_show_open_runs_the_browser() {
    let p = Project::with_pipeline(&pipeline("1.0", "0.85"));
    p.run(&["repro"]).code(0);
    p.file("browser.sh", "#!/bin/sh\necho \"$1\" > opened.txt\n");
    let script = p.path("browser.sh");
    Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let out = p
        .command(&["plots", "show", "--open"])
        .env("BROWSER", &script)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        p.read("opened.txt").trim(),
        p.path(".netsec/plots/index.html").display().to_string()
    );
}

#[test]
fn bad_plot_declarations_exit_3_at_their_line() {
    let base = "[stages.a]\ncmd = \"echo 1 > a.csv\"\nouts = [\"a.csv\"]\n\n[plots.ok]\nfile = \"a.csv\"\ny = \"v\"\n\n";
    let cases: &[(&str, &str, &str)] = &[
        (
            "[plots.r]\nfile = \"r.csv\"\ny = \"t\"\ntemplate = \"pie\"\n",
            "pipeline.toml:12:1",
            "unknown template `pie`",
        ),
        (
            "[plots.r]\nfile = \"r.csv\"\n",
            "pipeline.toml:9:8",
            "plot `r` has no `y`",
        ),
        (
            "[plots.r]\nfile = \"r.png\"\ny = \"t\"\n",
            "pipeline.toml:10:1",
            "not a plot data file",
        ),
        (
            "[plots.r]\nfile = \"../r.csv\"\ny = \"t\"\n",
            "pipeline.toml:10:1",
            "outside the workspace",
        ),
        (
            "[plots.r]\nfile = \"r.csv\"\ny = 3\n",
            "pipeline.toml:11:1",
            "`y` must be a column name",
        ),
        (
            "[plots.r]\nfile = \"r.csv\"\ny = \"t\"\ncolour = \"red\"\n",
            "pipeline.toml:12:1",
            "unknown key `colour`",
        ),
        (
            "[plots.r]\nfile = \"r.csv\"\ny = \"t\"\ntemplate = \"confusion\"\n",
            "pipeline.toml:12:1",
            "needs `x`",
        ),
        ("[plots]\nr = 1\n", "pipeline.toml:10:1", "must be a table"),
    ];
    for (tail, at, msg) in cases {
        let p = Project::with_pipeline(&format!("{base}{tail}"));
        for args in [&["status"][..], &["plots", "show"], &["report"]] {
            p.run(args).code(3).says(at).says(msg);
        }
    }
    let p = Project::with_pipeline(
        "[stages.a]\ncmd = \"echo 1 > a.csv\"\nouts = [{ path = \"a.csv\", plot = \"yes\" }]\n",
    );
    p.run(&["status"]).code(3).says("pipeline.toml:3");
}

#[test]
fn report_on_a_cmd_pipeline_lists_its_metrics_plots_params_and_graph() {
    let p = Project::with_pipeline(&format!(
        "[params]\nlr = 0.1\nModel = {{ depth = 3 }}\n\n{}\n[stages.score]\ncmd = \"printf '{{\\\"AUC\\\": 0.91, \\\"brier\\\": 0.07}}' > scores.json\"\ndeps = [\"out/\"]\nparams = [\"lr\", \"Model\"]\nouts = [{{ path = \"scores.json\", metric = true, cache = false }}]\n",
        pipeline("1.0", "0.85")
    ));
    p.run(&["repro"]).code(0);
    let run = p.run(&["report"]);
    run.code(0);
    let html = p.read("artifacts/report/index.html");
    // Table of contents; the phishing sections are absent.
    for (id, title) in [
        ("metrics", "Metrics"),
        ("plots", "Plots"),
        ("timings", "Stage timings (last repro)"),
        ("params", "Params"),
        ("dag", "Stage graph"),
    ] {
        assert!(
            html.contains(&format!("<li><a href=\"#{id}\">{title}</a></li>")),
            "{id}"
        );
        assert!(html.contains(&format!("<h2 id=\"{id}\">")), "{id}");
    }
    for phishing in ["Drift", "Model card", "Model selection", "No metrics yet"] {
        assert!(!html.contains(phishing), "{phishing}");
    }
    // Every metric, names sorted case-insensitively ("AUC" < "brier" < ...).
    let metrics = html.split("<h2 id=\"metrics\">").nth(1).unwrap();
    let (auc, brier) = (
        metrics.find("<td>AUC</td>").unwrap(),
        metrics.find("<td>brier</td>").unwrap(),
    );
    assert!(auc < brier);
    assert!(metrics.contains("<td class=\"n\">0.91</td>"));
    // Every declared plot and the `plot = true` out, one SVG each.
    assert_eq!(html.matches("<svg class=\"plot\"").count(), 6);
    // Params sorted case-insensitively: lr before Model.depth.
    let params = html.split("<h2 id=\"params\">").nth(1).unwrap();
    assert!(params.find("<td>lr</td>").unwrap() < params.find("<td>Model.depth</td>").unwrap());
    // The graph: score after gen.
    assert!(html.contains("<tr><td>score</td><td>gen</td>"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[test]
fn a_plot_directory_out_stands_for_its_data_files() {
    let p = Project::with_pipeline(
        "[stages.a]\ncmd = [\"mkdir -p pl\", \"printf 'e,v\\n1,2\\n2,3\\n' > pl/b.csv\", \"printf '[{\\\"e\\\": 1, \\\"w\\\": 5}]' > pl/A.json\", \"echo x > pl/notes.txt\"]\nouts = [{ path = \"pl\", plot = true }]\n",
    );
    p.run(&["repro"]).code(0);
    let run = p.run(&["plots", "show", "--json"]);
    run.code(0);
    let out: PlotsJson = serde_json::from_str(run.stdout.trim()).unwrap();
    let names: Vec<&str> = out.plots.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["pl/A.json", "pl/b.csv"]);
    assert_eq!(out.plots[0].series[0].column, "w");
    assert_eq!(out.plots[1].series[0].points, 2);
}
