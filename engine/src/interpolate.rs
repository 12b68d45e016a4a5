//! `${KEY}` interpolation in a stage's `cmd`, `deps`, `outs`, `wdir` and `with`, done on the
//! raw stage before validation so that everything downstream sees ordinary text.
//!
//! A key resolves, in this order, against the member of a `foreach`/`matrix` stage (`item`,
//! `item.x`, `key`), the `[vars]` table (`vars.NAME`), a params file (`params.yaml:train.lr`,
//! the file relative to the workspace root) or the `[params]` table (`train.lr`, or spelt
//! `params.train.lr`). Params used this way are returned to the caller, which
//! tracks them (their values enter the fingerprint, as DVC does); vars are not params.
//!
//! A string that is exactly one `${…}` keeps the value's type (in `with`, and a list spliced
//! into `cmd`, `deps` or `outs`); inside a longer string a scalar is rendered as TOML prints it
//! (strings without quotes). `$${` is a literal `${`.

use std::ops::Range;

use serde_json::Value;

use crate::manifest::{RawCmd, RawOut, RawStage};
use crate::params::{ParamKey, ParamStore, ParamsError};
use crate::pipeline::{Ctx, PipelineError};

/// What `${item}` and `${key}` mean inside one member of a `foreach`/`matrix` stage.
#[derive(Debug, Default)]
pub struct Scope {
    pub item: Option<Value>,
    pub key: Option<String>,
}

/// The sources keys resolve against, shared by every stage of one pipeline: the params are
/// read once through the store, `[vars]` converted once.
pub struct Resolver<'a> {
    pub store: &'a mut ParamStore,
    pub vars: Value,
}

/// Why one `${expr}` could not be resolved or rendered.
#[derive(Debug)]
pub struct Failure {
    /// The text between the braces (empty for a syntax error).
    pub expr: String,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    fn new(expr: &str, message: impl Into<String>, hint: Option<String>) -> Failure {
        Failure {
            expr: expr.to_string(),
            message: message.into(),
            hint,
        }
    }
}

/// A piece of a template string.
enum Piece<'s> {
    Text(&'s str),
    Expr(&'s str),
}

/// Split `s` into literal text and `${…}` expressions; `$${` is a literal `${`. `None` when the
/// string has nothing to interpolate (the common case, free of allocation).
fn pieces(s: &str) -> Result<Option<Vec<Piece<'_>>>, Failure> {
    if !s.contains("${") {
        return Ok(None);
    }
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            // `$${`: the escape. Keep one `$` and the brace, go on after it.
            out.push(Piece::Text(&rest[..at - 1]));
            out.push(Piece::Text("${"));
            rest = &rest[at + 2..];
            continue;
        }
        out.push(Piece::Text(&rest[..at]));
        let body = &rest[at + 2..];
        let Some(end) = body.find('}') else {
            return Err(Failure::new(
                "",
                format!("unterminated `${{` in `{s}`"),
                Some("close it with `}`, or write `$${` for a literal `${`".into()),
            ));
        };
        let expr = body[..end].trim();
        if expr.is_empty() || expr.contains("${") {
            return Err(Failure::new(
                expr,
                format!("invalid interpolation `${{{}}}`", &body[..end]),
                Some("write `${KEY}` with one key, e.g. `${train.lr}` or `${vars.NAME}`".into()),
            ));
        }
        out.push(Piece::Expr(expr));
        rest = &body[end + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(Some(out))
}

/// Step into `v` along dotted `path` (tables by key, lists by index).
fn walk<'v>(mut v: &'v Value, path: &str) -> Option<&'v Value> {
    for part in path.split('.') {
        v = match v {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// A scalar as TOML prints it, strings without quotes; `None` for a list, table or null.
pub fn render_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => toml::Value::Float(f).to_string(),
            _ => n.to_string(),
        }),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
        _ => "a scalar",
    }
}

