//! `[remotes.NAME]` of pipeline.toml: strict validation into [`RemoteConfig`]s, and the choice
//! of the remote a command talks to (`-r NAME`, else the default one).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::RemoteConfig;
use crate::error::Error;
use crate::manifest::RawRemote;
use crate::pipeline::PipelineError;

/// Keys a `[remotes.NAME]` table may hold.
pub const REMOTE_KEYS: &[&str] = &[
    "url",
    "default",
    "endpoint",
    "path_style",
    "region",
    "profile",
];

/// Builds an error at a span of pipeline.toml (the caller owns the file's text).
pub(crate) type ErrAt<'a> = &'a dyn Fn(Range<usize>, String) -> PipelineError;

/// Validate the raw `[remotes]` table. Unknown keys, wrong types, a missing `url`, an
/// unsupported URL scheme and two `default = true` are errors naming the line.
pub(crate) fn validate(
    raw: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawRemote>>>>,
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
        let mut url_seen = false;
        for (key, value) in table.into_inner() {
            let key_span = key.span();
            let key = key.into_inner();
            let vspan = value.span();
            let value = value.into_inner();
            let want_str = |v: &toml::Value| -> Result<String, PipelineError> {
                match v.as_str() {
                    Some(s) if !s.trim().is_empty() => Ok(s.to_string()),
                    _ => Err(err(
                        vspan.clone(),
                        format!("remote `{name}`: `{key}` must be a non-empty string"),
                    )),
                }
            };
            let want_bool = |v: &toml::Value| -> Result<bool, PipelineError> {
                v.as_bool().ok_or_else(|| {
                    err(
                        vspan.clone(),
                        format!("remote `{name}`: `{key}` must be true or false"),
                    )
                })
            };
            match key.as_str() {
                "url" => {
                    let url = want_str(&value)?;
                    if let Some((scheme, _)) = url.split_once("://") {
                        if scheme != "s3" {
                            return Err(err(
                                vspan,
                                format!("remote `{name}`: unsupported URL scheme `{scheme}://`"),
                            )
                            .with_hint("use `s3://bucket/prefix` or a directory path"));
                        }
                        if url.trim_start_matches("s3://").trim_matches('/').is_empty() {
                            return Err(err(
                                vspan,
                                format!("remote `{name}`: `{url}` names no bucket"),
                            )
                            .with_hint("write `s3://bucket` or `s3://bucket/prefix`"));
                        }
                    }
                    cfg.url = url;
                    url_seen = true;
                }
                "default" => {
                    cfg.default = want_bool(&value)?;
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
                "endpoint" => cfg.endpoint = Some(want_str(&value)?),
                "path_style" => cfg.path_style = Some(want_bool(&value)?),
                "region" => cfg.region = Some(want_str(&value)?),
                "profile" => cfg.profile = Some(want_str(&value)?),
                _ => {
                    return Err(
                        err(key_span, format!("remote `{name}`: unknown key `{key}`"))
                            .with_hint(format!("known keys: {}", REMOTE_KEYS.join(", "))),
                    )
                }
            }
        }
        if !url_seen {
            return Err(err(table_span, format!("remote `{name}` has no `url`"))
                .with_hint("add `url = \"s3://bucket/prefix\"` or `url = \"/path/to/dir\"`"));
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
