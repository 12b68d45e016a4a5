//! Opening the remote a command talks to: `-r NAME` (or the default remote) of pipeline.toml,
//! or an ad-hoc URL / directory given to `-r` (CI passes one from a secret).

use std::sync::Arc;

use super::backend::scheme_of;
use super::{LocalRemote, Named, Remote, RemoteConfig, RemoteError, RemoteErrorKind};
use crate::error::Error;
use crate::workspace::Repo;

/// A `-r` value that is a location rather than a remote's name.
fn is_location(s: &str) -> bool {
    scheme_of(s).is_some() || s.contains('/')
}

/// Opens the remote `name` (else the default one) of `repo`; `name` may also be a URL or a
/// directory path, used as is with no options.
pub fn open(repo: &Repo, name: Option<&str>) -> Result<(RemoteConfig, Arc<dyn Remote>), Error> {
    let cfg = match name {
        Some(n) if !repo.pipeline.remotes.contains_key(n) && is_location(n) => RemoteConfig {
            name: n.to_string(),
            url: n.to_string(),
            ..RemoteConfig::default()
        },
        _ => super::select(&repo.pipeline.remotes, name)?.clone(),
    };
    let remote: Arc<dyn Remote> = match scheme_of(&cfg.url) {
        None => Arc::new(LocalRemote::new(repo.root.join(&cfg.url))),
        Some(scheme) => {
            let opened = match repo.backends.get(scheme) {
                Some(b) => b.open(&cfg, &repo.env),
                None => Err(RemoteError::new(
                    RemoteErrorKind::Other,
                    format!("unsupported URL scheme `{scheme}://`"),
                )
                .with_hint("use a scheme this netsec serves (`s3://…`) or a directory path")),
            };
            opened.map_err(|source| Error::Remote {
                remote: cfg.name.clone(),
                url: cfg.url.clone(),
                op: "open",
                source,
            })?
        }
    };
    Ok((cfg, remote))
}

/// [`open`] as the engine's handle.
pub fn open_named(repo: &Repo, name: Option<&str>) -> Result<Named, Error> {
    let (cfg, remote) = open(repo, name)?;
    let stale_after = cfg.stale_after();
    Ok(Named::new(cfg.name, remote).with_stale_after(stale_after))
}
