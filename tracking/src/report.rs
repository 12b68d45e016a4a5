//! `netsec report`: one self-contained HTML page (`artifacts/report/index.html`) for any
//! pipeline: a table of contents, the values of every metric out, the declared plots as inline
//! SVG, the stage timings of the last repro, the tracked params and the stage graph. The
//! phishing pipeline's own artifacts add their sections when they exist: model selection (test
//! and CV metrics), the evaluation images inline as `data:` URIs, the calibration check (Brier
//! score and reliability curve, `reliability.rs`), the drift table (KS D, p-value, PSI) and the
//! model card. No external resource is referenced, so the file can be mailed or archived as is. A
//! small script marks `<body data-plots-ready="true">` once every image has decoded (used by
//! the headless-browser test).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine;
use netsec_common::atomic::{write_atomic, Durability};
use netsec_common::html::escape as esc;
use netsec_stages::{MetricsReport, ModelBundle, Promotion, ValidationReport};

use crate::error::{Result, TrackingError};
use crate::metrics::Flat;
use crate::plots::Rendered;
use crate::run::ArtifactPaths;
use crate::timings::{human_ms, Timings};

/// Where the report goes, relative to the root.
pub const REPORT_PATH: &str = "artifacts/report/index.html";

/// Plot stems in display order, with captions.
const PLOTS: &[(&str, &str)] = &[
    ("roc", "ROC curve (test)"),
    ("precision_recall", "Precision–recall curve (test)"),
    ("confusion_matrix", "Confusion matrix (test)"),
    ("cv_scores", "CV F1 per candidate"),
    (
        "feature_importance",
        "Feature importance of the chosen model",
    ),
    ("drift_pvalues", "Drift: KS p-value per column"),
];