/// JSON (params, vars) back to TOML for `with`; `None` for a null anywhere inside.
fn json_to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(a) => toml::Value::Array(a.iter().map(json_to_toml).collect::<Option<_>>()?),
        Value::Object(m) => toml::Value::Table(
            m.iter()
                .map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

impl Resolver<'_> {
    /// The value of one key, recording a param it reads in `used`.
    pub fn resolve(
        &mut self,
        expr: &str,
        scope: &Scope,
        used: &mut Vec<ParamKey>,
    ) -> Result<Value, Failure> {
        let unknown =
            |hint: String| Failure::new(expr, format!("unknown key `${{{expr}}}`"), Some(hint));
        let (head, tail) = match expr.split_once('.') {
            Some((h, t)) => (h, Some(t)),
            None => (expr, None),
        };
        if head == "item" && !expr.contains(':') {
            if let Some(item) = &scope.item {
                return match tail {
                    None => Ok(item.clone()),
                    Some(path) => walk(item, path)
                        .cloned()
                        .ok_or_else(|| unknown(format!("`item` here is {}", short(item)))),
                };
            }
        }
        if expr == "key" {
            if let Some(k) = &scope.key {
                return Ok(Value::String(k.clone()));
            }
        }
        if head == "vars" && !expr.contains(':') {
            return match tail {
                None => Ok(self.vars.clone()),
                Some(path) => walk(&self.vars, path).cloned().ok_or_else(|| {
                    let names: Vec<&str> = match &self.vars {
                        Value::Object(m) => m.keys().map(String::as_str).collect(),
                        _ => Vec::new(),
                    };
                    unknown(if names.is_empty() {
                        "pipeline.toml has no `[vars]` table".to_string()
                    } else {
                        let first = path.split('.').next().unwrap_or(path);
                        match crate::suggest::closest(first, names.iter().copied()) {
                            Some(s) if s != first => {
                                format!("did you mean `vars.{s}`? vars: {}", names.join(", "))
                            }
                            _ => format!("vars: {}", names.join(", ")),
                        }
                    })
                }),
            };
        }
        let key = ParamKey::parse(expr).map_err(|e| Failure::new(expr, e, None))?;
        let mut found = self.store.lookup(&key).map(|v| (v, key));
        if let (Err(ParamsError::Missing { .. }), "params", Some(rest)) = (&found, head, tail) {
            // `${params.train.lr}`: the `[params]` table named explicitly.
            let key = ParamKey {
                file: None,
                key: rest.to_string(),
            };
            if let Ok(v) = self.store.lookup(&key) {
                found = Ok((v, key));
            }
        }
        match found {
            Ok((v, key)) => {
                if !used.contains(&key) {
                    used.push(key);
                }
                Ok(v)
            }
            Err(ParamsError::Missing { .. }) => Err(unknown(match head {
                "item" | "key" => format!(
                    "`{head}` is defined only in a `foreach` or `matrix` stage{}",
                    if head == "key" { " over a table" } else { "" }
                ),
                _ => "a key is `item`, `key`, `vars.NAME`, a key of `[params]` (`train.lr`) or of a params file (`params.yaml:train.lr`)".to_string(),
            })),
            Err(e) => Err(Failure::new(expr, e.to_string(), None)),
        }
    }

    /// `s` with every `${…}` rendered; `None` when `s` holds none. A string that is one whole
    /// `${…}` resolving to a list or table is an error here (see [`Self::whole`]).
    pub fn string(
        &mut self,
        s: &str,
        scope: &Scope,
        used: &mut Vec<ParamKey>,
    ) -> Result<Option<String>, Failure> {
        let Some(pieces) = pieces(s)? else {
            return Ok(None);
        };
        let mut out = String::with_capacity(s.len());
        for p in pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Expr(e) => {
                    let v = self.resolve(e, scope, used)?;
                    let Some(text) = render_scalar(&v) else {
                        return Err(Failure::new(
                            e,
                            format!("`${{{e}}}` is {} and cannot be part of a string", kind(&v)),
                            Some(match v {
                                Value::Null => "give the key a value".to_string(),
                                _ => {
                                    "name one of its values (`${KEY.0}`, `${KEY.NAME}`)".to_string()
                                }
                            }),
                        ));
                    };
                    out.push_str(&text);
                }
            }
        }
        Ok(Some(out))
    }

    /// The typed value of a string that is exactly one `${…}` (`None` otherwise).
    pub fn whole(
        &mut self,
        s: &str,
        scope: &Scope,
        used: &mut Vec<ParamKey>,
    ) -> Result<Option<Value>, Failure> {
        let Some(body) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
            return Ok(None);
        };
        if body.contains('}') || body.contains("${") {
            return Ok(None);
        }
        let expr = body.trim();
        if expr.is_empty() {
            return Err(Failure::new(
                "",
                "invalid interpolation `${}`",
                Some("write `${KEY}`".into()),
            ));
        }
        self.resolve(expr, scope, used).map(Some)
    }

    /// A list field's element: a whole `${…}` naming a list splices its (scalar) elements,
    /// anything else is one interpolated string.
    fn element(
        &mut self,
        s: &str,
        scope: &Scope,
        used: &mut Vec<ParamKey>,
    ) -> Result<Option<Vec<String>>, Failure> {
        if let Some(Value::Array(items)) = self.whole(s, scope, used)? {
            let expr = s[2..s.len() - 1].trim();
            return items
                .iter()
                .map(|v| {
                    render_scalar(v).ok_or_else(|| {
                        Failure::new(
                            expr,
                            format!(
                                "`${{{expr}}}` holds {}; a list here must hold scalars",
                                kind(v)
                            ),
                            None,
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some);
        }
        Ok(self.string(s, scope, used)?.map(|one| vec![one]))
    }

    /// A `with` value: whole `${…}` strings keep their type, others are rendered; tables and
    /// lists are walked.
    fn with_value(
        &mut self,
        v: &mut toml::Value,
        scope: &Scope,
        used: &mut Vec<ParamKey>,
    ) -> Result<(), Failure> {
        match v {
            toml::Value::String(s) => {
                if let Some(typed) = self.whole(s, scope, used)? {
                    let expr = s[2..s.len() - 1].trim().to_string();
                    *v = json_to_toml(&typed).ok_or_else(|| {
                        Failure::new(
                            &expr,
                            format!("`${{{expr}}}` is null (or holds one), which TOML cannot hold"),
                            Some("give the key a value".into()),
                        )
                    })?;
                } else if let Some(text) = self.string(s, scope, used)? {
                    *s = text;
                }
            }
            toml::Value::Array(a) => {
                for x in a {
                    self.with_value(x, scope, used)?;
                }
            }
            toml::Value::Table(t) => {
                for (_, x) in t.iter_mut() {
                    self.with_value(x, scope, used)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Interpolate every field of `raw` in place; the params read are added to `used`. An
    /// error names the stage, the field and the place of the `${…}` in the file.
    pub(crate) fn stage(
        &mut self,
        cx: &Ctx<'_>,
        name: &str,
        raw: &mut RawStage,
        scope: &Scope,
        used: &mut Vec<ParamKey>,
    ) -> Result<(), PipelineError> {
        let fail = |field: &str, span: Range<usize>, f: Failure| {
            let err = cx.err(
                locate(cx.src, span, &f.expr),
                format!("stage `{name}`: {field}: {}", f.message),
            );
            match f.hint {
                Some(h) => err.with_hint(h),
                None => err,
            }
        };
        if let Some(cmd) = &mut raw.cmd {
            let span = cmd.span();
            let list = match cmd.get_mut() {
                RawCmd::One(s) => std::slice::from_mut(s),
                RawCmd::Many(v) => v.as_mut_slice(),
            };
            let mut out: Option<Vec<String>> = None;
            for (i, s) in list.iter().enumerate() {
                let got = self
                    .element(s, scope, used)
                    .map_err(|f| fail("cmd", span.clone(), f))?;
                match (got, &mut out) {
                    (Some(new), Some(o)) => o.extend(new),
                    (Some(new), None) => {
                        let mut o: Vec<String> = list[..i].to_vec();
                        o.extend(new);
                        out = Some(o);
                    }
                    (None, Some(o)) => o.push(s.clone()),
                    (None, None) => {}
                }
            }
            if let Some(o) = out {
                let was_one = matches!(cmd.get_ref(), RawCmd::One(_));
                *cmd.get_mut() = match <[String; 1]>::try_from(o) {
                    Ok([one]) if was_one => RawCmd::One(one),
                    Ok([one]) => RawCmd::Many(vec![one]),
                    Err(many) => RawCmd::Many(many),
                };
            }
        }
        if raw.deps.iter().any(|d| d.get_ref().contains("${")) {
            let mut deps = Vec::with_capacity(raw.deps.len());
            for d in std::mem::take(&mut raw.deps) {
                match self
                    .element(d.get_ref(), scope, used)
                    .map_err(|f| fail("deps", d.span(), f))?
                {
                    Some(list) => deps.extend(list.into_iter().map(|s| respan(&d, s))),
                    None => deps.push(d),
                }
            }
            raw.deps = deps;
        }
        if raw.outs.iter().any(|o| match o.get_ref() {
            RawOut::Path(s) => s.contains("${"),
            RawOut::Table(t) => t.path.contains("${"),
        }) {
            let mut outs = Vec::with_capacity(raw.outs.len());
            for o in std::mem::take(&mut raw.outs) {
                let span = o.span();
                let mut o = o;
                match o.get_mut() {
                    RawOut::Path(s) => {
                        if let Some(list) = self
                            .element(s, scope, used)
                            .map_err(|f| fail("outs", span.clone(), f))?
                        {
                            for p in list {
                                outs.push(respan(&o, RawOut::Path(p)));
                            }
                            continue;
                        }
                    }
                    RawOut::Table(t) => {
                        if let Some(p) = self
                            .string(&t.path, scope, used)
                            .map_err(|f| fail("outs", span.clone(), f))?
                        {
                            t.path = p;
                        }
                    }
                }
                outs.push(o);
            }
            raw.outs = outs;
        }
        if let Some(w) = &mut raw.wdir {
            let span = w.span();
            if let Some(s) = self
                .string(w.get_ref(), scope, used)
                .map_err(|f| fail("wdir", span, f))?
            {
                *w.get_mut() = s;
            }
        }
        if let Some(with) = &mut raw.with {
            let span = with.span();
            for (key, v) in with.get_mut().iter_mut() {
                self.with_value(v, scope, used)
                    .map_err(|f| fail(&format!("with.{key}"), span.clone(), f))?;
            }
        }
        Ok(())
    }
}

/// A new value at the same place in the file.
fn respan<T, U>(at: &toml::Spanned<T>, value: U) -> toml::Spanned<U> {
    toml::Spanned::new(at.span(), value)
}

/// The span of `${expr}` (as written, spaces allowed inside the braces) within `span`, so an
/// error points at the key itself; `span` when not found (an escape sequence in the string).
pub fn locate(src: &str, span: Range<usize>, expr: &str) -> Range<usize> {
    let Some(text) = src.get(span.clone()) else {
        return span;
    };
    let mut from = 0;
    while let Some(at) = text[from..].find("${") {
        let start = from + at;
        if let Some(end) = text[start..].find('}') {
            if text[start + 2..start + end].trim() == expr && !text[..start].ends_with('$') {
                return span.start + start..span.start + start + end + 1;
            }
        }
        from = start + 2;
    }
    span
}

/// A value shortened for a message.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn resolver(store: &mut ParamStore) -> Resolver<'_> {
        Resolver {
            store,
            vars: serde_json::json!({"name": "forest", "list": ["a", "b"], "n": 3}),
        }
    }

    #[test]
    fn strings_render_scalars_and_escape() {
        let t: toml::Table =
            toml::from_str("[train]\nlr = 0.1\nepochs = 10\nfast = true\n").unwrap();
        let mut store = ParamStore::new(Path::new("/nonexistent"), Some(&t));
        let mut r = resolver(&mut store);
        let mut used = Vec::new();
        let s = Scope::default();
        let got = r
            .string(
                "fit ${train.lr} ${ train.epochs } ${train.fast} ${vars.name} $${HOME}",
                &s,
                &mut used,
            )
            .unwrap()
            .unwrap();
        assert_eq!(got, "fit 0.1 10 true forest ${HOME}");
        assert_eq!(
            used.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["train.lr", "train.epochs", "train.fast"]
        );
        assert!(r.string("plain $HOME", &s, &mut used).unwrap().is_none());
        let e = r.string("x ${vars.list}", &s, &mut used).unwrap_err();
        assert!(e.message.contains("a list"), "{e:?}");
        let e = r.string("x ${vars.nam}", &s, &mut used).unwrap_err();
        assert!(e.hint.unwrap().contains("did you mean `vars.name`?"));
        assert_eq!(
            r.string("x ${params.train.lr}", &s, &mut used)
                .unwrap()
                .unwrap(),
            "x 0.1"
        );
        assert!(r.string("x ${params.train.nope}", &s, &mut used).is_err());
        assert!(r.string("x ${oops", &s, &mut used).is_err());
        let whole = r.whole("${vars.list}", &s, &mut used).unwrap();
        assert_eq!(whole, Some(serde_json::json!(["a", "b"])));
        let item = Scope {
            item: Some(serde_json::json!({"m": "rf", "seed": 2})),
            key: None,
        };
        assert_eq!(
            r.string("${item.m}-${item.seed}", &item, &mut used)
                .unwrap()
                .unwrap(),
            "rf-2"
        );
    }

    #[test]
    fn with_values_keep_their_type() {
        let mut store = ParamStore::new(Path::new("/nonexistent"), None);
        let mut r = resolver(&mut store);
        let mut used = Vec::new();
        let t: toml::Table =
            toml::from_str("a = \"${vars.n}\"\nb = \"n=${vars.n}\"\nc = [\"${vars.list}\"]\n")
                .unwrap();
        let mut v = toml::Value::Table(t);
        r.with_value(&mut v, &Scope::default(), &mut used).unwrap();
        assert_eq!(v["a"], toml::Value::Integer(3));
        assert_eq!(v["b"], toml::Value::String("n=3".into()));
        assert_eq!(
            v["c"],
            toml::Value::Array(vec![toml::Value::Array(vec!["a".into(), "b".into()])])
        );
        assert!(used.is_empty());
    }

    #[test]
    fn locate_points_at_the_key() {
        let src = "cmd = \"echo $${x} ${ a.b }\"";
        let span = 6..src.len();
        assert_eq!(&src[locate(src, span.clone(), "a.b")], "${ a.b }");
        assert_eq!(locate(src, span.clone(), "x"), span);
    }
}
