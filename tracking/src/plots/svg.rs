//! One plot as an inline SVG document: axes with rounded ticks, one colour per series, a
//! legend, and the five templates (linear, scatter, bar, confusion, smooth). Pure text output
//! (no fonts measured, no scripts), so the page that embeds it needs nothing from the network.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use netsec_common::html::escape as esc;

use super::data::{Cell, Frame};
use super::spec::{PlotSpec, Template};

/// Series colours, in order (revision 1, 2, …; or y column 1, 2, …).
pub const PALETTE: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#7f7f7f", "#bcbd22",
];

const W: f64 = 760.0;
const H: f64 = 440.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = W - 190.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = H - 70.0;

/// One line (or bar group, or point cloud) of a plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The revision the data comes from (`workspace`, `HEAD~1`, …).
    pub revision: String,
    /// The y column.
    pub column: String,
    /// What the legend says.
    pub label: String,
    pub points: Vec<(Cell, f64)>,
}

/// The series `spec` draws from each revision's data (`(revision, frame)`, in legend order).
/// A missing column is an error naming it, the revision and the columns there are.
pub fn series(spec: &PlotSpec, data: &[(String, Frame)]) -> Result<Vec<Series>, String> {
    let mut out = Vec::new();
    let many_revs = data.len() > 1;
    for (rev, frame) in data {
        let col = |name: &str| {
            frame.column(name).ok_or_else(|| {
                format!(
                    "column `{name}` is not in `{}`{}; its columns: {}",
                    spec.file,
                    if many_revs {
                        format!(" at {rev}")
                    } else {
                        String::new()
                    },
                    if frame.columns.is_empty() {
                        "none".to_string()
                    } else {
                        frame.columns.join(", ")
                    }
                )
            })
        };
        // x: the named column; none named and no y either (a `plot = true` out): the first
        // column against the other numeric ones; none named but y given: the row number.
        let (x, ys): (Option<usize>, Vec<String>) = match (&spec.x, spec.y.is_empty()) {
            (Some(x), true) => (
                Some(col(x)?),
                frame
                    .numeric_columns()
                    .into_iter()
                    .filter(|c| c != x)
                    .map(str::to_string)
                    .collect(),
            ),
            (Some(x), false) => (Some(col(x)?), spec.y.clone()),
            (None, true) => match frame.columns.first() {
                Some(first) => (
                    Some(0),
                    frame
                        .numeric_columns()
                        .into_iter()
                        .filter(|c| c != first)
                        .map(str::to_string)
                        .collect(),
                ),
                None => (None, Vec::new()),
            },
            (None, false) => (None, spec.y.clone()),
        };
        let many_ys = ys.len() > 1;
        for y in &ys {
            let yi = col(y)?;
            let points: Vec<(Cell, f64)> = frame
                .rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let yv = r.get(yi)?.as_ref()?.num()?;
                    let xv = match x {
                        Some(xi) => r.get(xi)?.clone()?,
                        None => Cell::Num(i as f64),
                    };
                    Some((xv, yv))
                })
                .collect();
            let label = match (many_revs, many_ys) {
                (false, _) => y.clone(),
                (true, false) => rev.clone(),
                (true, true) => format!("{rev}: {y}"),
            };
            out.push(Series {
                revision: rev.clone(),
                column: y.clone(),
                label,
                points,
            });
        }
    }
    Ok(out)
}

