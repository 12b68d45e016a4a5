//! `uses = "train"`: model selection by k-fold CV (grouped by default) on train only.

use netsec_engine::{Builtin, BuiltinContext, BuiltinError};
use netsec_stages::SelectConfig;

use super::support::{arg, check_section, input_in, known_args, section, stage_error};

pub struct Train;

impl Builtin for Train {
    fn id(&self) -> &'static str {
        "train"
    }
    fn version(&self) -> u32 {
        // 2: stochastic boosting, scikit-learn feature draws in forests, denser grids.
        // 3: grouped CV by default, 300-tree forests, soft vote, threshold on out-of-fold F1.
        // 4: CV on a subsample above `cv_max_rows` (forests' draws bounded), cv.json format 3.
        4
    }
    fn summary(&self) -> &'static str {
        "select a model by k-fold CV on train (grouped by default); write model.json and cv.json"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        known_args(with, &["input", "output"])
    }
    fn check_params(&self, params: &serde_json::Value) -> Result<(), String> {
        check_section::<SelectConfig>(params, "train")?;
        Ok(())
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        let cfg: SelectConfig = section(ctx, "train")?;
        // The input is the transform directory; naming its file makes the dep check precise.
        let train_npy = input_in(ctx, "input", "artifacts/transform", "train.npy")?;
        let transform_dir = train_npy.parent().unwrap_or(&train_npy);
        let out = ctx.output(arg(ctx, "output", "artifacts/train")?)?;
        // One progress task for the whole grid, opened at the first finished fit (the total is
        // known only once the grid is expanded).
        let task = std::sync::OnceLock::new();
        let on_fit = |_done: usize, total: usize| {
            let t = task.get_or_init(|| {
                netsec_engine::progress::task(
                    &format!("training grid ({total} fits)"),
                    total as u64,
                    netsec_engine::progress::Unit::Items,
                )
            });
            t.inc(1);
        };
        let report = netsec_stages::train_observed(&cfg, transform_dir, &out, &on_fit)
            .map_err(stage_error)?;
        drop(task);
        ctx.progress(&format!(
            "chose `{}`: {} CV F1 {:.4} ({} {:.4}), train F1 {:.4} (gap {:.4}) over {} candidates; threshold {:.4}",
            report.model,
            report.config.cv.as_str(),
            report.cv_f1,
            report.other_cv.cv.as_str(),
            report.other_cv.f1_mean,
            report.train_f1,
            report.gap,
            report.table.len(),
            report.threshold
        ));
        Ok(())
    }
}