fn read_validation(path: &Path) -> Result<Option<ValidationReport>> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_norway::from_str(&t)
            .map(Some)
            .map_err(|e| TrackingError::Artifact {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TrackingError::Read {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn f4(v: f64) -> String {
    format!("{v:.4}")
}

/// What the binary knows of the pipeline and hands to the report.
#[derive(Debug, Clone, Default)]
pub struct ReportInputs {
    /// Every metric out that exists, path → its numeric values by dotted key.
    pub metrics: BTreeMap<String, Flat>,
    /// The declared plots, drawn from the workspace.
    pub plots: Vec<Rendered>,
    /// Stage → the values of the params it tracks, by dotted key.
    pub params: BTreeMap<String, BTreeMap<String, String>>,
    /// The stages in run order, each with its upstream stages and what it runs.
    pub dag: Vec<DagRow>,
}

/// One stage of the graph section.
#[derive(Debug, Clone, Default)]
pub struct DagRow {
    pub stage: String,
    pub upstream: Vec<String>,
    /// The command, or `uses = "…"` for a built-in.
    pub action: String,
}

/// A p-value as people read them: three decimals from 0.001 up (`0.943`), two significant
/// digits with a two-digit exponent below (`3.1e-05`), `0` for zero.
pub fn pvalue(p: f64) -> String {
    if p == 0.0 || !p.is_finite() {
        return format!("{p}");
    }
    if p.abs() >= 1e-3 {
        return format!("{p:.3}");
    }
    let e = format!("{p:.1e}");
    match e.split_once('e') {
        Some((m, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("+", exp),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => e,
    }
}

/// `items` sorted by name case-insensitively (ties: byte order), as every list of the report.
pub fn sorted_ci<'a, T>(items: impl IntoIterator<Item = (&'a String, T)>) -> Vec<(&'a String, T)> {
    let mut v: Vec<(&String, T)> = items.into_iter().collect();
    v.sort_by(|a, b| {
        a.0.to_lowercase()
            .cmp(&b.0.to_lowercase())
            .then_with(|| a.0.cmp(b.0))
    });
    v
}

/// A metric value: integers as such, others with up to six significant decimals.
fn metric_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 1e-4 {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').to_string()
    } else {
        format!("{v:.3e}")
    }
}

/// Builds the page from `inputs` and the artifacts under `root`. A phishing artifact that is
/// missing leaves its section out; a malformed one is an error naming the file.
pub fn build_report(root: &Path, paths: &ArtifactPaths, inputs: &ReportInputs) -> Result<String> {
    let metrics: Option<MetricsReport> = crate::run::read_opt(&root.join(&paths.metrics))?;
    let promotion: Option<Promotion> = crate::run::read_opt(&root.join(&paths.promotion))?;
    let bundle: Option<ModelBundle> = crate::run::read_opt(&root.join(&paths.bundle))?;
    let validation = read_validation(&root.join(&paths.validation))?;
    let timings = Timings::load(root)?;

    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str("<title>netsec report</title>\n<style>\n");
    h.push_str(
        "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}\n",
    );
    h.push_str("table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}\n");
    h.push_str("th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.drift td{background:#fde2e2}\n");
    h.push_str(".plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:1rem}figure{margin:0}figure img{width:100%;border:1px solid #ddd}\n");
    h.push_str(
        ".note{color:#777;font-style:italic}pre{background:#f7f7f7;padding:.5rem;overflow:auto}\n",
    );
    h.push_str(".toc{columns:2;background:#fafafa;border:1px solid #eee;padding:.5rem 2rem}\n");
    h.push_str(crate::plots::page::STYLE);
    h.push_str("</style></head>\n<body>\n<h1>netsec report</h1>\n");
    let head = std::mem::take(&mut h);
    // Each section: (id, title, body); the table of contents lists them in order.
    let mut sections: Vec<(&str, &str, String)> = Vec::new();

    // Metrics of every metric out.
    if inputs.metrics.is_empty() {
        h.push_str("<p class=\"note\">No metrics yet: mark an out <code>metric = true</code> and run <code>netsec repro</code>.</p>\n");
    }
    for (path, flat) in sorted_ci(&inputs.metrics) {
        let _ = writeln!(
            h,
            "<h3><code>{}</code></h3>\n<table class=\"metrics\"><tr><th>metric</th><th>value</th></tr>",
            esc(path)
        );
        for (k, v) in sorted_ci(flat) {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(k),
                metric_value(*v)
            );
        }
        h.push_str("</table>\n");
    }
    sections.push(("metrics", "Metrics", std::mem::take(&mut h)));

    // Model selection (the phishing pipeline's metrics.json).
    if let Some(m) = &metrics {
        let t = &m.test;
        let _ = writeln!(
            h,
            "<p>Chosen model <b>{}</b>, positive class <b>{}</b>, {} test rows.</p>",
            esc(&m.model),
            esc(&m.positive_class),
            t.rows
        );
        h.push_str("<table><tr><th>metric</th><th>test</th><th>CV (chosen)</th></tr>\n");
        let cv = m.cv.table.get(m.cv.chosen);
        let rows: [(&str, f64, Option<f64>); 5] = [
            ("F1", t.f1, cv.map(|r| r.f1_mean)),
            ("precision", t.precision, cv.map(|r| r.precision_mean)),
            ("recall", t.recall, cv.map(|r| r.recall_mean)),
            ("accuracy", t.accuracy, cv.map(|r| r.accuracy_mean)),
            (
                "ROC-AUC",
                t.roc_auc.unwrap_or(f64::NAN),
                cv.map(|r| r.roc_auc_mean),
            ),
        ];
        for (name, test, cvv) in rows {
            let _ = writeln!(
                h,
                "<tr><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                if test.is_nan() {
                    "n/a".into()
                } else {
                    f4(test)
                },
                cvv.map(f4).unwrap_or_else(|| "n/a".into())
            );
        }
        h.push_str("</table>\n<h3>CV per candidate</h3>\n<table><tr><th>#</th><th>model</th><th>hyperparameters</th><th>F1 mean</th><th>F1 std</th><th>precision</th><th>recall</th><th>accuracy</th><th>ROC-AUC</th></tr>\n");
        for (i, r) in m.cv.table.iter().enumerate() {
            let _ = writeln!(
                    h,
                    "<tr><td>{i}</td><td>{}{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(&r.model),
                    if i == m.cv.chosen { " (chosen)" } else { "" },
                    esc(&hyperparameters(&r.params)),
                    f4(r.f1_mean),
                    f4(r.f1_std),
                    f4(r.precision_mean),
                    f4(r.recall_mean),
                    f4(r.accuracy_mean),
                    f4(r.roc_auc_mean)
                );
        }
        h.push_str("</table>\n");
    }
    if let Some(p) = &promotion {
        let _ = writeln!(
            h,
            "<p>Promotion: <b>{}</b> — {}</p>",
            if p.promoted {
                "promoted"
            } else {
                "not promoted"
            },
            esc(&p.reason)
        );
    }

    if !h.is_empty() {
        sections.push(("selection", "Model selection", std::mem::take(&mut h)));
    }

    // Declared plots.
    if inputs.plots.is_empty() {
        h.push_str("<p class=\"note\">No plots declared: add <code>[plots.NAME]</code> to pipeline.toml or mark an out <code>plot = true</code>.</p>\n");
    } else {
        h.push_str(&crate::plots::figures(&inputs.plots));
    }
    sections.push(("plots", "Plots", std::mem::take(&mut h)));

    // The evaluation images of the phishing pipeline.
    h.push_str("<div class=\"plots\">\n");
    let mut n_plots = 0;
    for (stem, caption) in PLOTS {
        if let Some(uri) = plot_uri(&root.join(&paths.plots), stem)? {
            n_plots += 1;
            let _ = writeln!(
                h,
                "<figure><img class=\"plot\" alt=\"{c}\" src=\"{uri}\"><figcaption>{c}</figcaption></figure>",
                c = esc(caption)
            );
        }
    }
    h.push_str("</div>\n");
    if n_plots > 0 {
        sections.push(("images", "Evaluation images", std::mem::take(&mut h)));
    }
    h.clear();

    // Calibration of the test probabilities.
    if let Some(m) = &metrics {
        sections.push((
            "calibration",
            "Calibration (test)",
            crate::reliability::section(m, &paths.metrics.to_string_lossy()),
        ));
    }

    // Drift.
    if let Some(v) = &validation {
        let _ = writeln!(
            h,
            "<p>Decision <b>{}</b>: {}</p>",
            esc(&format!("{:?}", v.summary.decision).to_lowercase()),
            esc(&v.summary.reason)
        );
        for (name, cmp) in &v.drift {
            let _ = writeln!(
                    h,
                    "<h3>{} <small>({} vs {}, {} vs {} rows)</small></h3>\n<p>A column drifts when its KS p-value &lt; α = {} <b>and</b> its KS statistic D (the effect size) ≥ {}. The population stability index (PSI) is reported beside them, not part of the verdict (by convention &lt; 0.1 little shift, 0.1–0.25 moderate, &gt; 0.25 large).</p>\n<table class=\"drift\"><tr><th>column</th><th>KS statistic D</th><th>p-value</th><th>PSI</th><th>drift</th></tr>",
                    esc(name),
                    esc(&cmp.baseline),
                    esc(&cmp.current),
                    cmp.baseline_rows,
                    cmp.current_rows,
                    cmp.drift_alpha,
                    cmp.min_effect
                );
            for (col, d) in sorted_ci(&cmp.columns) {
                let _ = writeln!(
                        h,
                        "<tr{}><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                        if d.drift { " class=\"drift\"" } else { "" },
                        esc(col),
                        f4(d.statistic),
                        pvalue(d.p_value),
                        f4(d.psi),
                        if d.drift { "yes" } else { "no" }
                    );
            }
            h.push_str("</table>\n");
        }
        sections.push(("drift", "Drift", std::mem::take(&mut h)));
    }

    // Model card.
    if let Some(b) = &bundle {
        h.push_str("<table>\n");
        let rows = [
            ("model", b.model.name().to_string()),
            ("features", b.preprocessor.features.len().to_string()),
            ("bundle format", b.format_version.to_string()),
            ("netsec version", b.netsec_version.clone()),
            (
                "created at",
                b.created_at
                    .clone()
                    .unwrap_or_else(|| "not recorded".into()),
            ),
            (
                "training data digest (blake3)",
                b.training_data_digest.clone(),
            ),
            ("test F1", f4(b.metrics.f1)),
            (
                "test ROC-AUC",
                b.metrics.roc_auc.map(f4).unwrap_or_else(|| "n/a".into()),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
        }
        h.push_str("</table>\n<h3>Params</h3>\n");
        let _ = writeln!(
            h,
            "<pre>{}</pre>",
            esc(&netsec_common::canonical::to_string_pretty(&b.params).unwrap_or_default())
        );
        let _ = writeln!(
            h,
            "<p>Features: {}</p>",
            esc(&b.preprocessor.features.join(", "))
        );
        sections.push(("model", "Model card", std::mem::take(&mut h)));
    }

    // Timings.
    match &timings {
        Some(t) => {
            let _ = writeln!(
                h,
                "<p>Finished {}.</p>\n<table><tr><th>stage</th><th>outcome</th><th>duration</th></tr>",
                esc(&t.finished_at)
            );
            for s in &t.stages {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    esc(&s.stage),
                    esc(&s.outcome),
                    human_ms(s.duration_ms)
                );
            }
            h.push_str("</table>\n");
        }
        None => h.push_str("<p class=\"note\">No timings recorded yet.</p>\n"),
    }
    sections.push((
        "timings",
        "Stage timings (last repro)",
        std::mem::take(&mut h),
    ));

    // Params.
    if inputs.params.values().all(BTreeMap::is_empty) {
        h.push_str("<p class=\"note\">No stage tracks params.</p>\n");
    }
    for (stage, values) in sorted_ci(&inputs.params)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
    {
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<table class=\"params\"><tr><th>param</th><th>value</th></tr>",
            esc(stage)
        );
        for (k, v) in sorted_ci(values) {
            let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
        }
        h.push_str("</table>\n");
    }
    sections.push(("params", "Params", std::mem::take(&mut h)));

    // The stage graph, in run order.
    h.push_str("<table class=\"dag\"><tr><th>stage</th><th>after</th><th>runs</th></tr>\n");
    for row in &inputs.dag {
        let mut up: Vec<&String> = row.upstream.iter().collect();
        up.sort_by_key(|s| (s.to_lowercase(), s.to_string()));
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(&row.stage),
            esc(&up.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
            esc(&row.action)
        );
    }
    h.push_str("</table>\n");
    sections.push(("dag", "Stage graph", std::mem::take(&mut h)));

    let mut page = head;
    page.push_str("<nav class=\"toc\"><b>Contents</b><ol>\n");
    for (id, title, _) in &sections {
        let _ = writeln!(page, "<li><a href=\"#{id}\">{}</a></li>", esc(title));
    }
    page.push_str("</ol></nav>\n");
    for (id, title, body) in &sections {
        let _ = writeln!(page, "<h2 id=\"{id}\">{}</h2>", esc(title));
        page.push_str(body);
    }
    page.push_str(READY_SCRIPT);
    page.push_str("</body></html>\n");
    Ok(page)
}