/// The plot as an `<svg>` element (class `plot`, `data-series` = number of series drawn).
pub fn render(spec: &PlotSpec, data: &[(String, Frame)]) -> Result<String, String> {
    let mut s = String::new();
    let x_label = spec.x.clone().unwrap_or_else(|| match spec.y.is_empty() {
        true => data
            .first()
            .and_then(|(_, f)| f.columns.first().cloned())
            .unwrap_or_default(),
        false => "row".into(),
    });
    if spec.template == Template::Confusion {
        let body = confusion(spec, data)?;
        let _ = write!(
            s,
            "<svg class=\"plot\" data-series=\"{}\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{t}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{t}</text>\n{body}</svg>\n",
            data.len(),
            W / 2.0,
            t = esc(spec.title()),
        );
        return Ok(s);
    }
    let all = series(spec, data)?;
    let y_label = match all.iter().map(|x| x.column.as_str()).collect::<Vec<_>>() {
        ref v if v.iter().all(|c| *c == v[0]) && !v.is_empty() => v[0].to_string(),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "<svg class=\"plot\" data-series=\"{}\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{t}\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">{t}</text>",
        all.len(),
        (LEFT + RIGHT) / 2.0,
        t = esc(spec.title()),
    );
    let categorical = spec.template == Template::Bar
        || all
            .iter()
            .any(|se| se.points.iter().any(|(x, _)| matches!(x, Cell::Text(_))));
    let ys = all.iter().flat_map(|se| se.points.iter().map(|p| p.1));
    let (mut ymin, mut ymax) = bounds(ys);
    if spec.template == Template::Bar {
        ymin = ymin.min(0.0);
        ymax = ymax.max(0.0);
    }
    let yt = ticks(ymin, ymax);
    let (ylo, yhi) = (yt[0], yt[yt.len() - 1]);
    let py = |v: f64| BOTTOM - (v - ylo) / (yhi - ylo) * (BOTTOM - TOP);
    // Grid and y ticks.
    for t in &yt {
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e5e5e5\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
            LEFT - 6.0,
            py(*t) + 4.0,
            tick_label(*t, &yt),
            y = py(*t),
        );
    }
    if categorical {
        let mut cats: Vec<String> = Vec::new();
        for se in &all {
            for (x, _) in &se.points {
                let l = x.label();
                if !cats.contains(&l) {
                    cats.push(l);
                }
            }
        }
        let n = cats.len().max(1) as f64;
        let group = (RIGHT - LEFT) / n;
        let slanted = cats.len() > 6 || cats.iter().any(|c| c.chars().count() > 10);
        for (i, c) in cats.iter().enumerate() {
            let cx = LEFT + group * (i as f64 + 0.5);
            let shown: String = c.chars().take(18).collect();
            if slanted {
                let _ = writeln!(
                    s,
                    "<text transform=\"translate({cx:.1},{}) rotate(-35)\" text-anchor=\"end\" font-size=\"10\">{}</text>",
                    BOTTOM + 12.0,
                    esc(&shown)
                );
            } else {
                let _ = writeln!(
                    s,
                    "<text x=\"{cx:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                    BOTTOM + 16.0,
                    esc(&shown)
                );
            }
        }
        let pos = |x: &Cell| cats.iter().position(|c| *c == x.label()).unwrap_or(0) as f64;
        let nser = all.len().max(1) as f64;
        for (k, se) in all.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            if spec.template == Template::Bar {
                let bw = group * 0.8 / nser;
                let _ = write!(
                    s,
                    "<g class=\"series\" data-label=\"{}\" fill=\"{color}\">",
                    esc(&se.label)
                );
                for (x, y) in &se.points {
                    let x0 = LEFT + group * (pos(x) + 0.1) + bw * k as f64;
                    let (a, b) = (py(*y), py(0.0_f64.clamp(ylo, yhi)));
                    let _ = write!(
                        s,
                        "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect>",
                        a.min(b),
                        (a - b).abs().max(0.5),
                        esc(&x.label()),
                        short_num(*y)
                    );
                }
                s.push_str("</g>\n");
            } else {
                let pts: Vec<(f64, f64)> = se
                    .points
                    .iter()
                    .map(|(x, y)| (LEFT + group * (pos(x) + 0.5), py(*y)))
                    .collect();
                draw(&mut s, spec.template, &se.label, color, &pts);
            }
        }
    } else {
        let xs = all
            .iter()
            .flat_map(|se| se.points.iter().filter_map(|p| p.0.num()));
        let (xmin, xmax) = bounds(xs);
        let xt = ticks(xmin, xmax);
        let (xlo, xhi) = (xt[0], xt[xt.len() - 1]);
        let px = |v: f64| LEFT + (v - xlo) / (xhi - xlo) * (RIGHT - LEFT);
        for t in &xt {
            let _ = writeln!(
                s,
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{BOTTOM}\" stroke=\"#f0f0f0\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                BOTTOM + 16.0,
                tick_label(*t, &xt),
                x = px(*t),
            );
        }
        for (k, se) in all.iter().enumerate() {
            let pts: Vec<(f64, f64)> = se
                .points
                .iter()
                .filter_map(|(x, y)| x.num().map(|x| (px(x), py(*y))))
                .collect();
            draw(
                &mut s,
                spec.template,
                &se.label,
                PALETTE[k % PALETTE.len()],
                &pts,
            );
        }
    }
    // Axes and their names.
    let _ = writeln!(
        s,
        "<path d=\"M{LEFT},{TOP}V{BOTTOM}H{RIGHT}\" fill=\"none\" stroke=\"#444\"/>\n<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">{}</text>\n<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
        (LEFT + RIGHT) / 2.0,
        H - 8.0,
        esc(&x_label),
        (TOP + BOTTOM) / 2.0,
        esc(&y_label),
    );
    legend(&mut s, all.iter().map(|se| se.label.as_str()));
    s.push_str("</svg>\n");
    Ok(s)
}

