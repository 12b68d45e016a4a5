//! `netsec plots show|diff`: the declared plots (`[plots.NAME]`, outs marked `plot = true`)
//! drawn as inline SVG into one self-contained HTML page, from the workspace alone or overlaid
//! with git revisions (their data read from the cache by each revision's lock digest, or from
//! git). Specs, data parsing and drawing live in `netsec_tracking::plots`.

use std::path::{Path, PathBuf};

use netsec_common::atomic::{write_atomic, Durability};
use netsec_engine::extensions::TableError;
use netsec_engine::{Error, Repo};
use netsec_protocol::{PlotJson, PlotSeries, PlotsJson};
use netsec_tracking::plots::{self, Frame, PlotSpec, Rendered};

use crate::render::Ui;
use crate::revision_files::Revision;

/// Where the page goes by default, relative to the root.
pub const DEFAULT_PAGE: &str = ".netsec/plots/index.html";

/// Largest plot data file read (a bigger one is reported on its plot, not drawn).
const MAX_DATA_BYTES: u64 = 64 << 20;

/// The label of the workspace's series.
pub const WORKSPACE: &str = "workspace";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// The HTML file to write (default .netsec/plots/index.html).
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Open the page with $BROWSER (else xdg-open / open) once written.
    #[arg(long)]
    open: bool,
    /// Print the page's path and its plots and series as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Draw the declared plots (all, or the NAMEs given) from the workspace.
    Show {
        /// Plot names (`[plots.NAME]`, or an out's path); default: all.
        names: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Overlay the declared plots of the workspace and of git revisions, one colour each.
    Diff {
        /// Git revisions to compare the workspace with (default HEAD).
        revs: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// The `[plots]` table check the binary registers with the engine.
pub fn check_table(v: &toml::Value) -> Result<(), TableError> {
    plots::parse_table(v).map(|_| ()).map_err(|e| TableError {
        at: e.at,
        message: e.message,
        hint: e.hint,
    })
}

/// Every plot of the pipeline: the `[plots.NAME]` tables, then each `plot = true` out (a
/// directory out stands for the data files directly inside it), sorted case-insensitively.
pub fn declared(repo: &Repo) -> Vec<PlotSpec> {
    let mut specs = repo
        .pipeline
        .tables
        .get("plots")
        .and_then(|t| plots::parse_table(t).ok())
        .unwrap_or_default();
    let mut outs: Vec<String> = Vec::new();
    for st in repo.pipeline.stages.values() {
        for o in st.outs.iter().filter(|o| o.plot) {
            let path = o.path.as_str();
            if plots::is_data_file(path) {
                outs.push(path.to_string());
            } else if let Ok(rd) = std::fs::read_dir(repo.root.join(path)) {
                let mut inside: Vec<String> = rd
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().to_str().map(|n| format!("{path}/{n}")))
                    .filter(|p| plots::is_data_file(p))
                    .collect();
                inside.sort();
                outs.extend(inside);
            }
        }
    }
    specs.extend(
        outs.iter()
            .filter(|p| !specs.iter().any(|s| s.name == **p))
            .map(|p| PlotSpec::for_out(p))
            .collect::<Vec<_>>(),
    );
    specs.sort_by_key(|s| (s.name.to_lowercase(), s.name.clone()));
    specs
}

/// One plot drawn from the revisions' data, with its `--json` description.
pub fn draw(
    ui: &Ui,
    repo: &Repo,
    spec: &PlotSpec,
    revisions: &[(String, Option<Revision>)],
) -> (Rendered, PlotJson) {
    let mut data: Vec<(String, Frame)> = Vec::new();
    let mut missing = Vec::new();
    let mut error = None;
    for (label, rev) in revisions {
        let bytes = match rev {
            None => {
                match netsec_common::read_regular(&repo.root.join(&spec.file), Some(MAX_DATA_BYTES))
                {
                    Ok(b) => Some(b),
                    Err(e) if e.is_not_found() => None,
                    Err(e) => {
                        error = Some(format!("cannot read `{}`: {e}", spec.file));
                        None
                    }
                }
            }
            Some(r) => r.read(&repo.cache, &spec.file),
        };
        match bytes {
            Some(b) => match plots::parse_data(&spec.file, &b) {
                Ok(f) => data.push((label.clone(), f)),
                Err(e) => error = Some(format!("`{}` at {label}: {e}", spec.file)),
            },
            None => missing.push(label.clone()),
        }
    }
    for m in &missing {
        ui.warn(&format!(
            "plot `{}`: `{}` does not exist in the {m}{}",
            spec.name,
            spec.file,
            if m == WORKSPACE {
                " (run `netsec repro`)"
            } else {
                " (not in git, not in the cache by its lock digest)"
            }
        ));
    }
    let svg = match (&error, data.is_empty()) {
        (Some(e), _) => Err(e.clone()),
        (None, true) => Err(format!(
            "`{}` is not in the {}",
            spec.file,
            missing.join(", ")
        )),
        (None, false) => plots::render(spec, &data),
    };
    let series: Vec<PlotSeries> = match (&svg, spec.template) {
        (Err(_), _) => Vec::new(),
        (Ok(_), plots::Template::Confusion) => data
            .iter()
            .enumerate()
            .map(|(k, (rev, f))| PlotSeries {
                revision: rev.clone(),
                column: spec.y.first().cloned().unwrap_or_default(),
                label: rev.clone(),
                points: f.rows.len(),
                color: color(k),
            })
            .collect(),
        (Ok(_), _) => plots::series(spec, &data)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(k, s)| PlotSeries {
                revision: s.revision,
                column: s.column,
                label: s.label,
                points: s.points.len(),
                color: color(k),
            })
            .collect(),
    };
    if let Err(e) = &svg {
        if error.is_some() || !data.is_empty() {
            ui.warn(&format!("plot `{}`: {e}", spec.name));
        }
    }
    let json = PlotJson {
        name: spec.name.clone(),
        file: spec.file.clone(),
        template: spec.template.name().to_string(),
        title: spec.title().to_string(),
        x: spec.x.clone(),
        y: spec.y.clone(),
        series,
        missing,
        error: svg.as_ref().err().cloned(),
    };
    (
        Rendered {
            name: spec.name.clone(),
            title: spec.title().to_string(),
            file: spec.file.clone(),
            svg,
        },
        json,
    )
}

