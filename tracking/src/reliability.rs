//! The report's calibration section: the Brier score of the test probabilities and their
//! reliability curve (observed phishing rate against mean predicted probability per bin, with
//! the diagonal of perfect calibration), drawn by the plots' SVG renderer, and the bins as a
//! table. The numbers come from `metrics.json` (`calibration`), written by `evaluate`.

use std::fmt::Write as _;

use netsec_common::html::escape as esc;
use netsec_stages::MetricsReport;

use crate::plots::{self, Cell, Frame, PlotSpec, Rendered, Template};

/// Name of the plot (its figure's id is `plot-reliability`).
pub const PLOT_NAME: &str = "reliability";

/// The reliability curve as a plot: x = mean predicted probability, y = the observed rate and
/// the diagonal (its ends at 0 and 1 so the diagonal spans the axes).
pub fn curve(m: &MetricsReport, source: &str) -> Rendered {
    let mut frame = Frame {
        columns: vec![
            "mean predicted probability".into(),
            "observed phishing rate".into(),
            "perfectly calibrated".into(),
        ],
        rows: Vec::new(),
    };
    let diagonal = |x: f64, observed: Option<f64>| {
        vec![
            Some(Cell::Num(x)),
            observed.map(Cell::Num),
            Some(Cell::Num(x)),
        ]
    };
    frame.rows.push(diagonal(0.0, None));
    for b in &m.calibration.bins {
        frame
            .rows
            .push(diagonal(b.mean_predicted, Some(b.observed_rate)));
    }
    frame.rows.push(diagonal(1.0, None));
    let spec = PlotSpec {
        name: PLOT_NAME.into(),
        file: source.into(),
        x: Some(frame.columns[0].clone()),
        y: frame.columns[1..].to_vec(),
        template: Template::Linear,
        title: Some("Reliability curve (test)".into()),
    };
    let svg = plots::render(&spec, &[("test".to_string(), frame)]);
    Rendered {
        name: spec.name.clone(),
        title: spec.title().to_string(),
        file: spec.file.clone(),
        svg,
    }
}

/// The section's HTML: the Brier score, the curve and the table of bins.
pub fn section(m: &MetricsReport, source: &str) -> String {
    let c = &m.calibration;
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<p>Brier score on the {} test rows: <b class=\"brier\">{:.4}</b> (mean squared \
         difference between the phishing probability and the truth: 0 is perfect, a constant \
         0.5 scores 0.25). The closer the curve to the diagonal, the more a probability of p \
         means a phishing share of p.</p>",
        m.test.rows, c.brier
    );
    h.push_str(&plots::figures(&[curve(m, source)]));
    h.push_str(
        "<table class=\"reliability\"><tr><th>probability bin</th><th>rows</th>\
         <th>mean predicted</th><th>observed phishing rate</th><th>observed − predicted</th></tr>\n",
    );
    for b in &c.bins {
        let upper = if b.upper >= 1.0 { "]" } else { ")" };
        let _ = writeln!(
            h,
            "<tr><td>[{:.1}, {:.1}{upper}</td><td class=\"n\">{}</td><td class=\"n\">{:.4}</td>\
             <td class=\"n\">{:.4}</td><td class=\"n\">{:+.4}</td></tr>",
            b.lower,
            b.upper,
            b.count,
            b.mean_predicted,
            b.observed_rate,
            b.observed_rate - b.mean_predicted
        );
    }
    h.push_str("</table>\n");
    if c.bins.is_empty() {
        h = format!(
            "<p class=\"note\">No calibration data in <code>{}</code>.</p>\n",
            esc(source)
        );
    }
    h
}
