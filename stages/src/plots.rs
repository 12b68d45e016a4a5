//! Evaluation plots (ROC, precision–recall, confusion matrix, feature importance, drift
//! p-values, CV scores per candidate), each written as SVG and PNG with plotters, and the data
//! of the ROC, precision–recall and CV plots as CSV (`data`).
//!
//! Bytes are a pure function of the inputs: no timestamps, no system fonts. SVG text refers to
//! the `sans-serif` family (the viewer's font); PNG text is rasterised with the DejaVu Sans TTF
//! embedded in this crate (`plots/DejaVuSans.ttf`, licence beside it).

mod charts;
mod data;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use netsec_models::{pr_curve, roc_curve, Confusion};
use plotters::prelude::*;

use crate::error::{Result, StageError};
use crate::fsio::write_atomic;
use crate::train::CvReport;
use crate::validate::ValidationReport;

pub use charts::Chart;

/// Pixel size of every plot.
pub const SIZE: (u32, u32) = (800, 560);

static FONT: &[u8] = include_bytes!("plots/DejaVuSans.ttf");

/// Everything the plots are drawn from.
#[derive(Debug, Clone)]
pub struct PlotInputs<'a> {
    /// Test labels (1 = positive class).
    pub truth: &'a [u8],
    /// Probability of class 1 per test row.
    pub proba: &'a [f64],
    pub confusion: Confusion,
    /// Names of class 0 and class 1.
    pub class_names: [String; 2],
    /// The chosen model's family name.
    pub model: String,
    /// `(feature, importance)` of the chosen model; `None` when it has none (RBF SVM).
    pub importance: Option<Vec<(String, f64)>>,
    pub cv: &'a CvReport,
    /// The validation report, for the drift p-values.
    pub validation: Option<&'a ValidationReport>,
}

/// The charts drawn from `inputs`, in file-name order of their stems.
pub fn charts(inputs: &PlotInputs<'_>) -> Vec<(&'static str, Chart)> {
    let mut out = Vec::new();
    let roc: Vec<(f64, f64)> = roc_curve(inputs.truth, inputs.proba)
        .iter()
        .map(|p| (p.fpr, p.tpr))
        .collect();
    out.push((
        "roc",
        Chart::Curve {
            title: format!("ROC curve — {}", inputs.model),
            x_desc: "false positive rate".into(),
            y_desc: "true positive rate".into(),
            points: roc,
            diagonal: true,
        },
    ));
    let pr: Vec<(f64, f64)> = pr_curve(inputs.truth, inputs.proba)
        .iter()
        .map(|p| (p.recall, p.precision))
        .collect();
    out.push((
        "precision_recall",
        Chart::Curve {
            title: format!("Precision–recall — {}", inputs.model),
            x_desc: "recall".into(),
            y_desc: "precision".into(),
            points: pr,
            diagonal: false,
        },
    ));
    out.push((
        "confusion_matrix",
        Chart::Confusion {
            title: format!("Confusion matrix (test) — {}", inputs.model),
            confusion: inputs.confusion,
            class_names: inputs.class_names.clone(),
        },
    ));
    if let Some(imp) = &inputs.importance {
        let mut bars = imp.clone();
        // Largest first; ties by name so the order never depends on the input order.
        bars.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out.push((
            "feature_importance",
            Chart::Bars {
                title: format!("Feature importance — {}", inputs.model),
                x_desc: "share of importance".into(),
                bars: bars.into_iter().map(|(n, v)| (n, v, false)).collect(),
                rule: None,
                x_min: 0.0,
            },
        ));
    }
    if let Some(report) = inputs.validation {
        // The first comparison (by name) is train vs test in the repository's pipeline.
        if let Some((name, cmp)) = report.drift.iter().next() {
            out.push((
                "drift_pvalues",
                Chart::Bars {
                    title: format!("Drift: KS p-value per column ({name})"),
                    x_desc: format!("p-value (drift below α = {})", cmp.drift_alpha),
                    bars: cmp
                        .columns
                        .iter()
                        .map(|(c, d)| (c.clone(), d.p_value, d.drift))
                        .collect(),
                    rule: Some(cmp.drift_alpha),
                    x_min: 0.0,
                },
            ));
        }
    }
    out.push((
        "cv_scores",
        Chart::Cv {
            title: format!("CV F1 per candidate ({} folds)", inputs.cv.config.folds),
            rows: inputs
                .cv
                .table
                .iter()
                .enumerate()
                .map(|(i, r)| charts::CvBar {
                    // Hyperparameters would not fit; `#i` is the row of cv.json (and of the
                    // report's table, which lists them).
                    label: format!(
                        "#{i} {}{}",
                        r.model,
                        if i == inputs.cv.chosen {
                            " (chosen)"
                        } else {
                            ""
                        }
                    ),
                    mean: r.f1_mean,
                    std: r.f1_std,
                    folds: r.fold_f1.clone(),
                    chosen: i == inputs.cv.chosen,
                })
                .collect(),
        },
    ));
    out
}

