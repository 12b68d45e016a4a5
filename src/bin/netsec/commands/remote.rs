//! `netsec remote list`: the remotes pipeline.toml declares.

use std::path::Path;

use netsec::Error;

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
    let default = netsec::remote::select(remotes, None)
        .ok()
        .map(|r| r.name.clone());
    if json {
        let list: Vec<_> = remotes
            .values()
            .map(|r| {
                serde_json::json!({
                    "name": r.name,
                    "url": r.url,
                    "default": default.as_deref() == Some(r.name.as_str()),
                    "endpoint": r.endpoint,
                    "region": r.region,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
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
        println!("{}\t{}{mark}", r.name, r.url);
    }
    Ok(0)
}
