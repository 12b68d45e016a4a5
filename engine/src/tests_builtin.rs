//! End-to-end engine tests of built-in stages (the binary's registry is filled by the lead, so
//! the contract is exercised here): staging, narrow context, DataRejected, version bumps.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::builtin::{Builtin, BuiltinContext, BuiltinError, BuiltinRegistry};
use crate::cancel::Cancel;
use crate::dirty_reason::DirtyReason;
use crate::events::{Event, Outcome};
use crate::executor::{repro, ReproOptions};
use crate::lock::Lockfile;
use crate::workspace::Repo;

struct Echoer {
    version: Arc<AtomicU32>,
}

impl Builtin for Echoer {
    fn id(&self) -> &'static str {
        "echoer"
    }
    fn version(&self) -> u32 {
        self.version.load(Ordering::SeqCst)
    }
    fn summary(&self) -> &'static str {
        "copies in.txt with a greeting"
    }
    fn check_args(&self, with: &toml::Table) -> Result<(), String> {
        match with.get("text") {
            Some(toml::Value::String(_)) => Ok(()),
            _ => Err("`with.text` must be a string".into()),
        }
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        assert!(
            ctx.input("secret.txt").is_err(),
            "undeclared deps are refused"
        );
        assert!(
            ctx.output("elsewhere.txt").is_err(),
            "undeclared outs are refused"
        );
        let input = std::fs::read_to_string(ctx.input("in.txt")?)
            .map_err(|e| BuiltinError::io(e.to_string()))?;
        let text = ctx
            .args()
            .get("text")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let seed = &ctx.params()["ingest"]["seed"];
        assert!(
            ctx.params()["ingest"].get("other").is_none(),
            "only tracked keys are visible"
        );
        ctx.progress("writing");
        let out = ctx.output("out/a.txt")?;
        // While running, nothing is in the workspace yet: writes go to the staging dir.
        assert!(out.starts_with(ctx.staging));
        std::fs::write(out, format!("{text} {seed} {input}"))
            .map_err(|e| BuiltinError::io(e.to_string()))
    }
}

struct Rejecter;

impl Builtin for Rejecter {
    fn id(&self) -> &'static str {
        "rejecter"
    }
    fn version(&self) -> u32 {
        1
    }
    fn summary(&self) -> &'static str {
        "writes a report and rejects the data"
    }
    fn run(&self, ctx: &BuiltinContext<'_>) -> Result<(), BuiltinError> {
        std::fs::write(
            ctx.output("report.txt")?,
            "column `x`: bad value in row 3\n",
        )
        .map_err(|e| BuiltinError::io(e.to_string()))?;
        Err(BuiltinError::rejected(
            "column `x` has an out-of-domain value in row 3",
        ))
    }
}

const PIPELINE: &str = r#"
[params]
ingest = { seed = 42, other = 1 }

[stages.make]
uses = "echoer"
with = { text = "hi" }
deps = ["in.txt"]
params = ["ingest.seed"]
outs = ["out/"]

[stages.check]
uses = "rejecter"
deps = ["out/"]
outs = ["report.txt"]
"#;

fn run(root: &Path, reg: &BuiltinRegistry) -> (Vec<(String, Outcome, Vec<DirtyReason>)>, i32) {
    let (repo, _) = Repo::open(root, ext(reg.clone()), BTreeMap::new()).unwrap();
    let sink = |_: Event<'_>| {};
    let r = repro(
        &repo,
        &ReproOptions {
            jobs: 2,
            ..Default::default()
        },
        &Cancel::default(),
        &sink,
    )
    .unwrap();
    (
        r.reports
            .into_iter()
            .map(|r| (r.stage, r.outcome, r.reasons))
            .collect(),
        r.exit_code,
    )
}

#[test]
fn builtin_stages_stage_outs_and_data_rejection_leaves_stage_stale() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    std::fs::write(root.join("pipeline.toml"), PIPELINE).unwrap();
    std::fs::write(root.join("in.txt"), "data").unwrap();
    std::fs::write(root.join("secret.txt"), "no").unwrap();
    let version = Arc::new(AtomicU32::new(1));
    let mut reg = BuiltinRegistry::new();
    reg.register(Echoer {
        version: Arc::clone(&version),
    })
    .register(Rejecter);

    let (reports, code) = run(root, &reg);
    assert_eq!(code, 4, "{reports:?}");
    assert_eq!(reports[0].1, Outcome::Ran);
    assert_eq!(reports[1].1, Outcome::Failed);
    assert_eq!(
        std::fs::read_to_string(root.join("out/a.txt")).unwrap(),
        "hi 42 data"
    );
    // The rejected stage's report is readable, but it has no lock entry.
    assert!(root.join("report.txt").exists());
    let lock = Lockfile::load(root).unwrap();
    assert!(lock.stages.contains_key("make") && !lock.stages.contains_key("check"));
    assert!(!root
        .join(".netsec/tmp/make-".to_string() + &std::process::id().to_string())
        .exists());

    // Rerun: `make` fresh, `check` still stale.
    let (reports, _) = run(root, &reg);
    assert_eq!(reports[0].1, Outcome::Skipped);
    assert_eq!(reports[1].1, Outcome::Failed);

    // An untracked param does not matter; a version bump does.
    std::fs::write(
        root.join("pipeline.toml"),
        PIPELINE.replace("other = 1", "other = 2"),
    )
    .unwrap();
    assert_eq!(run(root, &reg).0[0].1, Outcome::Skipped);
    version.store(2, Ordering::SeqCst);
    let (reports, _) = run(root, &reg);
    assert_eq!(reports[0].1, Outcome::Ran);
    assert_eq!(
        reports[0].2,
        vec![DirtyReason::BuiltinChanged {
            id: "echoer".into(),
            old_version: Some(1),
            new_version: 2
        }]
    );
    // `with` is fingerprinted like a command line.
    std::fs::write(
        root.join("pipeline.toml"),
        PIPELINE.replace("\"hi\"", "\"ho\""),
    )
    .unwrap();
    let (reports, _) = run(root, &reg);
    assert_eq!(reports[0].2, vec![DirtyReason::ArgsChanged]);
    assert_eq!(
        std::fs::read_to_string(root.join("out/a.txt")).unwrap(),
        "ho 42 data"
    );
}

#[test]
fn unknown_builtin_and_bad_args_are_parse_errors() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("in.txt"), "x").unwrap();
    let mut reg = BuiltinRegistry::new();
    reg.register(Rejecter);
    std::fs::write(t.path().join("pipeline.toml"), PIPELINE).unwrap();
    let err = Repo::open(t.path(), ext(reg.clone()), BTreeMap::new()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("pipeline.toml:6:8") && msg.contains("unknown built-in `echoer`"),
        "{msg}"
    );
    assert!(err.hint().unwrap().contains("rejecter"));
    assert_eq!(err.exit_code(), 3);
    reg.register(Echoer {
        version: Arc::new(AtomicU32::new(1)),
    });
    std::fs::write(
        t.path().join("pipeline.toml"),
        PIPELINE.replace("text = \"hi\"", "text = 3"),
    )
    .unwrap();
    let err = Repo::open(t.path(), ext(reg), BTreeMap::new()).unwrap_err();
    assert!(
        err.to_string().contains("`with.text` must be a string"),
        "{err}"
    );
}

fn ext(builtins: crate::BuiltinRegistry) -> crate::Extensions {
    crate::Extensions {
        builtins,
        ..Default::default()
    }
}
