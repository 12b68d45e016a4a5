//! The chart kinds and how each is drawn on any plotters backend (SVG or bitmap).

use netsec_models::Confusion;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const FONT: &str = "sans-serif";
// Note: plotters' integer ranges are inclusive once segmented (`0..k` has k + 1 segments),
// hence the `n - 1` upper bounds below.
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const RED: RGBColor = RGBColor(214, 39, 40);
const GREY: RGBColor = RGBColor(120, 120, 120);

/// One candidate of the CV chart.
#[derive(Debug, Clone, PartialEq)]
pub struct CvBar {
    pub label: String,
    pub mean: f64,
    pub std: f64,
    pub folds: Vec<f64>,
    pub chosen: bool,
}

/// A chart, independent of the output format.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// A curve in the unit square (ROC, precision–recall).
    Curve {
        title: String,
        x_desc: String,
        y_desc: String,
        points: Vec<(f64, f64)>,
        diagonal: bool,
    },
    /// Horizontal bars `(label, value, highlighted)`, top to bottom in the given order, with an
    /// optional vertical rule (the drift α).
    Bars {
        title: String,
        x_desc: String,
        bars: Vec<(String, f64, bool)>,
        rule: Option<f64>,
        x_min: f64,
    },
    /// 2 × 2 confusion matrix, actual class on the rows.
    Confusion {
        title: String,
        confusion: Confusion,
        class_names: [String; 2],
    },
    /// Mean CV F1 ± std per candidate, fold scores as dots.
    Cv { title: String, rows: Vec<CvBar> },
}

/// The lower edge of segment `i` of `n`; the top edge of the last one is `Last`.
fn edge(i: usize, n: usize) -> SegmentValue<usize> {
    if i >= n {
        SegmentValue::Last
    } else {
        SegmentValue::Exact(i)
    }
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

impl Chart {
    /// Draws the chart onto `area` (which it fills).
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        area.fill(&WHITE).map_err(s)?;
        match self {
            Chart::Curve {
                title,
                x_desc,
                y_desc,
                points,
                diagonal,
            } => curve(area, title, x_desc, y_desc, points, *diagonal),
            Chart::Bars {
                title,
                x_desc,
                bars,
                rule,
                x_min,
            } => hbars(area, title, x_desc, bars, *rule, *x_min),
            Chart::Confusion {
                title,
                confusion,
                class_names,
            } => matrix(area, title, confusion, class_names),
            Chart::Cv { title, rows } => cv(area, title, rows),
        }
    }
}

fn curve<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    points: &[(f64, f64)],
    diagonal: bool,
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(46)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
        .map_err(s)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 14))
        .draw()
        .map_err(s)?;
    if diagonal {
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], GREY.mix(0.6)))
            .map_err(s)?;
    }
    chart
        .draw_series(LineSeries::new(
            points.iter().copied(),
            BLUE.stroke_width(2),
        ))
        .map_err(s)?;
    Ok(())
}

fn hbars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    bars: &[(String, f64, bool)],
    rule: Option<f64>,
    x_min: f64,
) -> Result<(), String> {
    let n = bars.len().max(1);
    let x_max = bars
        .iter()
        .map(|b| b.1)
        .chain(rule)
        .fold(0.0f64, f64::max)
        .max(x_min + 1e-9)
        * 1.05;
    let label_width = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(4) as u32 * 7 + 12;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(46)
        .y_label_area_size(label_width.clamp(60, 260))
        .build_cartesian_2d(x_min..x_max, (0..n - 1).into_segmented())
        .map_err(s)?;
    // Row 0 at the top: plotters' y grows upwards, so index n-1-i.
    let label_of = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(k) if *k < bars.len() => bars[bars.len() - 1 - k].0.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_desc)
        .y_labels(n)
        .y_label_formatter(&label_of)
        .label_style((FONT, if n > 20 { 11 } else { 14 }))
        .draw()
        .map_err(s)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, v, hot))| {
            let k = bars.len() - 1 - i;
            let color = if *hot { RED } else { BLUE };
            let mut r = Rectangle::new(
                [(x_min, SegmentValue::Exact(k)), (*v, edge(k + 1, n))],
                color.filled(),
            );
            r.set_margin(2, 2, 0, 0);
            r
        }))
        .map_err(s)?;
    if let Some(a) = rule {
        chart
            .draw_series(LineSeries::new(
                [(a, SegmentValue::Exact(0)), (a, SegmentValue::Last)],
                RED.stroke_width(2),
            ))
            .map_err(s)?;
    }
    Ok(())
}

