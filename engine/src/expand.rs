//! `foreach` and `matrix`: one stage definition expanded into members named `NAME@KEY`
//! (`score@dev`, `fit@forest-1`), each then interpolated and validated as an ordinary stage.
//!
//! - `foreach = [..]`: one member per element, `${item}` the element. Scalars name the member
//!   (`score@dev`); when any element is a list or table, members are numbered (`NAME@0`), as DVC
//!   does.
//! - `foreach = { KEY = VALUE, .. }`: one member per key, `${key}` the key, `${item}` the value.
//! - `matrix = { AXIS = [..], .. }`: the Cartesian product, `${item.AXIS}` the value of each
//!   axis; the name joins the values in declaration order with `-`.
//!
//! `foreach`, and each matrix axis, may instead be one `${vars.NAME}` or `${params.key}`
//! (a key of `[params]` or `file:key`). That source is not tracked by the members (a change
//! that matters reaches them through the text `${item}` produces).

use std::collections::HashSet;
use std::ops::Range;

use serde_json::Value;
use toml::Spanned;

use crate::interpolate::{render_scalar, Resolver, Scope};
use crate::manifest::RawStage;
use crate::params::toml_to_json;
use crate::pipeline::{Ctx, PipelineError, MAX_STAGE_NAME};

/// Most members one definition may expand to (a matrix grows as the product of its axes).
pub const MAX_MEMBERS: usize = 100_000;

/// One expanded member: its stage name and what `${item}`/`${key}` mean in it.
#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub scope: Scope,
}

/// The members of `raw` named `name`, or `None` when it has neither `foreach` nor `matrix`.
pub(crate) fn members(
    cx: &Ctx<'_>,
    name: &str,
    raw: &RawStage,
    resolver: &mut Resolver<'_>,
) -> Result<Option<Vec<Member>>, PipelineError> {
    let out = match (&raw.foreach, &raw.matrix) {
        (None, None) => return Ok(None),
        (Some(_), Some(m)) => {
            return Err(cx
                .err(
                    m.span(),
                    format!("stage `{name}` has both `foreach` and `matrix`"),
                )
                .with_hint("use one: `matrix` already expands over every combination"))
        }
        (Some(f), None) => foreach(cx, name, f, resolver)?,
        (None, Some(m)) => matrix(cx, name, m, resolver)?,
    };
    let mut seen = HashSet::with_capacity(out.len());
    for m in &out {
        if !seen.insert(m.name.as_str()) {
            let at = raw
                .foreach
                .as_ref()
                .map(Spanned::span)
                .or_else(|| raw.matrix.as_ref().map(Spanned::span))
                .unwrap_or(0..0);
            return Err(cx
                .err(at, format!("stage `{name}` expands to `{}` twice", m.name))
                .with_hint("the values must give distinct names (a matrix joins them with `-`)"));
        }
    }
    Ok(Some(out))
}

/// A `${…}` source (foreach, or a matrix axis) resolved, or the literal value as JSON.
fn source(
    cx: &Ctx<'_>,
    name: &str,
    what: &str,
    v: &Spanned<toml::Value>,
    resolver: &mut Resolver<'_>,
) -> Result<Value, PipelineError> {
    let toml::Value::String(s) = v.get_ref() else {
        return Ok(toml_to_json(v.get_ref()));
    };
    let mut untracked = Vec::new();
    match resolver.whole(s, &Scope::default(), &mut untracked) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(cx
            .err(
                v.span(),
                format!("stage `{name}`: {what} is the string `{s}`"),
            )
            .with_hint(format!(
                "{what} takes a list{}, or one `${{vars.NAME}}` or `${{params.key}}` naming one",
                if what == "foreach" { " or a table" } else { "" }
            ))),
        Err(f) => {
            let err = cx.err(
                crate::interpolate::locate(cx.src, v.span(), &f.expr),
                format!("stage `{name}`: {what}: {}", f.message),
            );
            Err(match f.hint {
                Some(h) => err.with_hint(h),
                None => err,
            })
        }
    }
}

/// `value` as the part of a member name after `@`, or why it cannot be one.
fn name_part(value: &Value) -> Result<String, String> {
    let Some(s) = render_scalar(value) else {
        return Err(format!(
            "{} cannot be part of a stage name",
            describe(value)
        ));
    };
    if s.is_empty() {
        return Err("an empty string cannot be part of a stage name".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, ':' | '/' | '@'))
    {
        return Err(format!(
            "`{}` cannot be part of a stage name (it holds {:?})",
            s.escape_debug(),
            c
        ));
    }
    Ok(s)
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "a null value",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
        _ => "this value",
    }
}

fn member_name(
    cx: &Ctx<'_>,
    name: &str,
    suffix: &str,
    span: Range<usize>,
) -> Result<String, PipelineError> {
    let full = format!("{name}@{suffix}");
    if full.len() > MAX_STAGE_NAME {
        return Err(cx
            .err(
                span,
                format!(
                    "stage `{name}`: member name `{full}` is longer than {MAX_STAGE_NAME} bytes"
                ),
            )
            .with_hint("use shorter values, or a table (`foreach = { short = … }`) to name them"));
    }
    Ok(full)
}

fn too_many(cx: &Ctx<'_>, name: &str, span: Range<usize>, n: usize) -> PipelineError {
    cx.err(
        span,
        format!("stage `{name}` expands to {n} stages; at most {MAX_MEMBERS} are allowed"),
    )
    .with_hint("split the definition, or shorten its lists")
}

