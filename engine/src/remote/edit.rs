//! `netsec remote add|modify|remove|default`: edit the `[remotes.NAME]` tables of
//! pipeline.toml (shared, committed) or of `.netsec/config.local.toml` (`--local`: personal,
//! never committed) in place, keeping every other line and comment. The edited text is
//! validated as a whole before it replaces the file, so an edit can never leave a pipeline
//! that does not load.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::error::Error;
use crate::extensions::Extensions;
use crate::local_config::LOCAL_CONFIG;
use crate::pipeline::Pipeline;
use netsec_common::atomic::{write_atomic, Durability};

/// Which file an edit goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// pipeline.toml.
    Shared,
    /// `.netsec/config.local.toml`.
    Local,
}

/// One change to the remotes.
#[derive(Debug, Clone)]
pub enum RemoteEdit {
    Add {
        name: String,
        url: String,
        default: bool,
        /// Replace an existing remote of that name.
        force: bool,
    },
    /// Set `key` to `value` (TOML: `true`, `30`, `"x"`; anything else is a string), or
    /// remove it when `value` is `None`.
    Modify {
        name: String,
        key: String,
        value: Option<String>,
    },
    Remove {
        name: String,
    },
    /// Make `name` the default; `None` removes every `default = true`.
    Default {
        name: Option<String>,
    },
}

