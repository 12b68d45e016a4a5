//! `netsec predict`: batch prediction with a promoted model bundle. Needs no pipeline.toml.

use std::io::Write;
use std::path::{Path, PathBuf};

use netsec_engine::Error;
use netsec_protocol::PredictJson;
use netsec_stages::bundle::bundle_path;
use netsec_stages::{ErrorKind, ModelBundle, StageError};

use crate::render::Ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model bundle: a directory holding bundle.json (e.g. final_model), or the file itself.
    #[arg(long, value_name = "PATH", default_value = "final_model")]
    model: PathBuf,
    /// CSV with the schema's feature columns (the label column is optional).
    #[arg(long, value_name = "CSV")]
    input: PathBuf,
    /// Where to write the input plus `prediction` (dataset coding), `prediction_label`
    /// (phishing / legitimate) and `phishing_probability`; stdout if absent.
    #[arg(long, value_name = "CSV")]
    output: Option<PathBuf>,
    /// One JSON summary on stdout (rows, phishing count, output, model version); needs
    /// `--output`, since stdout cannot carry both.
    #[arg(long, requires = "output")]
    json: bool,
}

pub fn run(ui: &Ui, cwd: &Path, args: Args) -> Result<i32, Error> {
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        }
    };
    match predict(
        ui,
        &resolve(&args.model),
        &resolve(&args.input),
        args.output.as_deref().map(resolve),
        args.json,
    ) {
        Ok(()) => Ok(0),
        Err(e) => {
            ui.error_text(&format!("failed to predict: {e}"), e.hint().as_deref());
            Ok(match e.kind() {
                ErrorKind::Rejected => netsec_engine::exit::DATA_REJECTED,
                ErrorKind::Io => netsec_engine::exit::IO,
                ErrorKind::Invalid => netsec_engine::exit::STAGE_FAILED,
            })
        }
    }
}

fn predict(
    ui: &Ui,
    model: &Path,
    input: &Path,
    output: Option<PathBuf>,
    json: bool,
) -> Result<(), StageError> {
    let bundle = ModelBundle::load(model)?;
    let report = match &output {
        Some(path) => netsec_stages::predict_to_file(&bundle, input, path)?,
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            let report = netsec_stages::predict(&bundle, input, &mut lock)?;
            lock.flush().map_err(|e| StageError::Write {
                path: "<stdout>".into(),
                source: e,
            })?;
            report
        }
    };
    if let (true, Some(path)) = (json, &output) {
        let model_file = bundle_path(model);
        let model_version = bundle.version().map_err(|e| StageError::Artifact {
            path: model_file.clone(),
            message: format!("cannot encode the bundle: {e}"),
        })?;
        crate::output::json_line(&PredictJson {
            rows: report.rows,
            phishing: report.phishing,
            legitimate: report.legitimate,
            imputed_cells: report.imputed_cells,
            output: path.display().to_string(),
            model: model_file.display().to_string(),
            model_version,
            threshold: bundle.threshold(),
        });
        return Ok(());
    }
    let share = if report.rows == 0 {
        0.0
    } else {
        report.phishing as f64 / report.rows as f64
    };
    ui.status(
        "Predicted",
        "32",
        &format!(
            "{} rows: {} phishing ({:.1}%), {} legitimate{}",
            report.rows,
            report.phishing,
            share * 100.0,
            report.legitimate,
            output
                .map(|p| format!(" → `{}`", p.display()))
                .unwrap_or_default()
        ),
    );
    // What the columns mean, and the decision threshold the bundle applied.
    ui.status("Legend", "36", &netsec_stages::legend(&bundle));
    Ok(())
}
