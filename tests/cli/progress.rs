//! Progress output: a big out's hashing is a progress task — plain lines when stderr is not a
//! terminal, a live bar on a terminal (driven through `script`, which gives the child a pty),
//! nothing with `--quiet`.

use std::process::Command;

use crate::support::Project;

/// 300 MiB out (the progress threshold is 256 MiB), written sparse so the test stays fast.
const BIG: &str = r#"
[stages.big]
cmd = "truncate -s 300M big.bin"
deps = ["in.txt"]
outs = ["big.bin"]
"#;

#[test]
fn big_out_hashing_prints_plain_lines_without_a_terminal() {
    let p = Project::with_pipeline(BIG);
    p.file("in.txt", "x\n");
    let run = p.run(&["repro"]);
    run.code(0);
    let err = run.all();
    assert!(err.contains("Progress hashing"), "start line: {err}");
    assert!(err.contains("300.00 MiB"), "size in the start line: {err}");
    assert!(err.contains("Done hashing"), "end line with rate: {err}");
    assert!(
        !err.contains('\r') && !err.contains("\x1b["),
        "no bar control codes: {err:?}"
    );

    let p = Project::with_pipeline(BIG);
    p.file("in.txt", "x\n");
    let quiet = p.run(&["--quiet", "repro"]);
    quiet.code(0);
    assert!(!quiet.all().contains("hashing"), "--quiet: {}", quiet.all());
}

#[test]
fn big_out_hashing_draws_a_bar_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("note: `script` (util-linux) not installed; terminal progress not checked");
        return;
    }
    let p = Project::with_pipeline(BIG);
    p.file("in.txt", "x\n");
    let cmd = format!("{} repro", env!("CARGO_BIN_EXE_netsec"));
    let out = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(p.root())
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .output()
        .expect("run script");
    let all = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{all}");
    assert!(all.contains("hashing"), "bar label: {all:?}");
    assert!(
        all.contains("\x1b["),
        "terminal control codes of a live bar: {all:?}"
    );
    assert!(
        !all.contains("Done hashing"),
        "no plain end line on a terminal: {all:?}"
    );
}