fn draw(s: &mut String, template: Template, label: &str, color: &str, pts: &[(f64, f64)]) {
    let path = |pts: &[(f64, f64)]| {
        pts.iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match template {
        Template::Scatter => {
            let _ = write!(
                s,
                "<g class=\"series\" data-label=\"{}\" fill=\"{color}\" fill-opacity=\"0.8\">",
                esc(label)
            );
            for (x, y) in pts {
                let _ = write!(s, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\"/>");
            }
            s.push_str("</g>\n");
        }
        Template::Smooth => {
            let _ = writeln!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-opacity=\"0.25\" stroke-width=\"1\"/>",
                path(pts)
            );
            let _ = writeln!(
                s,
                "<polyline class=\"series\" data-label=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
                esc(label),
                path(&smooth(pts))
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "<polyline class=\"series\" data-label=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>",
                esc(label),
                path(pts)
            );
        }
    }
}

/// Centred moving average of the y values; the window is a twentieth of the points, odd.
pub fn smooth(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let half = pts.len() / 40;
    (0..pts.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(half), (i + half + 1).min(pts.len()));
            let mean = pts[a..b].iter().map(|p| p.1).sum::<f64>() / (b - a) as f64;
            (pts[i].0, mean)
        })
        .collect()
}

fn legend<'a>(s: &mut String, labels: impl Iterator<Item = &'a str>) {
    for (k, l) in labels.enumerate() {
        let y = TOP + 8.0 + 20.0 * k as f64;
        let shown: String = l.chars().take(26).collect();
        let _ = writeln!(
            s,
            "<g class=\"legend\"><rect x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text></g>",
            RIGHT + 16.0,
            y - 11.0,
            PALETTE[k % PALETTE.len()],
            RIGHT + 36.0,
            y,
            esc(&shown)
        );
    }
}

/// One heat map per revision, side by side: rows the actual class (x), columns the predicted
/// one (y), each cell its count.
fn confusion(spec: &PlotSpec, data: &[(String, Frame)]) -> Result<String, String> {
    let (Some(xc), Some(yc)) = (spec.x.as_deref(), spec.y.first()) else {
        return Err("a confusion plot needs x and y".into());
    };
    let mut panels = Vec::new();
    let mut classes: Vec<String> = Vec::new();
    for (rev, f) in data {
        let missing = |c: &str| {
            format!(
                "column `{c}` is not in `{}` at {rev}; its columns: {}",
                spec.file,
                f.columns.join(", ")
            )
        };
        let xi = f.column(xc).ok_or_else(|| missing(xc))?;
        let yi = f.column(yc).ok_or_else(|| missing(yc))?;
        let mut counts: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in &f.rows {
            if let (Some(Some(a)), Some(Some(p))) = (r.get(xi), r.get(yi)) {
                let (a, p) = (a.label(), p.label());
                for c in [&a, &p] {
                    if !classes.contains(c) {
                        classes.push(c.clone());
                    }
                }
                *counts.entry((a, p)).or_default() += 1;
            }
        }
        panels.push((rev.clone(), counts));
    }
    classes.sort();
    let n = classes.len().max(1) as f64;
    let pw = (W - 40.0) / panels.len().max(1) as f64;
    let side = (pw - 110.0).clamp(40.0, (BOTTOM - TOP - 30.0).max(40.0));
    let cell = side / n;
    let mut s = String::new();
    for (k, (rev, counts)) in panels.iter().enumerate() {
        let max = counts.values().copied().max().unwrap_or(1).max(1) as f64;
        let x0 = 20.0 + pw * k as f64 + 90.0;
        let y0 = TOP + 30.0;
        let color = PALETTE[k % PALETTE.len()];
        let _ = writeln!(
            s,
            "<g class=\"series\" data-label=\"{r}\"><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"13\" fill=\"{color}\">{r}</text>",
            x0 + side / 2.0,
            y0 - 10.0,
            r = esc(rev)
        );
        for (i, a) in classes.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
                x0 - 6.0,
                y0 + cell * (i as f64 + 0.5) + 4.0,
                esc(a)
            );
            for (j, p) in classes.iter().enumerate() {
                let c = counts.get(&(a.clone(), p.clone())).copied().unwrap_or(0);
                let shade = c as f64 / max;
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{color}\" fill-opacity=\"{:.3}\" stroke=\"#fff\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\" fill=\"{}\">{c}</text>",
                    x0 + cell * j as f64,
                    y0 + cell * i as f64,
                    0.08 + 0.92 * shade,
                    x0 + cell * (j as f64 + 0.5),
                    y0 + cell * (i as f64 + 0.5) + 4.0,
                    if shade > 0.5 { "#fff" } else { "#222" },
                );
            }
        }
        for (j, p) in classes.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                x0 + cell * (j as f64 + 0.5),
                y0 + side + 14.0,
                esc(p)
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"12\">{} (predicted) · rows: {} (actual)</text></g>",
            x0 + side / 2.0,
            y0 + side + 32.0,
            esc(yc),
            esc(xc)
        );
    }
    Ok(s)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if lo == hi {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

/// About five round tick values covering `[lo, hi]` (1, 2 or 5 times a power of ten apart).
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).floor() * step;
    let mut v = Vec::new();
    while v.len() < 50 {
        let t = start + step * v.len() as f64;
        v.push(t);
        if t >= hi - step * 1e-9 {
            break;
        }
    }
    if v.len() < 2 {
        v.push(start + step);
    }
    v
}

