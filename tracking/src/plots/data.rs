//! Plot data files: CSV, TSV, a JSON list of objects (or an object holding one such list) and
//! JSON Lines, read into one table of cells, columns in first-seen order.

use serde_json::Value;

use super::spec::extension;

/// One value of a data file: a number when it parses as one, text otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Num(f64),
    Text(String),
}

impl Cell {
    pub fn num(&self) -> Option<f64> {
        match self {
            Cell::Num(v) => Some(*v),
            Cell::Text(_) => None,
        }
    }

    /// The cell as a label (a category of a bar or confusion plot).
    pub fn label(&self) -> String {
        match self {
            Cell::Num(v) => crate::plots::svg::short_num(*v),
            Cell::Text(s) => s.clone(),
        }
    }

    fn from_text(s: &str) -> Cell {
        let t = s.trim();
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Cell::Num(v),
            _ => Cell::Text(t.to_string()),
        }
    }

    fn from_json(v: &Value) -> Option<Cell> {
        match v {
            Value::Number(n) => n.as_f64().map(Cell::Num),
            Value::String(s) => Some(Cell::from_text(s)),
            Value::Bool(b) => Some(Cell::Num(if *b { 1.0 } else { 0.0 })),
            _ => None,
        }
    }
}

/// A data file as rows of cells; `None` where a row lacks a column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<Cell>>>,
}

impl Frame {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Columns with at least one number, in file order.
    pub fn numeric_columns(&self) -> Vec<&str> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                self.rows
                    .iter()
                    .any(|r| matches!(r.get(*i), Some(Some(Cell::Num(_)))))
            })
            .map(|(_, c)| c.as_str())
            .collect()
    }

    fn push_object(&mut self, obj: &serde_json::Map<String, Value>) {
        let mut row = vec![None; self.columns.len()];
        for (k, v) in obj {
            let i = match self.column(k) {
                Some(i) => i,
                None => {
                    self.columns.push(k.clone());
                    row.push(None);
                    self.columns.len() - 1
                }
            };
            row[i] = Cell::from_json(v);
        }
        self.rows.push(row);
    }
}

/// Reads `bytes` by the extension of `path`. The error says what is wrong, without the path.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Frame, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    match extension(path) {
        Some("csv") => delimited(text, b','),
        Some("tsv") => delimited(text, b'\t'),
        Some("json") => json(text),
        Some("jsonl") => json_lines(text),
        _ => Err(format!(
            "unknown data format (extensions: {})",
            super::spec::EXTENSIONS.join(", ")
        )),
    }
}

fn delimited(text: &str, delimiter: u8) -> Result<Frame, String> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let mut row: Vec<Option<Cell>> = rec.iter().map(|c| Some(Cell::from_text(c))).collect();
        row.resize(columns.len(), None);
        rows.push(row);
    }
    Ok(Frame { columns, rows })
}

fn json(text: &str) -> Result<Frame, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    // `[{…}, …]`, or `{"name": [{…}, …]}` as DVC writes them.
    let list = match &v {
        Value::Array(a) => a,
        Value::Object(o) => match o.values().find_map(Value::as_array) {
            Some(a) => a,
            None => return Err("a JSON object without a list of objects".into()),
        },
        _ => return Err("not a JSON list of objects".into()),
    };
    let mut f = Frame::default();
    for (i, item) in list.iter().enumerate() {
        let obj = item
            .as_object()
            .ok_or_else(|| format!("item {i} is not a JSON object"))?;
        f.push_object(obj);
    }
    Ok(f)
}

fn json_lines(text: &str) -> Result<Frame, String> {
    let mut f = Frame::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        let obj = v
            .as_object()
            .ok_or_else(|| format!("line {}: not a JSON object", i + 1))?;
        f.push_object(obj);
    }
    Ok(f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_format() {
        let c = parse("a.csv", b"x,y,l\n0,1.5,a\n1,2,b\n").unwrap();
        assert_eq!(c.columns, ["x", "y", "l"]);
        assert_eq!(c.rows[1][1], Some(Cell::Num(2.0)));
        assert_eq!(c.numeric_columns(), ["x", "y"]);
        let t = parse("a.tsv", b"x\ty\n0\t1\n").unwrap();
        assert_eq!(t.rows[0][1], Some(Cell::Num(1.0)));
        let j = parse("a.json", br#"[{"x": 1, "y": 2}, {"x": 2, "z": "q"}]"#).unwrap();
        assert_eq!(j.columns, ["x", "y", "z"]);
        assert_eq!(j.rows[0].len(), 2);
        let d = parse("a.json", br#"{"roc": [{"fpr": 0, "tpr": 0}]}"#).unwrap();
        assert_eq!(d.columns, ["fpr", "tpr"]);
        let l = parse("a.jsonl", b"{\"x\": 1}\n\n{\"x\": 2}\n").unwrap();
        assert_eq!(l.rows.len(), 2);
        assert!(parse("a.jsonl", b"{\"x\": 1}\n[1]\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse("a.json", b"3").is_err());
    }
}
