//! `netsec db load`: a CSV, validated against the schema, into a MongoDB collection in batches
//! (the template's `push_data.py`). Needs no pipeline.toml.

use std::path::{Path, PathBuf};
use std::time::Duration;

use netsec_engine::Error;
use netsec_mongo::{load_frame, LoadOptions, MongoError};
use netsec_stages::source::mongodb::MAX_TIMEOUT_MS;
use netsec_stages::{ErrorKind, Frame, LabelMode, Schema};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DbCommand {
    /// Load a CSV into a collection: one document per row, `_id` = row number, ints as Int32.
    Load(LoadArgs),
}

#[derive(Debug, clap::Args)]
struct LoadArgs {
    /// Connection URI. Prefer the environment (`--uri-env`): a command line is visible to
    /// every user of the machine.
    #[arg(long, value_name = "URI")]
    uri: Option<String>,
    /// Environment variable holding the URI when `--uri` is absent.
    #[arg(long, value_name = "NAME", default_value = "MONGODB_URI")]
    uri_env: String,
    #[arg(long, value_name = "NAME")]
    database: String,
    #[arg(long, value_name = "NAME")]
    collection: String,
    /// The CSV to load (header line first), e.g. data/phisingData.csv.
    #[arg(value_name = "CSV")]
    csv: PathBuf,
    /// The schema to validate against [default: schema.yaml of the repository, else of the
    /// current directory].
    #[arg(long, value_name = "PATH")]
    schema: Option<PathBuf>,
    /// Delete every document of the collection first (makes reruns idempotent).
    #[arg(long)]
    replace: bool,
    /// Documents per insert_many.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    /// Bound on connecting to the server, in milliseconds (at most 10000).
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_MS))]
    timeout_ms: u64,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    match args.command {
        DbCommand::Load(a) => load(ui, cwd, a),
    }
}

fn load(ui: &Ui, cwd: &Path, a: LoadArgs) -> Result<i32, Error> {
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    let schema_path = match &a.schema {
        Some(p) => resolve(p),
        None => netsec_engine::find_root(cwd)
            .unwrap_or_else(|_| cwd.to_path_buf())
            .join("schema.yaml"),
    };
    // Same reader and checks as `ingest`: a bad CSV fails here with the same messages (exit 4).
    let frame = match Schema::load(&schema_path)
        .and_then(|s| Frame::read_csv(&resolve(&a.csv), &s, LabelMode::Required))
    {
        Ok(f) => f,
        Err(e) => {
            ui.error_text(&format!("failed to load: {e}"), e.hint().as_deref());
            return Ok(match e.kind() {
                ErrorKind::Rejected => netsec_engine::exit::DATA_REJECTED,
                ErrorKind::Io => netsec_engine::exit::IO,
                ErrorKind::Invalid => netsec_engine::exit::STAGE_FAILED,
            });
        }
    };
    let uri = match a.uri.clone().or_else(|| std::env::var(&a.uri_env).ok()) {
        Some(u) if !u.trim().is_empty() => u.trim().to_string(),
        _ => {
            return Ok(fail(
                ui,
                MongoError::UriMissing {
                    name: a.uri_env.clone(),
                },
            ))
        }
    };
    let opts = LoadOptions {
        database: a.database.clone(),
        collection: a.collection.clone(),
        batch_size: a.batch_size as usize,
        replace: a.replace,
        timeout: Duration::from_millis(a.timeout_ms),
    };
    let env_name = if a.uri.is_some() {
        "--uri"
    } else {
        a.uri_env.as_str()
    };
    match load_frame(&uri, env_name, &frame, &opts) {
        Ok(r) => {
            crate::outln!(
                "loaded {}.{}: read {} rows, deleted {} documents, inserted {} documents in {:.2} s",
                a.database, a.collection, r.read, r.deleted, r.inserted, r.seconds
            );
            Ok(0)
        }
        Err(e) => Ok(fail(ui, e)),
    }
}

/// Prints a MongoDB failure (never holding the URI) and returns its exit code.
fn fail(ui: &Ui, e: MongoError) -> i32 {
    ui.error_text(&format!("failed to load: {e}"), e.hint().as_deref());
    match e.kind() {
        ErrorKind::Io => netsec_engine::exit::IO,
        ErrorKind::Rejected => netsec_engine::exit::DATA_REJECTED,
        ErrorKind::Invalid => netsec_engine::exit::USAGE,
    }
}