/// `k=v, k=v` of a candidate's hyperparameters (family tag and unset values left out).
fn hyperparameters<T: serde::Serialize>(params: &T) -> String {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(params) else {
        return String::new();
    };
    map.iter()
        .filter(|(k, v)| k.as_str() != "kind" && !v.is_null())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sets `data-plots-total`, `data-plots-loaded` and, when all decoded, `data-plots-ready`.
const READY_SCRIPT: &str = "<script>\n(function(){\n  function mark(){\n    var imgs=document.querySelectorAll('img.plot'),ok=0;\n    for(var i=0;i<imgs.length;i++){if(imgs[i].complete&&imgs[i].naturalWidth>0)ok++;}\n    document.body.setAttribute('data-plots-total',String(imgs.length));\n    document.body.setAttribute('data-plots-loaded',String(ok));\n    document.body.setAttribute('data-plots-ready',ok===imgs.length?'true':'false');\n  }\n  window.addEventListener('load',mark);\n})();\n</script>\n";

/// The plot as a `data:` URI: the SVG when present, else the PNG.
fn plot_uri(dir: &Path, stem: &str) -> Result<Option<String>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    for (ext, mime) in [("svg", "image/svg+xml"), ("png", "image/png")] {
        let p = dir.join(format!("{stem}.{ext}"));
        match std::fs::read(&p) {
            Ok(bytes) => return Ok(Some(format!("data:{mime};base64,{}", b64.encode(bytes)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(TrackingError::Read { path: p, source: e }),
        }
    }
    Ok(None)
}

/// Builds the report and writes it atomically to `root/REPORT_PATH`; returns the file.
pub fn write_report(root: &Path, paths: &ArtifactPaths, inputs: &ReportInputs) -> Result<PathBuf> {
    let html = build_report(root, paths, inputs)?;
    let path = root.join(REPORT_PATH);
    let dir = path.parent().unwrap_or(root).to_path_buf();
    let werr = |source| TrackingError::Write {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(werr)?;
    write_atomic(&path, html.as_bytes(), Durability::NoFsync).map_err(werr)?;
    Ok(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pvalues_and_case_insensitive_order() {
        assert_eq!(pvalue(0.9431), "0.943");
        assert_eq!(pvalue(0.05), "0.050");
        assert_eq!(pvalue(3.1e-5), "3.1e-05");
        assert_eq!(pvalue(2.04e-123), "2.0e-123");
        assert_eq!(pvalue(0.0), "0");
        let m: BTreeMap<String, u8> = [("b", 1), ("A", 2), ("a", 3), ("C", 4)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let names: Vec<&str> = sorted_ci(&m).into_iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["A", "a", "b", "C"]);
        assert_eq!(metric_value(0.912345678), "0.912346");
        assert_eq!(metric_value(12.0), "12");
    }

    #[test]
    fn any_pipeline_gets_its_sections_and_no_phishing_ones() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = ReportInputs {
            metrics: [("m.json".to_string(), [("auc".to_string(), 0.9)].into())].into(),
            plots: Vec::new(),
            params: [(
                "fit".to_string(),
                [("lr".to_string(), "0.1".to_string())].into(),
            )]
            .into(),
            dag: vec![DagRow {
                stage: "fit".into(),
                upstream: Vec::new(),
                action: "python fit.py".into(),
            }],
        };
        let html = build_report(dir.path(), &ArtifactPaths::default(), &inputs).unwrap();
        for id in ["metrics", "plots", "timings", "params", "dag"] {
            assert!(html.contains(&format!("<a href=\"#{id}\">")), "{id}");
            assert!(html.contains(&format!("<h2 id=\"{id}\">")), "{id}");
        }
        for id in ["selection", "images", "calibration", "drift", "model"] {
            assert!(!html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(html.contains("<td>auc</td><td class=\"n\">0.9</td>"));
        assert!(html.contains("python fit.py"));
    }
}
