//! `[plots.NAME]` tables of pipeline.toml: which data file, which columns, which template.
//! Checked when the pipeline is loaded (through the binary's table check); an error names the
//! key path inside `[plots]` so the engine can point at its line.

use std::collections::BTreeMap;

/// How a plot's data is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Template {
    /// Lines through the points, in file order.
    Linear,
    /// Points only.
    Scatter,
    /// One bar per x value (grouped when there are several series).
    Bar,
    /// Counts of (x = actual, y = predicted) pairs as a heat map.
    Confusion,
    /// Lines through a centred moving average (window: a twentieth of the points, odd).
    Smooth,
}

impl Template {
    pub const ALL: [(&'static str, Template); 5] = [
        ("linear", Template::Linear),
        ("scatter", Template::Scatter),
        ("bar", Template::Bar),
        ("confusion", Template::Confusion),
        ("smooth", Template::Smooth),
    ];

    pub fn name(self) -> &'static str {
        Template::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("linear", |(n, _)| n)
    }

    pub fn parse(s: &str) -> Option<Template> {
        Template::ALL.iter().find(|(n, _)| *n == s).map(|(_, t)| *t)
    }
}

/// One plot: a data file and how to draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSpec {
    /// `NAME` of `[plots.NAME]`, or the out's path for a `plot = true` out.
    pub name: String,
    /// Repository-relative path of the data file.
    pub file: String,
    /// The x column; `None`: the row number.
    pub x: Option<String>,
    /// The y columns; empty: every numeric column but x (used for `plot = true` outs).
    pub y: Vec<String>,
    pub template: Template,
    pub title: Option<String>,
}

impl PlotSpec {
    /// The spec of a `plot = true` out: its first column against every other numeric one.
    pub fn for_out(path: &str) -> PlotSpec {
        PlotSpec {
            name: path.to_string(),
            file: path.to_string(),
            x: None,
            y: Vec::new(),
            template: Template::Linear,
            title: None,
        }
    }

    pub fn title(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}

/// The data formats a plot file may have, by extension.
pub const EXTENSIONS: &[&str] = &["csv", "tsv", "json", "jsonl"];

/// Whether `path` names a plot data file (by its extension).
pub fn is_data_file(path: &str) -> bool {
    extension(path).is_some()
}

pub(crate) fn extension(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
    EXTENSIONS.iter().copied().find(|e| *e == ext)
}

/// A mistake in `[plots]`: `at` is the key path inside the table (`["roc", "template"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub at: Vec<String>,
    pub message: String,
    pub hint: Option<String>,
}

const KEYS: &[&str] = &["file", "x", "y", "template", "title"];