fn matrix<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    c: &Confusion,
    names: &[String; 2],
) -> Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(46)
        .y_label_area_size(110)
        .build_cartesian_2d((0usize..1).into_segmented(), (0usize..1).into_segmented())
        .map_err(s)?;
    let name = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(k) if *k < 2 => names[*k].clone(),
        _ => String::new(),
    };
    // Actual class on y with class 1 at the bottom row, so the diagonal runs top-left (TN)
    // to bottom-right (TP) as in scikit-learn's display.
    let actual = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(k) if *k < 2 => names[1 - *k].clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("predicted")
        .y_desc("actual")
        .x_label_formatter(&name)
        .y_label_formatter(&actual)
        .label_style((FONT, 16))
        .draw()
        .map_err(s)?;
    // cells[(actual, predicted)]
    let cells = [[c.tn, c.fp], [c.fn_, c.tp]];
    let max = cells.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    for (a, row) in cells.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            let y = 1 - a;
            let shade = count as f64 / max;
            let fill = RGBColor(
                (255.0 - shade * (255.0 - 31.0)) as u8,
                (255.0 - shade * (255.0 - 119.0)) as u8,
                (255.0 - shade * (255.0 - 180.0)) as u8,
            );
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(p), SegmentValue::Exact(y)),
                        (edge(p + 1, 2), edge(y + 1, 2)),
                    ],
                    fill.filled(),
                )))
                .map_err(s)?;
            let ink = if shade > 0.5 { WHITE } else { BLACK };
            let style = TextStyle::from((FONT, 28).into_font())
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(
                    count.to_string(),
                    (SegmentValue::CenterOf(p), SegmentValue::CenterOf(y)),
                    style,
                )))
                .map_err(s)?;
        }
    }
    Ok(())
}

fn cv<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    rows: &[CvBar],
) -> Result<(), String> {
    let n = rows.len().max(1);
    let lo = rows
        .iter()
        .flat_map(|r| r.folds.iter().copied().chain([r.mean - r.std]))
        .fold(1.0f64, f64::min);
    let x_min = ((lo - 0.02) * 50.0).floor() / 50.0;
    let x_min = x_min.clamp(0.0, 0.98);
    let label_width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(8) as u32
        * 7
        + 16;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(46)
        .y_label_area_size(label_width.clamp(80, 320))
        .build_cartesian_2d(x_min..1.0f64, (0..n - 1).into_segmented())
        .map_err(s)?;
    let label_of = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(k) if *k < rows.len() => rows[rows.len() - 1 - k].label.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("F1 (mean ± std over folds; dots = folds)")
        .y_labels(n)
        .y_label_formatter(&label_of)
        .label_style((FONT, 14))
        .draw()
        .map_err(s)?;
    for (i, r) in rows.iter().enumerate() {
        let k = rows.len() - 1 - i;
        let color = if r.chosen { ORANGE } else { BLUE };
        let mut bar = Rectangle::new(
            [
                (x_min, SegmentValue::Exact(k)),
                (r.mean.max(x_min), edge(k + 1, n)),
            ],
            color.mix(0.7).filled(),
        );
        bar.set_margin(6, 6, 0, 0);
        chart.draw_series(std::iter::once(bar)).map_err(s)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![
                    ((r.mean - r.std).max(x_min), SegmentValue::CenterOf(k)),
                    ((r.mean + r.std).min(1.0), SegmentValue::CenterOf(k)),
                ],
                BLACK.stroke_width(2),
            )))
            .map_err(s)?;
        chart
            .draw_series(r.folds.iter().map(|&f| {
                Circle::new((f.max(x_min), SegmentValue::CenterOf(k)), 3, BLACK.filled())
            }))
            .map_err(s)?;
    }
    Ok(())
}
