//! Sweeps: `-S train.seed=1,2,3`, `-S 'train.lr=range(0.1, 0.5, 0.1)'`; several `-S` form the
//! cartesian product, one experiment per point.

use serde_json::Value;

use crate::error::Error;
use crate::params_edit::{parse_value, Override};

/// Most points one command may queue.
pub const MAX_POINTS: usize = 10_000;

/// The values one `-S KEY=SPEC` stands for.
fn values(raw: &str, spec: &str) -> Result<Vec<Value>, Error> {
    let spec = spec.trim();
    let bad = |why: String| Error::Usage {
        message: format!("`-S {raw}`: {why}"),
        hint: Some(
            "a value, a comma list `1,2,3`, or `range(start, stop, step)` (stop excluded)".into(),
        ),
    };
    if let Some(inner) = spec
        .strip_prefix("range(")
        .and_then(|s| s.strip_suffix(')'))
    {
        let nums: Vec<&str> = inner.split(',').map(str::trim).collect();
        if nums.len() != 3 {
            return Err(bad("range takes three numbers".into()));
        }
        if let (Ok(a), Ok(b), Ok(s)) = (
            nums[0].parse::<i64>(),
            nums[1].parse::<i64>(),
            nums[2].parse::<i64>(),
        ) {
            if s <= 0 {
                return Err(bad("the step must be positive".into()));
            }
            let n = ((b - a).max(0) as u64).div_ceil(s as u64) as usize;
            if n > MAX_POINTS {
                return Err(bad(format!("more than {MAX_POINTS} values")));
            }
            return Ok((0..n).map(|i| Value::from(a + i as i64 * s)).collect());
        }
        let f: Vec<f64> = nums
            .iter()
            .map(|x| {
                x.parse::<f64>()
                    .map_err(|_| bad(format!("`{x}` is not a number")))
            })
            .collect::<Result<_, _>>()?;
        let (a, b, s) = (f[0], f[1], f[2]);
        if s.is_nan() || s <= 0.0 || !a.is_finite() || !b.is_finite() {
            return Err(bad("the step must be positive and the bounds finite".into()));
        }
        let mut out = Vec::new();
        for i in 0.. {
            // Round to 12 decimals so 0.1 + 2 × 0.1 is 0.3, not 0.30000000000000004.
            let v = ((a + i as f64 * s) * 1e12).round() / 1e12;
            if v >= b - s * 1e-9 {
                break;
            }
            if out.len() >= MAX_POINTS {
                return Err(bad(format!("more than {MAX_POINTS} values")));
            }
            out.push(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number));
        }
        if out.is_empty() {
            return Err(bad("the range is empty".into()));
        }
        return Ok(out);
    }
    // A whole TOML value (a list, a quoted string holding commas) is one value.
    if toml::from_str::<toml::Table>(&format!("v = {spec}")).is_ok() {
        return Ok(vec![parse_value(spec)]);
    }
    let parts = split_top_level(spec);
    Ok(parts.iter().map(|p| parse_value(p)).collect())
}

/// Split at commas outside brackets, braces and quotes.
fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut cur = String::new();
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// Every point of the product of the `-S` specs, in order (the last key varies fastest).
pub fn points(specs: &[String]) -> Result<Vec<Vec<Override>>, Error> {
    let mut points: Vec<Vec<Override>> = vec![Vec::new()];
    for raw in specs {
        let (k, spec) = raw.split_once('=').ok_or_else(|| Error::Usage {
            message: format!("`-S {raw}` is not KEY=VALUE"),
            hint: Some("for example `-S train.seed=3` or `-S params.yaml:train.lr=0.1`".into()),
        })?;
        let base = Override::parse(&format!("{k}=0"))?;
        let vals = values(raw, spec)?;
        if points.len().saturating_mul(vals.len()) > MAX_POINTS {
            return Err(Error::Usage {
                message: format!("the sweep has more than {MAX_POINTS} points"),
                hint: None,
            });
        }
        points = points
            .into_iter()
            .flat_map(|p| {
                let base = &base;
                vals.iter().map(move |v| {
                    let mut q = p.clone();
                    q.retain(|o| o.key != base.key);
                    q.push(Override {
                        key: base.key.clone(),
                        value: v.clone(),
                    });
                    q
                })
            })
            .collect();
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vals(spec: &str) -> Vec<Value> {
        values("k", spec).unwrap()
    }

    #[test]
    fn lists_ranges_and_products() {
        assert_eq!(vals("1,2,3"), vec![json!(1), json!(2), json!(3)]);
        assert_eq!(vals("[1, 2]"), vec![json!([1, 2])]);
        assert_eq!(vals("a,b"), vec![json!("a"), json!("b")]);
        assert_eq!(
            vals("range(0.1, 0.5, 0.1)"),
            vec![json!(0.1), json!(0.2), json!(0.3), json!(0.4)]
        );
        assert_eq!(vals("range(0, 10, 4)"), vec![json!(0), json!(4), json!(8)]);
        assert!(values("k", "range(1, 2)").is_err());
        let p = points(&["a=1,2,3".into(), "b=x,y".into()]).unwrap();
        assert_eq!(p.len(), 6);
        assert_eq!(p[1][0].value, json!(1));
        assert_eq!(p[1][1].value, json!("y"));
    }
}
