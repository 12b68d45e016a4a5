//! Prediction responses in the three negotiated forms: JSON (default), CSV (`Accept: text/csv`)
//! and an HTML table (`Accept: text/html`). Rows are serialised straight from the frame, without
//! building an intermediate map per row.

use std::fmt::Write as _;

use netsec_common::html::escape;
use netsec_stages::{format_cell, Dtype, Frame, Predictions};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::model::ModelCard;

/// The response format chosen from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Html,
}

impl Format {
    /// The first of the three media types named in `Accept` (order of appearance) that the
    /// client does not refuse with `q=0`; JSON if none.
    pub fn from_accept(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Json;
        };
        for part in accept.split(',') {
            let mut params = part.split(';');
            let media = params.next().unwrap_or("").trim();
            let refused = params.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .or_else(|| p.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            match media.to_ascii_lowercase().as_str() {
                "application/json" => return Format::Json,
                "text/csv" => return Format::Csv,
                "text/html" => return Format::Html,
                _ => {}
            }
        }
        Format::Json
    }
}

/// `{"rows": N, "phishing": K, "phishing_share": K/N}`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub rows: usize,
    pub phishing: usize,
    pub phishing_share: f64,
}

impl Summary {
    pub fn of(p: &Predictions, phishing_label: i64) -> Summary {
        let rows = p.labels.len();
        let phishing = p.labels.iter().filter(|v| **v == phishing_label).count();
        Summary {
            rows,
            phishing,
            phishing_share: if rows == 0 {
                0.0
            } else {
                phishing as f64 / rows as f64
            },
        }
    }
}

/// Which model answered (the full card is `GET /model`).
#[derive(Serialize)]
pub struct ModelRef<'a> {
    pub version: &'a str,
    pub model: &'a str,
    pub trained_at: Option<&'a str>,
    /// The decision threshold these predictions applied.
    pub threshold: f64,
}

impl<'a> ModelRef<'a> {
    pub fn of(card: &'a ModelCard) -> ModelRef<'a> {
        ModelRef {
            version: &card.version,
            model: &card.model,
            trained_at: card.trained_at.as_deref(),
            threshold: card.threshold,
        }
    }
}

/// The JSON body of `POST /predict`.
#[derive(Serialize)]
pub struct PredictBody<'a> {
    pub rows: Rows<'a>,
    pub summary: Summary,
    pub model: ModelRef<'a>,
}

/// Rows as `[{feature: value, …, label?, prediction, phishing_probability}, …]`.
pub struct Rows<'a> {
    pub frame: &'a Frame,
    pub predictions: &'a Predictions,
}

/// Row `i` of `rows`, serialised as one object.
pub struct Row<'a> {
    pub rows: &'a Rows<'a>,
    pub i: usize,
}

/// Row `i` of `rows` as an array in [`compact_columns`] order (the compact form).
pub struct CompactRow<'a> {
    pub rows: &'a Rows<'a>,
    pub i: usize,
}

/// The column names of the compact form: features, the label when sent, then the prediction.
pub fn compact_columns(frame: &Frame) -> Vec<&str> {
    let mut names: Vec<&str> = frame.feature_names.iter().map(String::as_str).collect();
    if frame.labels.is_some() {
        names.push(&frame.label_name);
    }
    names.extend(["prediction", "phishing_probability"]);
    names
}

/// A feature cell as JSON: null for a missing value, an integer for an integer column.
fn serialize_cell<S: SerializeSeq>(seq: &mut S, v: f32, dtype: Dtype) -> Result<(), S::Error> {
    if v.is_nan() {
        seq.serialize_element(&())
    } else if dtype == Dtype::Int64 && v.fract() == 0.0 && v.abs() < 9.0e15 {
        seq.serialize_element(&(v as i64))
    } else {
        seq.serialize_element(&v)
    }
}

