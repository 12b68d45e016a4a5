//! Project builder for the CLI suite: a temp workspace, files in it, and runs of the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use netsec_protocol::{ReproLine, StageEvent, StageState, StageStatus, StatusJson, Summary};
use serde_json::Value;
use tempfile::TempDir;

/// Path of the binary under test, built by cargo for this test target.
pub const BIN: &str = env!("CARGO_BIN_EXE_netsec");

/// A throwaway workspace with a `pipeline.toml`.
pub struct Project {
    dir: TempDir,
    root: PathBuf,
}

impl Project {
    /// An empty workspace (no pipeline.toml).
    pub fn empty() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("netsec-cli-")
            .tempdir()
            .expect("create temp dir");
        // Canonical so comparisons with NETSEC_ROOT are not fooled by symlinked /tmp.
        let root = dir.path().canonicalize().expect("canonicalize temp dir");
        Project { dir, root }
    }

    /// A workspace whose pipeline.toml is `pipeline`.
    pub fn with_pipeline(pipeline: &str) -> Self {
        let p = Self::empty();
        p.file("pipeline.toml", pipeline);
        p
    }

    pub fn root(&self) -> &Path {
        let _ = &self.dir;
        &self.root
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Write `contents` to `rel`, creating parent directories.
    pub fn file(&self, rel: &str, contents: &str) -> &Self {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create parent dirs");
        }
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {rel}: {e}"));
        self
    }

    /// Replace `from` by `to` in `rel` (panics if `from` is absent, so a typo cannot pass silently).
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(
            text.contains(from),
            "{rel} does not contain {from:?}:\n{text}"
        );
        self.file(rel, &text.replacen(from, to, 1));
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).exists()
    }

    pub fn remove(&self, rel: &str) {
        let path = self.path(rel);
        if path.is_dir() {
            fs::remove_dir_all(&path).unwrap_or_else(|e| panic!("remove {rel}: {e}"));
        } else {
            fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {rel}: {e}"));
        }
    }

    /// Move `rel`'s mtime into the future without touching its content.
    pub fn touch(&self, rel: &str) {
        let file = fs::File::options()
            .write(true)
            .open(self.path(rel))
            .unwrap_or_else(|e| panic!("open {rel}: {e}"));
        let later = SystemTime::now() + Duration::from_secs(5);
        file.set_modified(later).expect("set mtime");
    }

    /// Lines appended by stage commands to `runs.log` (the side-effect counter, never an out).
    pub fn runs(&self) -> Vec<String> {
        match fs::read_to_string(self.path("runs.log")) {
            Ok(text) => text.lines().map(str::to_owned).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// How many times stage `name` has executed its command so far.
    pub fn run_count(&self, name: &str) -> usize {
        self.runs().iter().filter(|l| l.as_str() == name).count()
    }

    /// A `Command` for the binary in this workspace, with a clean netsec environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(&self.root)
            .env_remove("RUST_LOG")
            .env_remove("NETSEC_ROOT")
            .env_remove("NETSEC_STAGE")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// Run the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let start = Instant::now();
        let out = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"));
        Run::from_output(args, out, start.elapsed())
    }

    /// Run `git ARGS` in the workspace (identity and signing set), asserting success; stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&self.root)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run the binary to completion, killing it and failing the test if it takes longer than
    /// `limit` (for inputs that used to block forever).
    pub fn run_bounded(&self, args: &[&str], limit: Duration) -> Run {
        let start = Instant::now();
        let mut child = self.spawn(args);
        while child.try_wait().ok().flatten().is_none() {
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`netsec {}` still running after {limit:?}", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait {BIN}: {e}"));
        Run::from_output(args, out, start.elapsed())
    }

    /// Start the binary without waiting (for crash and lock tests).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {BIN}: {e}"))
    }

    /// `netsec repro --json ARGS`, asserting `code`, parsed into a report.
    pub fn repro(&self, args: &[&str], code: i32) -> Repro {
        let mut full = vec!["repro", "--json"];
        full.extend_from_slice(args);
        let run = self.run(&full);
        run.code(code);
        Repro::parse(&run)
    }

    /// `netsec status --json`, asserting exit 0, parsed.
    pub fn status(&self) -> Status {
        let run = self.run(&["status", "--json"]);
        run.code(0);
        Status::parse(&run)
    }

    /// Files under the local cache's object store, relative to it.
    pub fn cache_objects(&self) -> Vec<PathBuf> {
        let base = self.path(".netsec/cache/objects-v1");
        let mut found = Vec::new();
        walk(&base, &base, &mut found);
        found.sort();
        found
    }

    /// Whether some cache object holds exactly `content`.
    pub fn cache_holds(&self, content: &[u8]) -> bool {
        let base = self.path(".netsec/cache/objects-v1");
        self.cache_objects()
            .iter()
            .any(|rel| fs::read(base.join(rel)).is_ok_and(|b| b == content))
    }

    /// Assert that every cache object still hashes to its own name (a workspace edit that
    /// reaches a hardlinked object, or a torn write, would break this).
    #[track_caller]
    pub fn assert_cache_intact(&self) {
        let base = self.path(".netsec/cache/objects-v1");
        for rel in self.cache_objects() {
            let bytes = fs::read(base.join(&rel)).expect("read cache object");
            let name: String = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let digest = blake3::hash(&bytes).to_hex().to_string();
            // Directory manifests may carry a suffix (`<hash>.dir`); the name starts with the hash.
            assert!(
                name.starts_with(&digest),
                "cache object {} no longer matches its digest (content {:?})",
                rel.display(),
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    /// Wait until `rel` exists (and, if given, contains `needle`), up to `limit`.
    pub fn wait_for(&self, rel: &str, needle: Option<&str>, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(text) = fs::read_to_string(self.path(rel)) {
                if needle.is_none_or(|n| text.contains(n)) {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

fn walk(base: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(base, &path, found);
        } else if let Ok(rel) = path.strip_prefix(base) {
            found.push(rel.to_path_buf());
        }
    }
}

/// One finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub exit: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn from_output(args: &[&str], out: Output, elapsed: Duration) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            exit: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed,
        }
    }

    /// Assert the exit code, showing both streams when it differs.
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.exit,
            expected,
            "`netsec {}` exited {} (expected {expected})\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.exit,
            self.stdout,
            self.stderr
        );
        self
    }

    /// stdout and stderr together, for contract strings whose stream is not pinned.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Assert that the combined output contains `needle`.
    pub fn says(&self, needle: &str) -> &Self {
        assert!(
            self.all().contains(needle),
            "`netsec {}` output lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.args.join(" "),
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Parsed `repro --json` output (the protocol types the binary writes).
#[derive(Debug)]
pub struct Repro {
    pub events: Vec<StageEvent>,
    pub summary: Summary,
    pub raw: String,
}

impl Repro {
    pub fn parse(run: &Run) -> Repro {
        let lines = ReproLine::parse_stream(&run.stdout).unwrap_or_else(|e| {
            panic!(
                "repro --json stdout is not the protocol ({e})\nstdout:\n{}\nstderr:\n{}",
                run.stdout, run.stderr
            )
        });
        let mut events = Vec::new();
        let mut summary = None;
        for line in lines {
            match line {
                ReproLine::Stage(ev) => events.push(ev),
                ReproLine::Summary(s) => summary = Some(s),
            }
        }
        let summary = summary.unwrap_or_else(|| {
            panic!(
                "no summary line\nstdout:\n{}\nstderr:\n{}",
                run.stdout, run.stderr
            )
        });
        Repro {
            events,
            summary,
            raw: format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr),
        }
    }

    /// The stage event of `stage`, if one was emitted.
    pub fn event(&self, stage: &str) -> Option<&StageEvent> {
        self.events.iter().find(|e| e.stage == stage)
    }

    /// Outcome of `stage` ("ran", "skipped", …), or "absent" when no event names it.
    pub fn outcome(&self, stage: &str) -> String {
        self.event(stage)
            .map_or("absent", |e| e.outcome.as_str())
            .to_owned()
    }

    /// Assert the outcome of `stage`.
    pub fn expect(&self, stage: &str, outcome: &str) -> &Self {
        assert_eq!(
            self.outcome(stage),
            outcome,
            "stage `{stage}` outcome\n{}",
            self.raw
        );
        self
    }

    /// Reasons reported for `stage`, as JSON values (`{"kind": "dep_changed", …}`).
    pub fn reasons(&self, stage: &str) -> Vec<Value> {
        self.event(stage)
            .map(|e| {
                e.reasons
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A summary list ("ran", "skipped", …) as sorted names.
    pub fn list(&self, key: &str) -> Vec<String> {
        let s = &self.summary;
        let mut names = match key {
            "ran" => s.ran.clone(),
            "restored" => s.restored.clone(),
            "skipped" => s.skipped.clone(),
            "failed" => s.failed.clone(),
            "not_run" => s.not_run.clone(),
            "frozen" => s.frozen.clone(),
            "would_run" => s.would_run.clone(),
            other => panic!("summary has no list `{other}`: {s:?}"),
        };
        names.sort();
        names
    }
}

/// Parsed `status --json` output.
#[derive(Debug)]
pub struct Status {
    pub json: StatusJson,
}

impl Status {
    pub fn parse(run: &Run) -> Status {
        Status {
            json: serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
                panic!("status --json is not the protocol ({e}):\n{}", run.stdout)
            }),
        }
    }

    pub fn up_to_date(&self) -> bool {
        self.json.up_to_date
    }

    fn stage(&self, name: &str) -> Option<&StageStatus> {
        self.json.stages.iter().find(|s| s.stage == name)
    }

    /// "fresh" | "dirty" | "frozen"; every stage must be listed.
    pub fn of(&self, name: &str) -> String {
        let s = self
            .stage(name)
            .unwrap_or_else(|| panic!("stage `{name}` missing from status: {:?}", self.json));
        match s.status {
            StageState::Fresh => "fresh",
            StageState::Dirty => "dirty",
            StageState::Frozen => "frozen",
        }
        .to_owned()
    }

    pub fn reasons(&self, name: &str) -> Vec<Value> {
        self.stage(name)
            .map(|s| {
                s.reasons
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether `reasons` holds one of `kind` whose `field` (if given) equals `value` (a trailing `/`
/// on paths is ignored: `data` and `data/` name the same directory).
pub fn has_reason(reasons: &[Value], kind: &str, field: Option<(&str, &str)>) -> bool {
    reasons.iter().any(|r| {
        r["kind"] == kind
            && field.is_none_or(|(f, want)| {
                r[f].as_str()
                    .is_some_and(|got| got.trim_end_matches('/') == want.trim_end_matches('/'))
            })
    })
}

/// Assert [`has_reason`], printing the reasons on failure.
#[track_caller]
pub fn assert_reason(reasons: &[Value], kind: &str, field: Option<(&str, &str)>) {
    assert!(
        has_reason(reasons, kind, field),
        "expected reason {kind} {field:?} in {}",
        Value::Array(reasons.to_vec())
    );
}

/// Sleep briefly so that a rewrite lands on a different mtime tick than the previous one.
pub fn tick() {
    std::thread::sleep(Duration::from_millis(15));
}

/// SIGKILL the process group led by the PID written in `pid_text` (a stage's `$$`), then the
/// process itself. Anything but a plain PID above 1 is ignored: `kill -9 ""` or `-0` would
/// signal the test's own process group (a file read before its PID was written is empty).
pub fn kill_group(pid_text: &str) {
    let Ok(pid) = pid_text.trim().parse::<u32>() else {
        return;
    };
    if pid <= 1 {
        return;
    }
    let group = Command::new("kill")
        .args(["-9", "--", &format!("-{pid}")])
        .status();
    if !group.is_ok_and(|s| s.success()) {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
}

/// The fields of `/proc/PID/stat` after the parenthesised command name (state, ppid, pgrp, …),
/// or `None` if there is no such process.
pub fn proc_stat(pid: &str) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{}/stat", pid.trim())).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// `pid` exists and is not a zombie (a killed child stays one until its parent waits).
pub fn running(pid: &str) -> bool {
    proc_stat(pid).is_some_and(|f| f.first().is_some_and(|state| state != "Z"))
}
