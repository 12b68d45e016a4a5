//! `netsec remote list|add|modify|remove|default`: the remotes of pipeline.toml, merged with
//! the personal `.netsec/config.local.toml` (`--local`), as DVC's `dvc remote` does.

use std::path::Path;

use netsec_engine::remote::edit::{RemoteEdit, Scope};
use netsec_engine::Error;

use netsec_protocol::RemoteEntry;

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Name, URL and which one is the default.
    List {
        /// JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Declare a remote (`s3://bucket/prefix` or a directory).
    Add {
        name: String,
        url: String,
        /// Make it the default remote.
        #[arg(short, long)]
        default: bool,
        /// Replace a remote of that name.
        #[arg(short, long)]
        force: bool,
        #[command(flatten)]
        scope: ScopeArg,
    },
    /// Set an option of a remote (`url`, `endpoint`, `region`, …), or remove it with `--unset`.
    Modify {
        name: String,
        option: String,
        /// A TOML value (`true`, `30`, `"text"`), else taken as a string.
        #[arg(required_unless_present = "unset")]
        value: Option<String>,
        #[arg(short, long)]
        unset: bool,
        #[command(flatten)]
        scope: ScopeArg,
    },
    /// Remove a remote's table.
    Remove {
        name: String,
        #[command(flatten)]
        scope: ScopeArg,
    },
    /// Make a remote the default (`--unset` for none).
    Default {
        #[arg(required_unless_present = "unset")]
        name: Option<String>,
        #[arg(short, long)]
        unset: bool,
        #[command(flatten)]
        scope: ScopeArg,
    },
}

#[derive(Debug, clap::Args)]
struct ScopeArg {
    /// Write to `.netsec/config.local.toml` (personal, never committed), not pipeline.toml.
    #[arg(long)]
    local: bool,
}

impl ScopeArg {
    fn scope(&self) -> Scope {
        if self.local {
            Scope::Local
        } else {
            Scope::Shared
        }
    }
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let (edit, scope) = match args.command {
        Sub::List { json } => return list(ui, cwd, json),
        Sub::Add {
            name,
            url,
            default,
            force,
            scope,
        } => (
            RemoteEdit::Add {
                name,
                url,
                default,
                force,
            },
            scope,
        ),
        Sub::Modify {
            name,
            option,
            value,
            unset,
            scope,
        } => {
            let value = if unset { None } else { value };
            let key = option;
            (RemoteEdit::Modify { name, key, value }, scope)
        }
        Sub::Remove { name, scope } => (RemoteEdit::Remove { name }, scope),
        Sub::Default { name, unset, scope } => (
            RemoteEdit::Default {
                name: if unset { None } else { name },
            },
            scope,
        ),
    };
    let root = netsec_engine::find_root(cwd)?;
    netsec_engine::remote::edit::apply(&root, scope.scope(), &edit, &super::extensions())?;
    let file = match scope.scope() {
        Scope::Shared => "pipeline.toml",
        Scope::Local => netsec_engine::local_config::LOCAL_CONFIG,
    };
    ui.status("Updated", "32", &format!("`{file}`"));
    Ok(0)
}

fn list(ui: &Ui, cwd: &Path, json: bool) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let remotes = &repo.pipeline.remotes;
    // The effective default: marked, or the only one.
    let default = netsec_engine::remote::select(remotes, None)
        .ok()
        .map(|r| r.name.clone());
    if json {
        let list: Vec<RemoteEntry> = remotes
            .values()
            .map(|r| RemoteEntry {
                name: r.name.clone(),
                url: r.url.clone(),
                default: default.as_deref() == Some(r.name.as_str()),
                options: r
                    .options
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), serde_json::to_value(v).ok()?)))
                    .collect(),
            })
            .collect();
        crate::output::json_line(&list);
        return Ok(0);
    }
    if remotes.is_empty() {
        ui.warn("no remotes in pipeline.toml");
        return Ok(0);
    }
    for r in remotes.values() {
        let mark = if default.as_deref() == Some(r.name.as_str()) {
            "  (default)"
        } else {
            ""
        };
        crate::outln!("{}\t{}{mark}", r.name, r.url);
    }
    Ok(0)
}