impl Serialize for CompactRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.rows.frame;
        let p = self.rows.predictions;
        let mut seq = s.serialize_seq(None)?;
        for j in 0..f.feature_names.len() {
            serialize_cell(&mut seq, f.features[(self.i, j)], f.dtypes[j])?;
        }
        if let Some(labels) = &f.labels {
            seq.serialize_element(&labels[self.i])?;
        }
        seq.serialize_element(&p.labels[self.i])?;
        seq.serialize_element(&p.proba[self.i])?;
        seq.end()
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.frame.n_rows()))?;
        for i in 0..self.frame.n_rows() {
            seq.serialize_element(&Row { rows: self, i })?;
        }
        seq.end()
    }
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.rows.frame;
        let p = self.rows.predictions;
        let mut map = s.serialize_map(None)?;
        for (j, name) in f.feature_names.iter().enumerate() {
            let v = f.features[(self.i, j)];
            if v.is_nan() {
                map.serialize_entry(name, &())?;
            } else if f.dtypes[j] == Dtype::Int64 && v.fract() == 0.0 && v.abs() < 9.0e15 {
                map.serialize_entry(name, &(v as i64))?;
            } else {
                map.serialize_entry(name, &v)?;
            }
        }
        if let Some(labels) = &f.labels {
            map.serialize_entry(&f.label_name, &labels[self.i])?;
        }
        map.serialize_entry("prediction", &p.labels[self.i])?;
        map.serialize_entry("phishing_probability", &p.proba[self.i])?;
        map.end()
    }
}

/// A probability for people: a percentage with one decimal, and "< 0.1%" / "> 99.9%" at
/// the ends instead of a rounded 0 or 100.
fn percent(p: f64) -> String {
    if p < 0.001 {
        "< 0.1%".into()
    } else if p > 0.999 {
        "> 99.9%".into()
    } else {
        format!("{:.1}%", p * 100.0)
    }
}

/// A complete small HTML document: summary line and a table, phishing rows marked.
pub fn to_html(
    frame: &Frame,
    p: &Predictions,
    summary: &Summary,
    card: &ModelCard,
    phishing_label: i64,
) -> String {
    let mut out =
        String::with_capacity(frame.n_rows() * (frame.feature_names.len() * 12 + 120) + 2048);
    out.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>netsec predictions</title><style>body{font-family:system-ui,sans-serif;margin:1rem}table{border-collapse:collapse;font-size:.8rem}td,th{border:1px solid #ccc;padding:.2rem .4rem;text-align:right}tr.phishing{background:#fde2e1}</style></head><body>\n");
    let _ = writeln!(
        out,
        "<p>{} rows, {} phishing ({:.1}%), model {}</p>\n<p>{}</p>",
        summary.rows,
        summary.phishing,
        summary.phishing_share * 100.0,
        escape(&card.version),
        escape(&p.legend())
    );
    out.push_str("<table><thead><tr><th>#</th>");
    for name in &frame.feature_names {
        let _ = write!(out, "<th>{}</th>", escape(name));
    }
    if frame.labels.is_some() {
        let _ = write!(out, "<th>{}</th>", escape(&frame.label_name));
    }
    out.push_str(
        "<th>prediction</th><th>label</th><th>phishing probability</th></tr></thead><tbody>\n",
    );
    for (i, row) in frame.features.outer_iter().enumerate() {
        let class = if p.labels[i] == phishing_label {
            " class=\"phishing\""
        } else {
            ""
        };
        let _ = write!(out, "<tr{class}><td>{}</td>", i + 1);
        for (j, v) in row.iter().enumerate() {
            out.push_str("<td>");
            format_cell(&mut out, *v, frame.dtypes[j]);
            out.push_str("</td>");
        }
        if let Some(l) = &frame.labels {
            let _ = write!(out, "<td>{}</td>", l[i]);
        }
        let _ = writeln!(
            out,
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            p.labels[i],
            escape(p.name(i)),
            percent(p.proba[i])
        );
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}
