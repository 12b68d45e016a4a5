//! `netsec report`: one self-contained HTML page (`artifacts/report/index.html`) with the test
//! and CV metrics, the evaluation plots inline as `data:` URIs, the drift table, the model card
//! and the stage timings of the last repro. No external resource is referenced, so the file can
//! be mailed or archived as is. A small script marks `<body data-plots-ready="true">` once every
//! image has decoded (used by the headless-browser test).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine;
use netsec_common::atomic::{write_atomic, Durability};
use netsec_common::html::escape as esc;
use netsec_stages::{MetricsReport, ModelBundle, Promotion, ValidationReport};

use crate::error::{Result, TrackingError};
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

/// Builds the page from the artifacts under `root`. Missing artifacts become a note in their
/// section; a malformed one is an error naming the file.
pub fn build_report(root: &Path, paths: &ArtifactPaths) -> Result<String> {
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
    h.push_str("</style></head>\n<body>\n<h1>netsec report</h1>\n");

    // Metrics.
    h.push_str("<h2 id=\"metrics\">Metrics</h2>\n");
    match &metrics {
        Some(m) => {
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
        None => {
            h.push_str("<p class=\"note\">No metrics yet: run <code>netsec repro</code>.</p>\n")
        }
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

    // Plots.
    h.push_str("<h2 id=\"plots\">Plots</h2>\n<div class=\"plots\">\n");
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
    if n_plots == 0 {
        h.push_str("<p class=\"note\">No plots found.</p>\n");
    }

    // Drift.
    h.push_str("<h2 id=\"drift\">Drift</h2>\n");
    match &validation {
        Some(v) => {
            let _ = writeln!(
                h,
                "<p>Decision <b>{}</b>: {}</p>",
                esc(&format!("{:?}", v.summary.decision).to_lowercase()),
                esc(&v.summary.reason)
            );
            for (name, cmp) in &v.drift {
                let _ = writeln!(
                    h,
                    "<h3>{} <small>({} vs {}, α = {})</small></h3>\n<table><tr><th>column</th><th>KS statistic</th><th>p-value</th><th>drift</th></tr>",
                    esc(name),
                    esc(&cmp.baseline),
                    esc(&cmp.current),
                    cmp.drift_alpha
                );
                for (col, d) in &cmp.columns {
                    let _ = writeln!(
                        h,
                        "<tr{}><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.4e}</td><td>{}</td></tr>",
                        if d.drift { " class=\"drift\"" } else { "" },
                        esc(col),
                        f4(d.statistic),
                        d.p_value,
                        if d.drift { "yes" } else { "no" }
                    );
                }
                h.push_str("</table>\n");
            }
        }
        None => h.push_str("<p class=\"note\">No validation report.</p>\n"),
    }

    // Model card.
    h.push_str("<h2 id=\"model\">Model card</h2>\n");
    match &bundle {
        Some(b) => {
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
        }
        None => {
            h.push_str("<p class=\"note\">No promoted model in <code>final_model/</code>.</p>\n")
        }
    }

    // Timings.
    h.push_str("<h2 id=\"timings\">Stage timings (last repro)</h2>\n");
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

    h.push_str(READY_SCRIPT);
    h.push_str("</body></html>\n");
    Ok(h)
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
pub fn write_report(root: &Path, paths: &ArtifactPaths) -> Result<PathBuf> {
    let html = build_report(root, paths)?;
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
