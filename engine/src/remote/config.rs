//! `[remotes.NAME]` of pipeline.toml: strict validation into [`RemoteConfig`]s, and the choice
//! of the remote a command talks to (`-r NAME`, else the default one).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::backend::{scheme_of, RemoteBackends};
use super::RemoteConfig;
use crate::error::Error;
use crate::manifest::RawRemote;
use crate::pipeline::PipelineError;

/// Keys every `[remotes.NAME]` table may hold; a backend adds its own.
pub const REMOTE_KEYS: &[&str] = &["url", "default", super::unfinished::STALE_AFTER_KEY];

/// Builds an error at a span of pipeline.toml (the caller owns the file's text).
pub(crate) type ErrAt<'a> = &'a dyn Fn(Range<usize>, String) -> PipelineError;

/// Validate the raw `[remotes]` table. Unknown keys (with a suggestion), wrong types, a
/// missing `url`, a scheme no backend serves, options the backend refuses and two
/// `default = true` are errors naming the line.
pub(crate) fn validate(
    raw: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawRemote>>>>,
    backends: &RemoteBackends,
    err: ErrAt<'_>,
) -> Result<BTreeMap<String, RemoteConfig>, PipelineError> {
    let mut out = BTreeMap::new();
    let Some(raw) = raw else {
        return Ok(out);
    };
    let mut default_at: Option<String> = None;
    for (name, table) in raw.into_inner() {
        let name_span = name.span();
        let name = name.into_inner();
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(err(name_span, format!("invalid remote name `{name}`"))
                .with_hint("remote names may not contain whitespace or `/`"));
        }
        let table_span = table.span();
        let mut cfg = RemoteConfig {
            name: name.clone(),
            ..Default::default()
        };
        let mut url_span = None;
        let mut spans: BTreeMap<String, Range<usize>> = BTreeMap::new();
        for (key, value) in table.into_inner() {
            let key_span = key.span();
            let key = key.into_inner();
            let vspan = value.span();
            let value = value.into_inner();
            match key.as_str() {
                "url" => {
                    cfg.url = match value.as_str() {
                        Some(s) if !s.trim().is_empty() => s.to_string(),
                        _ => {
                            return Err(err(
                                vspan,
                                format!("remote `{name}`: `url` must be a non-empty string"),
                            ))
                        }
                    };
                    url_span = Some(vspan);
                }
                "default" => {
                    cfg.default = value.as_bool().ok_or_else(|| {
                        err(
                            vspan.clone(),
                            format!("remote `{name}`: `default` must be true or false"),
                        )
                    })?;
                    if cfg.default {
                        if let Some(first) = &default_at {
                            return Err(err(
                                vspan,
                                format!("remotes `{first}` and `{name}` are both `default = true`"),
                            )
                            .with_hint("mark one remote as the default"));
                        }
                        default_at = Some(name.clone());
                    }
                }
                super::unfinished::STALE_AFTER_KEY => {
                    super::unfinished::parse_stale_after(&value)
                        .map_err(|m| err(vspan, format!("remote `{name}`: {m}")))?;
                    cfg.options.insert(key, value);
                }
                _ => {
                    spans.insert(key.clone(), key_span);
                    cfg.options.insert(key, value);
                }
            }
        }
        let Some(url_span) = url_span else {
            return Err(err(table_span, format!("remote `{name}` has no `url`"))
                .with_hint("add `url = \"s3://bucket/prefix\"` or `url = \"/path/to/dir\"`"));
        };
        let backend = match scheme_of(&cfg.url) {
            None => None,
            Some(scheme) => match backends.get(scheme) {
                Some(b) => Some(b),
                None => {
                    let known: Vec<String> = backends
                        .schemes()
                        .iter()
                        .map(|s| format!("`{s}://…`"))
                        .collect();
                    return Err(err(
                        url_span,
                        format!("remote `{name}`: unsupported URL scheme `{scheme}://`"),
                    )
                    .with_hint(format!(
                        "use {} or a directory path",
                        if known.is_empty() {
                            "-".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
            },
        };
        let allowed: Vec<&str> = REMOTE_KEYS
            .iter()
            .chain(backend.map_or(&[][..], |b| b.option_keys()))
            .copied()
            .collect();
        for (key, span) in &spans {
            if !allowed.contains(&key.as_str()) {
                let hint = match crate::suggest::closest(key, allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`? known keys: {}", allowed.join(", ")),
                    None => format!("known keys: {}", allowed.join(", ")),
                };
                return Err(err(
                    span.clone(),
                    format!("remote `{name}`: unknown key `{key}`"),
                )
                .with_hint(hint));
            }
        }
        if let Some(b) = backend {
            if let Err((key, message)) = b.check(&cfg.url, &cfg.options) {
                let span = match key.as_str() {
                    "url" => url_span,
                    k => spans.get(k).cloned().unwrap_or(table_span),
                };
                return Err(err(span, format!("remote `{name}`: {message}")));
            }
        }
        out.insert(name, cfg);
    }
    Ok(out)
}

/// The snippet shown when a command needs a remote and none is declared.
pub const REMOTE_SNIPPET: &str =
    "declare one in pipeline.toml:\n\n    [remotes.origin]\n    url = \"s3://my-bucket/netsec\"   # or a directory: \"/srv/netsec-remote\"\n";

/// The remote to use: `name` if given, else the one marked `default = true`, else the only one.
pub fn select<'a>(
    remotes: &'a BTreeMap<String, RemoteConfig>,
    name: Option<&str>,
) -> Result<&'a RemoteConfig, Error> {
    if let Some(n) = name {
        return remotes.get(n).ok_or_else(|| Error::Usage {
            message: format!("no remote named `{n}` in pipeline.toml"),
            hint: Some(if remotes.is_empty() {
                REMOTE_SNIPPET.to_string()
            } else {
                format!(
                    "remotes: {}",
                    remotes.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            }),
        });
    }
    if let Some(d) = remotes.values().find(|r| r.default) {
        return Ok(d);
    }
    if let (1, Some(only)) = (remotes.len(), remotes.values().next()) {
        return Ok(only);
    }
    match remotes.len() {
        0 => Err(Error::Usage {
            message: "no remote is configured".into(),
            hint: Some(REMOTE_SNIPPET.to_string()),
        }),
        _ => Err(Error::Usage {
            message: format!(
                "several remotes ({}) and none is the default",
                remotes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            hint: Some("pass `-r NAME`, or set `default = true` on one of them".into()),
        }),
    }
}