fn foreach(
    cx: &Ctx<'_>,
    name: &str,
    f: &Spanned<toml::Value>,
    resolver: &mut Resolver<'_>,
) -> Result<Vec<Member>, PipelineError> {
    let span = f.span();
    let bad = |message: String| {
        cx.err(span.clone(), format!("stage `{name}`: foreach: {message}"))
            .with_hint("values that name members are non-empty strings, numbers or booleans without whitespace, `:`, `/` or `@`; use a table to name them yourself")
    };
    match source(cx, name, "foreach", f, resolver)? {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(cx
                    .err(span, format!("stage `{name}`: `foreach` is an empty list"))
                    .with_hint(
                        "a stage with no members would never run; remove it or add values",
                    ));
            }
            if items.len() > MAX_MEMBERS {
                return Err(too_many(cx, name, span, items.len()));
            }
            let numbered = items
                .iter()
                .any(|v| matches!(v, Value::Array(_) | Value::Object(_)));
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let part = if numbered {
                        i.to_string()
                    } else {
                        name_part(&item).map_err(&bad)?
                    };
                    Ok(Member {
                        name: member_name(cx, name, &part, span.clone())?,
                        scope: Scope {
                            item: Some(item),
                            key: None,
                        },
                    })
                })
                .collect()
        }
        Value::Object(map) => {
            if map.is_empty() {
                return Err(cx
                    .err(span, format!("stage `{name}`: `foreach` is an empty table"))
                    .with_hint(
                        "a stage with no members would never run; remove it or add values",
                    ));
            }
            if map.len() > MAX_MEMBERS {
                return Err(too_many(cx, name, span, map.len()));
            }
            map.into_iter()
                .map(|(k, item)| {
                    let part = name_part(&Value::String(k.clone())).map_err(&bad)?;
                    Ok(Member {
                        name: member_name(cx, name, &part, span.clone())?,
                        scope: Scope {
                            item: Some(item),
                            key: Some(k),
                        },
                    })
                })
                .collect()
        }
        other => Err(cx
            .err(
                span,
                format!(
                    "stage `{name}`: `foreach` is {}, not a list or a table",
                    match other {
                        Value::String(_) => "a string",
                        Value::Number(_) => "a number",
                        Value::Bool(_) => "a boolean",
                        _ => "null",
                    }
                ),
            )
            .with_hint("write `foreach = [\"a\", \"b\"]` or `foreach = { a = …, b = … }`")),
    }
}

fn matrix(
    cx: &Ctx<'_>,
    name: &str,
    m: &Spanned<crate::manifest::RawMatrix>,
    resolver: &mut Resolver<'_>,
) -> Result<Vec<Member>, PipelineError> {
    if m.get_ref().0.is_empty() {
        return Err(cx
            .err(
                m.span(),
                format!("stage `{name}`: `matrix` is an empty table"),
            )
            .with_hint("write `matrix = { model = [\"a\", \"b\"], seed = [1, 2] }`"));
    }
    // Each axis: its name, its values, and each value's name part.
    let mut axes: Vec<(String, Vec<(Value, String)>)> = Vec::new();
    let mut total: usize = 1;
    for (axis, values) in &m.get_ref().0 {
        let span = values.span();
        let Value::Array(items) = source(cx, name, "a matrix axis", values, resolver)? else {
            return Err(cx
                .err(
                    span,
                    format!(
                        "stage `{name}`: matrix axis `{}` is not a list",
                        axis.get_ref()
                    ),
                )
                .with_hint(format!("write `{} = [value, …]`", axis.get_ref())));
        };
        if items.is_empty() {
            return Err(cx
                .err(
                    span,
                    format!(
                        "stage `{name}`: matrix axis `{}` is an empty list",
                        axis.get_ref()
                    ),
                )
                .with_hint(
                    "a matrix with an empty axis has no members; remove the axis or add values",
                ));
        }
        total = total.saturating_mul(items.len());
        if total > MAX_MEMBERS {
            return Err(too_many(cx, name, m.span(), total));
        }
        let named = items
            .into_iter()
            .map(|v| {
                let part = name_part(&v).map_err(|e| {
                    cx.err(
                        span.clone(),
                        format!("stage `{name}`: matrix axis `{}`: {e}", axis.get_ref()),
                    )
                    .with_hint("matrix values are non-empty strings, numbers or booleans without whitespace, `:`, `/` or `@`; use `foreach` over a table for richer values")
                })?;
                Ok((v, part))
            })
            .collect::<Result<Vec<_>, PipelineError>>()?;
        axes.push((axis.get_ref().clone(), named));
    }
    let mut out = Vec::with_capacity(total);
    let mut at = vec![0usize; axes.len()];
    loop {
        let mut item = serde_json::Map::new();
        let mut parts = Vec::with_capacity(axes.len());
        for ((axis, values), &i) in axes.iter().zip(&at) {
            item.insert(axis.clone(), values[i].0.clone());
            parts.push(values[i].1.as_str());
        }
        out.push(Member {
            name: member_name(cx, name, &parts.join("-"), m.span())?,
            scope: Scope {
                item: Some(Value::Object(item)),
                key: None,
            },
        });
        // The next combination, the last axis turning fastest.
        let mut k = axes.len();
        loop {
            if k == 0 {
                return Ok(out);
            }
            k -= 1;
            at[k] += 1;
            if at[k] < axes[k].1.len() {
                break;
            }
            at[k] = 0;
        }
    }
}
