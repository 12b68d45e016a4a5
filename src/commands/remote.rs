//! `netsec remote list`: the remotes pipeline.toml declares.

use std::path::Path;

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
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let Sub::List { json } = args.command;
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