/// Parses the `[plots]` table: one spec per `[plots.NAME]`, sorted by name.
pub fn parse_table(v: &toml::Value) -> Result<Vec<PlotSpec>, SpecError> {
    let err = |at: &[&str], message: String, hint: Option<String>| SpecError {
        at: at.iter().map(|s| s.to_string()).collect(),
        message,
        hint,
    };
    let Some(table) = v.as_table() else {
        return Err(err(
            &[],
            "must be a table of plots".into(),
            Some("declare each plot as `[plots.NAME]` with `file`, `x`, `y`".into()),
        ));
    };
    let mut out = Vec::new();
    for (name, plot) in table {
        let Some(t) = plot.as_table() else {
            return Err(err(
                &[name],
                format!("plot `{name}` must be a table"),
                Some(format!(
                    "write `[plots.{name}]` with `file = \"…\"`, `x`, `y`"
                )),
            ));
        };
        if name.is_empty() || name.chars().any(|c| c.is_control() || c == '/') {
            return Err(err(
                &[name],
                format!("invalid plot name `{}`", name.escape_debug()),
                None,
            ));
        }
        let keys: BTreeMap<&str, &toml::Value> = t.iter().map(|(k, v)| (k.as_str(), v)).collect();
        for k in keys.keys() {
            if !KEYS.contains(k) {
                return Err(err(
                    &[name, k],
                    format!("plot `{name}`: unknown key `{k}`"),
                    Some(format!("a plot has {}", KEYS.join(", "))),
                ));
            }
        }
        let string = |key: &str| -> Result<Option<String>, SpecError> {
            match keys.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
                Some(other) => Err(err(
                    &[name, key],
                    format!(
                        "plot `{name}`: `{key}` must be a non-empty string, not {}",
                        describe(other)
                    ),
                    None,
                )),
            }
        };
        let Some(file) = string("file")? else {
            return Err(err(
                &[name],
                format!("plot `{name}` has no `file`"),
                Some("`file = \"path/to/data.csv\"` (CSV, TSV, JSON or JSON Lines)".into()),
            ));
        };
        if file.starts_with('/') || file.split(['/', '\\']).any(|c| c == "..") {
            return Err(err(
                &[name, "file"],
                format!("plot `{name}`: file `{file}` is outside the workspace"),
                Some("use a path relative to the directory of pipeline.toml".into()),
            ));
        }
        if !is_data_file(&file) {
            return Err(err(
                &[name, "file"],
                format!("plot `{name}`: `{file}` is not a plot data file"),
                Some(format!(
                    "the file's extension is one of {}",
                    EXTENSIONS.join(", ")
                )),
            ));
        }
        let y = match keys.get("y") {
            None => {
                return Err(err(
                    &[name],
                    format!("plot `{name}` has no `y`"),
                    Some("`y = \"column\"` or `y = [\"a\", \"b\"]`".into()),
                ))
            }
            Some(toml::Value::String(s)) if !s.trim().is_empty() => vec![s.clone()],
            Some(toml::Value::Array(a))
                if !a.is_empty()
                    && a.iter()
                        .all(|v| v.as_str().is_some_and(|s| !s.trim().is_empty())) =>
            {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            }
            Some(other) => {
                return Err(err(
                    &[name, "y"],
                    format!(
                    "plot `{name}`: `y` must be a column name or a non-empty list of them, not {}",
                    describe(other)
                ),
                    None,
                ))
            }
        };
        let template = match string("template")? {
            None => Template::Linear,
            Some(s) => Template::parse(&s).ok_or_else(|| {
                err(
                    &[name, "template"],
                    format!("plot `{name}`: unknown template `{s}`"),
                    Some(format!(
                        "templates: {}",
                        Template::ALL.map(|(n, _)| n).join(", ")
                    )),
                )
            })?,
        };
        let x = string("x")?;
        if template == Template::Confusion && (x.is_none() || y.len() != 1) {
            return Err(err(
                &[name, "template"],
                format!("plot `{name}`: a confusion plot needs `x` (the actual class column) and one `y` (the predicted one)"),
                None,
            ));
        }
        out.push(PlotSpec {
            name: name.clone(),
            file,
            x,
            y,
            template,
            title: string("title")?,
        });
    }
    Ok(out)
}

fn describe(v: &toml::Value) -> String {
    match v {
        toml::Value::String(_) => "an empty string".into(),
        other => format!("a {}", other.type_str()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn table(src: &str) -> toml::Value {
        let v: toml::Table = toml::from_str(src).unwrap();
        v["plots"].clone()
    }

    #[test]
    fn parses_and_rejects() {
        let specs = parse_table(&table(
            "[plots.roc]\nfile = \"a/roc.csv\"\nx = \"fpr\"\ny = \"tpr\"\ntitle = \"ROC\"\n[plots.cv]\nfile = \"cv.json\"\ny = [\"a\", \"b\"]\ntemplate = \"bar\"\n",
        ))
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].name, "cv");
        assert_eq!(specs[0].y, ["a", "b"]);
        assert_eq!(specs[0].template, Template::Bar);
        assert_eq!(specs[1].title(), "ROC");
        let bad = |src: &str| parse_table(&table(src)).unwrap_err();
        let e = bad("[plots.r]\nfile = \"r.csv\"\ny = \"t\"\ntemplate = \"pie\"\n");
        assert_eq!(e.at, ["r", "template"]);
        assert!(e.hint.unwrap().contains("linear"));
        assert_eq!(bad("[plots.r]\nfile = \"r.csv\"\n").at, ["r"]);
        assert_eq!(
            bad("[plots.r]\nfile = \"r.png\"\ny = \"t\"\n").at,
            ["r", "file"]
        );
        assert_eq!(
            bad("[plots.r]\nfile = \"../r.csv\"\ny = \"t\"\n").at,
            ["r", "file"]
        );
        assert_eq!(bad("[plots.r]\nfile = \"r.csv\"\ny = []\n").at, ["r", "y"]);
        assert_eq!(
            bad("[plots.r]\nfile = \"r.csv\"\ny = \"t\"\nxx = 1\n").at,
            ["r", "xx"]
        );
        assert_eq!(
            bad("[plots.r]\nfile = \"r.csv\"\ny = \"t\"\ntemplate = \"confusion\"\n").at,
            ["r", "template"]
        );
        assert!(parse_table(&toml::Value::Integer(1)).is_err());
    }
}