fn tick_label(v: f64, all: &[f64]) -> String {
    let step = if all.len() > 1 { all[1] - all[0] } else { 1.0 };
    let decimals = (-step.log10().floor()).clamp(0.0, 8.0) as usize;
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    format!("{v:.decimals$}")
}

/// A number as a short label: integers as such, others with up to four decimals, tiny or huge
/// values in exponent form.
pub fn short_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else if v.abs() >= 1e-3 && v.abs() < 1e12 {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.2e}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::data::parse;
    use super::*;

    fn spec(t: Template, x: Option<&str>, y: &[&str]) -> PlotSpec {
        PlotSpec {
            name: "p".into(),
            file: "p.csv".into(),
            x: x.map(str::to_string),
            y: y.iter().map(|s| s.to_string()).collect(),
            template: t,
            title: None,
        }
    }

    #[test]
    fn series_per_revision_and_column() {
        let a = parse("p.csv", b"x,y,z\n0,0,1\n1,1,0\n").unwrap();
        let b = parse("p.csv", b"x,y,z\n0,0.5,1\n1,0.7,0\n").unwrap();
        let data = vec![("workspace".to_string(), a), ("HEAD".to_string(), b)];
        let s = series(&spec(Template::Linear, Some("x"), &["y"]), &data).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].label, "HEAD");
        let s = series(&spec(Template::Linear, Some("x"), &["y", "z"]), &data).unwrap();
        assert_eq!(s[3].label, "HEAD: z");
        let e = series(&spec(Template::Linear, Some("x"), &["w"]), &data).unwrap_err();
        assert!(e.contains("`w`") && e.contains("x, y, z"), "{e}");
        // A `plot = true` out: first column against the other numeric ones.
        let s = series(&PlotSpec::for_out("p.csv"), &data[..1]).unwrap();
        assert_eq!(
            s.iter().map(|x| x.label.as_str()).collect::<Vec<_>>(),
            ["y", "z"]
        );
        for t in Template::ALL.map(|(_, t)| t) {
            let sp = spec(t, Some("x"), &["y"]);
            let svg = render(&sp, &data).unwrap();
            assert!(
                svg.starts_with("<svg class=\"plot\" data-series=\"2\""),
                "{svg}"
            );
            assert_eq!(svg.matches("class=\"series\"").count(), 2, "{t:?}");
        }
    }

    #[test]
    fn ticks_and_numbers() {
        let t = ticks(0.0, 1.0);
        let labels: Vec<String> = t.iter().map(|v| tick_label(*v, &t)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let t = ticks(-3.0, 1234.0);
        assert!(
            t[0] <= -3.0 && *t.last().unwrap() >= 1234.0 && t.len() <= 8,
            "{t:?}"
        );
        assert_eq!(short_num(3.0), "3");
        assert_eq!(short_num(0.25), "0.25");
        assert_eq!(smooth(&[(0.0, 1.0)]), [(0.0, 1.0)]);
    }
}