/// Apply `edit` to the file of `scope` under `root` (the repository root).
pub fn apply(root: &Path, scope: Scope, edit: &RemoteEdit, ext: &Extensions) -> Result<(), Error> {
    let manifest = root.join(crate::workspace::MANIFEST);
    let path = match scope {
        Scope::Shared => manifest.clone(),
        Scope::Local => root.join(LOCAL_CONFIG),
    };
    let old = match netsec_common::read_regular_string(&path, Some(64 << 20)) {
        Ok(t) => t,
        Err(e) if e.is_not_found() && scope == Scope::Local => String::new(),
        Err(e) => {
            return Err(usage(
                format!("cannot read `{}`: {e}", path.display()),
                None,
            ))
        }
    };
    let mut doc: DocumentMut = old.parse().map_err(|e| {
        usage(
            format!("`{}` is not valid TOML: {e}", path.display()),
            Some("fix the file, then run the command again".into()),
        )
    })?;
    // What pipeline.toml alone declares: a `--local` edit may name those remotes too.
    let (shared, _) = Pipeline::parse(
        &netsec_common::read_regular_string(&manifest, Some(64 << 20))
            .map_err(|e| usage(format!("cannot read `{}`: {e}", manifest.display()), None))?,
        &manifest,
        root,
        ext,
    )?;
    let known_elsewhere = |name: &str| scope == Scope::Local && shared.remotes.contains_key(name);
    edit_doc(&mut doc, edit, &known_elsewhere, &file_name(scope))?;
    let new = doc.to_string();
    // Validate the result before it replaces anything.
    match scope {
        Scope::Shared => {
            let (mut p, _) = Pipeline::parse(&new, &manifest, root, ext)?;
            crate::local_config::apply(root, &mut p.remotes, &ext.remotes)?;
        }
        Scope::Local => {
            let mut remotes = shared.remotes.clone();
            crate::local_config::apply_text(&new, &mut remotes, &ext.remotes)?;
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    write_atomic(&path, new.as_bytes(), Durability::Fsync).map_err(|e| Error::io("write", &path, e))
}

fn file_name(scope: Scope) -> String {
    match scope {
        Scope::Shared => crate::workspace::MANIFEST.to_string(),
        Scope::Local => LOCAL_CONFIG.to_string(),
    }
}

fn usage(message: String, hint: Option<String>) -> Error {
    Error::Usage { message, hint }
}

/// The `[remotes]` table of `doc`, created (implicit, so no bare `[remotes]` header) if absent.
fn remotes_table(doc: &mut DocumentMut) -> Result<&mut Table, Error> {
    let item = doc.entry("remotes").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    item.as_table_mut()
        .ok_or_else(|| usage("`remotes` is not a table".into(), None))
}

fn edit_doc(
    doc: &mut DocumentMut,
    edit: &RemoteEdit,
    known_elsewhere: &dyn Fn(&str) -> bool,
    file: &str,
) -> Result<(), Error> {
    let remotes = remotes_table(doc)?;
    let missing = |name: &str| {
        usage(
            format!("no remote `{name}` in `{file}`"),
            Some("`netsec remote list` shows the remotes".into()),
        )
    };
    match edit {
        RemoteEdit::Add {
            name,
            url,
            default,
            force,
        } => {
            if remotes.contains_key(name) && !force {
                return Err(usage(
                    format!("remote `{name}` already exists in `{file}`"),
                    Some("use `netsec remote modify`, or `--force` to replace it".into()),
                ));
            }
            let mut t = Table::new();
            t.insert("url", toml_edit::value(url.as_str()));
            remotes.insert(name, Item::Table(t));
            if *default {
                set_default(remotes, Some(name));
            }
        }
        RemoteEdit::Modify { name, key, value } => {
            if !remotes.contains_key(name) {
                if !known_elsewhere(name) {
                    return Err(missing(name));
                }
                remotes.insert(name, Item::Table(Table::new()));
            }
            let t = remotes
                .get_mut(name)
                .and_then(Item::as_table_mut)
                .ok_or_else(|| usage(format!("`remotes.{name}` is not a table"), None))?;
            match value {
                Some(raw) => {
                    let v = raw
                        .parse::<Value>()
                        .unwrap_or_else(|_| Value::from(raw.as_str()));
                    t.insert(key, Item::Value(v));
                }
                None => {
                    if t.remove(key).is_none() {
                        return Err(usage(
                            format!("remote `{name}` has no `{key}` in `{file}`"),
                            None,
                        ));
                    }
                }
            }
        }
        RemoteEdit::Remove { name } => {
            if remotes.remove(name).is_none() {
                return Err(missing(name));
            }
        }
        RemoteEdit::Default { name } => {
            if let Some(n) = name {
                if !remotes.contains_key(n) {
                    if !known_elsewhere(n) {
                        return Err(missing(n));
                    }
                    remotes.insert(n, Item::Table(Table::new()));
                }
            }
            set_default(remotes, name.as_deref());
        }
    }
    if remotes.is_empty() {
        doc.remove("remotes");
    }
    Ok(())
}

/// `default = true` on `name` only (none when `None`).
fn set_default(remotes: &mut Table, name: Option<&str>) {
    for (key, item) in remotes.iter_mut() {
        if let Some(t) = item.as_table_mut() {
            if Some(key.get()) == name {
                t.insert("default", toml_edit::value(true));
            } else {
                t.remove("default");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, edit: RemoteEdit) -> Result<String, Error> {
        let mut doc: DocumentMut = text.parse().unwrap();
        edit_doc(&mut doc, &edit, &|n| n == "shared", "pipeline.toml")?;
        Ok(doc.to_string())
    }

    #[test]
    fn edits_keep_comments_and_other_tables() {
        let text = "# my pipeline\n[stages.a]\ncmd = \"x\" # run x\n\n[remotes.origin]\nurl = \"/o\" # team\ndefault = true\n";
        let added = run(
            text,
            RemoteEdit::Add {
                name: "backup".into(),
                url: "s3://b/p".into(),
                default: true,
                force: false,
            },
        )
        .unwrap();
        assert!(
            added.starts_with("# my pipeline\n[stages.a]\ncmd = \"x\" # run x\n"),
            "{added}"
        );
        assert!(
            added.contains("[remotes.origin]\nurl = \"/o\" # team\n"),
            "{added}"
        );
        assert!(
            added.contains("[remotes.backup]\nurl = \"s3://b/p\"\ndefault = true\n"),
            "{added}"
        );
        assert!(
            !added.contains("default = true\n\n[remotes.backup]"),
            "{added}"
        );
        let e = run(
            &added,
            RemoteEdit::Add {
                name: "backup".into(),
                url: "/x".into(),
                default: false,
                force: false,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        let modified = run(
            &added,
            RemoteEdit::Modify {
                name: "backup".into(),
                key: "region".into(),
                value: Some("eu-west-1".into()),
            },
        )
        .unwrap();
        assert!(modified.contains("region = \"eu-west-1\""), "{modified}");
        let modified = run(
            &modified,
            RemoteEdit::Modify {
                name: "backup".into(),
                key: "retries".into(),
                value: Some("3".into()),
            },
        )
        .unwrap();
        assert!(modified.contains("retries = 3"), "{modified}");
        let removed = run(
            &modified,
            RemoteEdit::Remove {
                name: "backup".into(),
            },
        )
        .unwrap();
        assert!(
            !removed.contains("backup") && removed.contains("url = \"/o\" # team"),
            "{removed}"
        );
        let none = run(
            &removed,
            RemoteEdit::Remove {
                name: "origin".into(),
            },
        )
        .unwrap();
        assert_eq!(none, "# my pipeline\n[stages.a]\ncmd = \"x\" # run x\n");
        assert!(run(
            &none,
            RemoteEdit::Remove {
                name: "origin".into()
            }
        )
        .is_err());
        // A name declared in the shared file may get a local table of its own.
        let local = run(
            "",
            RemoteEdit::Default {
                name: Some("shared".into()),
            },
        )
        .unwrap();
        assert_eq!(local, "[remotes.shared]\ndefault = true\n");
    }
}
