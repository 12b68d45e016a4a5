//! Integration suite for the `netsec` binary: every test builds a temp workspace and runs the real CLI.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a failure is the test failing"
)]

mod support;

mod cache;
mod commands;
mod crash;
mod dag;
mod dirs;
mod errors;
mod exp_remote;
mod experiments;
mod flags;
mod fresh_seal;
mod freshness;
mod gc_scopes;
mod golden;
mod hardening;
mod json_outputs;
mod metrics;
mod outs;
mod own_pipelines;
mod parallel;
mod params;
mod plots;
mod progress;
mod remote;
mod remote_kill;
mod remote_pull;
mod run_settings;
mod templating;

/// The two-stage chain most freshness scenarios use. `runs.log` counts executions; it is neither a
/// dep nor an out. `train` copies its params line into the model so param values change its out.
pub const CHAIN: &str = r#"
[params]
train = { c = 1.0, folds = 5 }

[stages.prepare]
cmd = "echo prepare >> runs.log && cat raw.txt > prepared.txt"
deps = ["raw.txt"]
outs = ["prepared.txt"]

[stages.train]
cmd = "echo train >> runs.log && cat prepared.txt > model.txt && grep '^train' pipeline.toml >> model.txt"
deps = ["prepared.txt"]
params = ["train.c"]
outs = ["model.txt"]
"#;

/// A workspace holding [`CHAIN`] and its input, already reproduced once.
pub fn chain_ran() -> support::Project {
    let p = support::Project::with_pipeline(CHAIN);
    p.file("raw.txt", "alpha\nbeta\n");
    p.repro(&[], 0)
        .expect("prepare", "ran")
        .expect("train", "ran");
    p
}
