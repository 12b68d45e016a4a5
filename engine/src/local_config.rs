//! `.netsec/config.local.toml`: personal settings that override pipeline.toml and never enter
//! git (`.netsec/` is not committed), so a personal remote path, endpoint or cluster account
//! stays out of the shared file. It holds `[remotes.NAME]` tables, written by
//! `netsec remote … --local`, and an `[executor]` table (partition, account… laid key by key
//! over pipeline.toml's, see `apply_executor`). For remotes:
//!
//! - a name pipeline.toml does not declare adds a remote;
//! - a name it declares is overridden key by key (`url`, `default`, backend options); the
//!   table may leave out `url` then;
//! - `default = true` here makes that remote the default, whatever pipeline.toml marks.
//!
//! Errors name this file, line and column, like pipeline.toml's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::manifest::RawRemote;
use crate::pipeline::{Ctx, PipelineError};
use crate::remote::{RemoteBackends, RemoteConfig};

/// Where the local config lives, relative to the repository root.
pub const LOCAL_CONFIG: &str = ".netsec/config.local.toml";
const MAX_BYTES: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLocal {
    #[serde(default)]
    remotes: Option<Spanned<BTreeMap<Spanned<String>, Spanned<RawRemote>>>>,
    /// `[executor]`, laid key by key over pipeline.toml's (`apply_executor`).
    #[serde(default)]
    executor: Option<Spanned<RawRemote>>,
}

/// Apply the local config under `root` (if any) to the remotes of pipeline.toml.
pub fn apply(
    root: &Path,
    shared: &mut BTreeMap<String, RemoteConfig>,
    backends: &RemoteBackends,
) -> Result<(), PipelineError> {
    let path = root.join(LOCAL_CONFIG);
    let src = match netsec_common::read_regular_string(&path, Some(MAX_BYTES)) {
        Ok(s) => s,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => {
            return Err(PipelineError {
                message: format!("cannot read `{LOCAL_CONFIG}`: {e}"),
                ..Default::default()
            })
        }
    };
    apply_text(&src, shared, backends)
}

/// Lay the local config's `[executor]` table (if any) over pipeline.toml's, key by key, so a
/// personal cluster account or partition never enters the shared file.
pub fn apply_executor(
    root: &Path,
    executor: &mut crate::run_settings::ExecutorConfig,
) -> Result<(), PipelineError> {
    let src = match netsec_common::read_regular_string(&root.join(LOCAL_CONFIG), Some(MAX_BYTES)) {
        Ok(s) => s,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => {
            return Err(PipelineError {
                message: format!("cannot read `{LOCAL_CONFIG}`: {e}"),
                ..Default::default()
            })
        }
    };
    let cx = Ctx {
        src: &src,
        file: PathBuf::from(LOCAL_CONFIG),
    };
    if let Some((span, depth)) = crate::manifest::too_deep(&src) {
        return Err(cx.err(span, format!("nested {depth} levels deep")));
    }
    let raw: RawLocal = toml::from_str(&src).map_err(|e| {
        let msg = e.message().to_string();
        cx.err(e.span().unwrap_or(0..0), format!("invalid TOML: {msg}"))
            .with_hint("this file holds `[remotes.NAME]` tables and an `[executor]` table")
    })?;
    if let Some(t) = &raw.executor {
        *executor = crate::run_settings::executor_config(t, executor.clone(), &|span, msg| {
            cx.err(span, msg)
        })?;
    }
    Ok(())
}

/// [`apply`] with the local config's text given (to validate an edit before writing it).
pub fn apply_text(
    src: &str,
    shared: &mut BTreeMap<String, RemoteConfig>,
    backends: &RemoteBackends,
) -> Result<(), PipelineError> {
    let local = parse(src, shared, backends)?;
    merge(shared, local);
    Ok(())
}