/// Draws every chart into `dir` as `<stem>.svg` and `<stem>.png`, and writes the curves' data
/// as `roc.csv`, `precision_recall.csv` and `cv_scores.csv`; returns the files written.
pub fn write_plots(inputs: &PlotInputs<'_>, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| StageError::Write {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let mut written = Vec::new();
    for (stem, chart) in charts(inputs) {
        let svg_path = dir.join(format!("{stem}.svg"));
        let svg = render_svg(&chart).map_err(|message| StageError::Artifact {
            path: svg_path.clone(),
            message,
        })?;
        write_atomic(&svg_path, svg.as_bytes())?;
        written.push(svg_path);
        let png_path = dir.join(format!("{stem}.png"));
        let png = render_png(&chart).map_err(|message| StageError::Artifact {
            path: png_path.clone(),
            message,
        })?;
        write_atomic(&png_path, &png)?;
        written.push(png_path);
    }
    for (name, csv) in data::tables(inputs) {
        let path = dir.join(name);
        write_atomic(&path, csv.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// The chart as an SVG document.
pub fn render_svg(chart: &Chart) -> std::result::Result<String, String> {
    // Layout (label sizes) measures text with the embedded font in both formats.
    register_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The chart as a PNG (8-bit RGB), text drawn with the embedded font.
pub fn render_png(chart: &Chart) -> std::result::Result<Vec<u8>, String> {
    register_font()?;
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png = Vec::new();
    let mut enc = png::Encoder::new(&mut png, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(png)
}

/// Registers the embedded TTF as plotters' `sans-serif` once per process.
fn register_font() -> std::result::Result<(), String> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the embedded DejaVu Sans font is not a valid TTF".to_string())
    })
    .clone()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::plots::charts::CvBar;

    fn samples() -> Vec<Chart> {
        vec![
            Chart::Curve {
                title: "ROC".into(),
                x_desc: "fpr".into(),
                y_desc: "tpr".into(),
                points: vec![(0.0, 0.0), (0.1, 0.8), (1.0, 1.0)],
                diagonal: true,
            },
            Chart::Bars {
                title: "Drift".into(),
                x_desc: "p".into(),
                bars: vec![("a".into(), 0.9, false), ("b".into(), 0.01, true)],
                rule: Some(0.05),
                x_min: 0.0,
            },
            Chart::Confusion {
                title: "CM".into(),
                confusion: Confusion {
                    tp: 5,
                    fp: 1,
                    tn: 7,
                    fn_: 2,
                },
                class_names: ["legitimate".into(), "phishing".into()],
            },
            Chart::Cv {
                title: "CV".into(),
                rows: vec![CvBar {
                    label: "#0 tree (chosen)".into(),
                    mean: 0.9,
                    std: 0.01,
                    folds: vec![0.89, 0.91],
                    chosen: true,
                }],
            },
        ]
    }

    #[test]
    fn every_chart_renders_identically_twice() {
        for chart in samples() {
            let svg = render_svg(&chart).unwrap();
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            assert_eq!(svg, render_svg(&chart).unwrap());
            let png = render_png(&chart).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            assert_eq!(png, render_png(&chart).unwrap());
        }
        let svg = render_svg(&samples()[2]).unwrap();
        for label in ["legitimate", "phishing", ">\n7\n<", ">\n5\n<"] {
            assert!(svg.contains(label), "{label} missing");
        }
    }
}