fn color(k: usize) -> String {
    plots::svg::PALETTE[k % plots::svg::PALETTE.len()].to_string()
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let all = declared(&repo);
    let (names, revs, common) = match args.action {
        Action::Show { names, common } => (names, Vec::new(), common),
        Action::Diff { revs, common } => {
            let revs = if revs.is_empty() {
                vec!["HEAD".to_string()]
            } else {
                revs
            };
            (Vec::new(), revs, common)
        }
    };
    let mut chosen: Vec<&PlotSpec> = Vec::new();
    for n in &names {
        match all.iter().find(|s| s.name == *n) {
            Some(s) => chosen.push(s),
            None => {
                let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                ui.error_text(
                    &format!("no plot named `{n}`"),
                    Some(&if known.is_empty() {
                        "this pipeline declares no plots: add `[plots.NAME]` to pipeline.toml or mark an out `plot = true`".to_string()
                    } else {
                        format!("plots: {}", known.join(", "))
                    }),
                );
                return Ok(netsec_engine::exit::USAGE);
            }
        }
    }
    if names.is_empty() {
        chosen = all.iter().collect();
    }
    let mut revisions: Vec<(String, Option<Revision>)> = vec![(WORKSPACE.to_string(), None)];
    for r in &revs {
        match Revision::open(&repo.root, r) {
            Ok(rev) => revisions.push((r.clone(), Some(rev))),
            Err(e) => {
                ui.error_text(
                    &e.to_string(),
                    Some("`netsec plots diff` needs a git repository; REV defaults to HEAD"),
                );
                return Ok(netsec_engine::exit::USAGE);
            }
        }
    }
    if chosen.is_empty() {
        ui.warn("no plots: declare `[plots.NAME]` in pipeline.toml or mark an out `plot = true`");
    }
    let (rendered, json): (Vec<Rendered>, Vec<PlotJson>) = chosen
        .iter()
        .map(|s| draw(ui, &repo, s, &revisions))
        .unzip();
    let labels: Vec<String> = revisions.iter().map(|(l, _)| l.clone()).collect();
    let subtitle = if revs.is_empty() {
        "Plots of the workspace.".to_string()
    } else {
        format!("Overlaid: {}.", labels.join(", "))
    };
    let html = plots::page("netsec plots", &subtitle, &rendered);
    let page = match &common.out {
        Some(p) if p.is_absolute() => p.clone(),
        Some(p) => cwd.join(p),
        None => repo.root.join(DEFAULT_PAGE),
    };
    let written = page
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| write_atomic(&page, html.as_bytes(), Durability::NoFsync));
    if let Err(e) = written {
        ui.error_text(
            &format!("cannot write `{}`: {e}", page.display()),
            Some("choose another file with `-o FILE`"),
        );
        return Ok(netsec_engine::exit::IO);
    }
    if common.json {
        let out = PlotsJson {
            page: page.display().to_string(),
            revisions: labels,
            plots: json,
        };
        crate::outln!("{}", serde_json::to_string(&out).unwrap_or_default());
    } else {
        let shown = page.strip_prefix(&repo.root).unwrap_or(&page);
        ui.status(
            "Wrote",
            "32",
            &format!("{} ({} plots)", shown.display(), rendered.len()),
        );
        crate::outln!("{}", page.display());
    }
    if common.open {
        open_page(ui, &page);
    }
    Ok(0)
}

/// Opens `page` with `$BROWSER`, else the desktop's opener; a failure is a warning.
fn open_page(ui: &Ui, page: &Path) {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else {
                "xdg-open".into()
            }
        });
    match std::process::Command::new(&opener)
        .arg(page)
        .stdin(std::process::Stdio::null())
        .status()
    {
        Ok(st) if st.success() => {}
        Ok(st) => ui.warn(&format!(
            "`{opener}` exited with {st}; open the page yourself"
        )),
        Err(e) => ui.warn(&format!(
            "cannot run `{opener}`: {e}; set $BROWSER or open the page yourself"
        )),
    }
}