/// The local remotes as written (validated; names pipeline.toml declares may omit `url`),
/// each with whether it set `default` itself.
fn parse(
    src: &str,
    shared: &BTreeMap<String, RemoteConfig>,
    backends: &RemoteBackends,
) -> Result<Vec<(RemoteConfig, bool)>, PipelineError> {
    let cx = Ctx {
        src,
        file: PathBuf::from(LOCAL_CONFIG),
    };
    if let Some((span, depth)) = crate::manifest::too_deep(src) {
        return Err(cx.err(span, format!("nested {depth} levels deep")));
    }
    let raw: RawLocal = toml::from_str(src).map_err(|e| {
        let msg = e.message().to_string();
        cx.err(e.span().unwrap_or(0..0), format!("invalid TOML: {msg}"))
            .with_hint("this file holds `[remotes.NAME]` tables only")
    })?;
    let Some(mut remotes) = raw.remotes else {
        return Ok(Vec::new());
    };
    let mut set_default = BTreeMap::new();
    for (name, table) in remotes.get_mut().iter_mut() {
        let keys: Vec<String> = table
            .get_ref()
            .keys()
            .map(|k| k.get_ref().clone())
            .collect();
        set_default.insert(name.get_ref().clone(), keys.iter().any(|k| k == "default"));
        if let Some(base) = shared.get(name.get_ref()) {
            if !keys.iter().any(|k| k == "url") {
                table.get_mut().insert(
                    Spanned::new(0..0, "url".to_string()),
                    Spanned::new(0..0, toml::Value::String(base.url.clone())),
                );
            }
        }
    }
    let valid =
        crate::remote::config::validate(Some(remotes), backends, &|span, msg| cx.err(span, msg))?;
    Ok(valid
        .into_values()
        .map(|r| {
            let own_default = set_default.get(&r.name).copied().unwrap_or(false);
            (r, own_default)
        })
        .collect())
}

fn merge(shared: &mut BTreeMap<String, RemoteConfig>, local: Vec<(RemoteConfig, bool)>) {
    for (cfg, sets_default) in local {
        if sets_default && cfg.default {
            for r in shared.values_mut() {
                r.default = false;
            }
        }
        match shared.get_mut(&cfg.name) {
            Some(base) => {
                base.url = cfg.url;
                if sets_default {
                    base.default = cfg.default;
                }
                base.options.extend(cfg.options);
            }
            None => {
                shared.insert(cfg.name.clone(), cfg);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(name: &str, url: &str, default: bool) -> RemoteConfig {
        RemoteConfig {
            name: name.into(),
            url: url.into(),
            default,
            options: toml::Table::new(),
        }
    }

    #[test]
    fn local_tables_add_override_and_take_the_default() {
        let mut shared: BTreeMap<String, RemoteConfig> = [
            ("origin".to_string(), remote("origin", "/shared", true)),
            ("backup".to_string(), remote("backup", "/b", false)),
        ]
        .into();
        let backends = RemoteBackends::default();
        let src = "[remotes.origin]\nurl = \"/mine\"\n\n[remotes.scratch]\nurl = \"/tmp/s\"\ndefault = true\n";
        let local = parse(src, &shared, &backends).unwrap();
        merge(&mut shared, local);
        assert_eq!(shared["origin"].url, "/mine");
        assert!(!shared["origin"].default);
        assert!(shared["scratch"].default);
        assert_eq!(shared["backup"].url, "/b");

        // A known name may leave out `url`; an unknown one may not; errors name this file.
        let ok = parse("[remotes.backup]\ndefault = true\n", &shared, &backends).unwrap();
        assert_eq!(ok[0].0.url, "/b");
        let e = parse("[remotes.new]\ndefault = true\n", &shared, &backends).unwrap_err();
        assert!(
            e.to_string().contains(LOCAL_CONFIG) && e.to_string().contains("no `url`"),
            "{e}"
        );
        let e = parse("[remote.x]\nurl = \"/x\"\n", &shared, &backends).unwrap_err();
        assert!(e.to_string().contains(":1:"), "{e}");
    }
}
