//! `netsec report`: writes `artifacts/report/index.html`, one self-contained page for any
//! pipeline (metric outs, declared plots, stage timings, params, the stage graph; the phishing
//! pipeline's drift table and model card when those outs exist). Built by
//! `netsec_tracking::report` from what this command gathers from the engine.

use std::collections::BTreeMap;
use std::path::Path;

use netsec_engine::pipeline::Action;
use netsec_engine::{Error, Repo};
use netsec_tracking::{write_report, ArtifactPaths, DagRow, ReportInputs};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(ui: &Ui, cwd: &Path, _args: Args) -> Result<i32, Error> {
    let repo = super::open(ui, cwd)?;
    let lock = repo.load_lock()?;
    let inputs = ReportInputs {
        metrics: super::metrics::current(ui, &repo, &lock),
        plots: super::plots::declared(&repo)
            .iter()
            .map(|spec| {
                super::plots::draw(
                    ui,
                    &repo,
                    spec,
                    &[(super::plots::WORKSPACE.to_string(), None)],
                )
                .0
            })
            .collect(),
        params: params(ui, &repo),
        dag: dag(&repo),
    };
    match write_report(&repo.root, &ArtifactPaths::default(), &inputs) {
        Ok(path) => {
            let shown = path.strip_prefix(&repo.root).unwrap_or(&path);
            ui.status("Wrote", "32", &shown.display().to_string());
            crate::outln!("{}", path.display());
            Ok(0)
        }
        Err(e) => {
            ui.error_text(
                &format!("cannot build the report: {e}"),
                e.hint().as_deref(),
            );
            Ok(netsec_engine::exit::IO)
        }
    }
}

/// Each stage's tracked params with their values now, flattened to dotted keys.
fn params(ui: &Ui, repo: &Repo) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut store = repo.pipeline.param_store();
    let mut out = BTreeMap::new();
    for st in repo.pipeline.stages.values() {
        let values = match store.tracked(&st.params) {
            Ok(v) => v,
            Err(e) => {
                ui.warn(&format!("stage `{}`: {e}", st.name));
                continue;
            }
        };
        let mut flat = BTreeMap::new();
        for (key, v) in values {
            for (k, leaf) in netsec_common::dotted::flatten(&key, &v) {
                let shown = match leaf {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                flat.insert(k, shown);
            }
        }
        out.insert(st.name.clone(), flat);
    }
    out
}

/// The stages in run order with their upstream stages and what they run.
fn dag(repo: &Repo) -> Vec<DagRow> {
    let p = &repo.pipeline;
    p.graph
        .order
        .iter()
        .filter_map(|name| p.stages.get(name))
        .map(|st| DagRow {
            stage: st.name.clone(),
            upstream: p
                .graph
                .upstream
                .get(&st.name)
                .map(|u| u.iter().cloned().collect())
                .unwrap_or_default(),
            action: match &st.action {
                Action::Command(cmds) => cmds.join(" && "),
                Action::Builtin { id, .. } => format!("uses = \"{id}\""),
            },
        })
        .collect()
}
