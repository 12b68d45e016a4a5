//! Hostile input and failing machines (issue: engine hardening). Each test failed before its fix.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::support::{proc_stat, running, Project};

const ONE: &str = r#"
[stages.make]
cmd = "cp in.txt out.txt"
deps = ["in.txt"]
outs = ["out.txt"]
"#;

fn ran_once() -> Project {
    let p = Project::with_pipeline(ONE);
    p.file("in.txt", "payload\n");
    p.repro(&[], 0).expect("make", "ran");
    p
}

/// Rewrites the lock's out path `out.txt` to `to` in both places it appears.
fn poison_lock(p: &Project, to: &str) {
    let lock = p.read("netsec.lock");
    let poisoned = lock.replace("\"out.txt\"", &serde_json::to_string(to).unwrap());
    assert_ne!(lock, poisoned);
    p.file("netsec.lock", &poisoned);
}

#[test]
fn lock_paths_are_untrusted_for_checkout_and_pull() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    fs::write(&victim, "keep me\n").unwrap();
    let p = ran_once();
    p.file(
        "pipeline.toml",
        &format!("{ONE}\n[remotes.origin]\nurl = \"remote\"\n"),
    );
    p.run(&["push"]).code(0);
    let escape = format!("../{}", victim.file_name().unwrap().to_string_lossy());
    let good = p.read("netsec.lock");
    for bad in [
        escape.as_str(),
        victim.to_str().unwrap(),
        ".netsec/cache",
        ".git/hooks/pre-commit",
        "a/../out.txt",
    ] {
        poison_lock(&p, bad);
        for cmd in [&["checkout"][..], &["pull"][..]] {
            let run = p.run(cmd);
            run.code(5).says("netsec.lock");
        }
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me\n", "{bad}");
        assert!(p.path(".netsec/cache/objects-v1").is_dir(), "{bad}");
        p.file("netsec.lock", &good);
    }
}

#[test]
fn a_lock_entry_of_a_stage_not_in_the_pipeline_is_never_restored() {
    let p = ran_once();
    // Rename the stage: the old entry stays in the lock but must not be restored.
    p.edit("pipeline.toml", "[stages.make]", "[stages.build]");
    p.file("out.txt", "edited by hand\n");
    p.run(&["checkout", "build"]).code(0);
    assert_eq!(p.read("out.txt"), "edited by hand\n");
}

#[test]
fn outs_may_not_escape_through_symlinks_or_be_git() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("out.txt"), "outside\n").unwrap();
    let p = Project::with_pipeline(
        "[stages.make]\ncmd = \"echo new > link/out.txt\"\ndeps = [\"in.txt\"]\nouts = [\"link/out.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    std::os::unix::fs::symlink(outside.path(), p.path("link")).unwrap();
    p.run(&["repro"])
        .code(3)
        .says("`link` is a symlink leading outside the workspace");
    assert_eq!(
        fs::read_to_string(outside.path().join("out.txt")).unwrap(),
        "outside\n"
    );

    // A symlinked wdir.
    let w = Project::with_pipeline(
        "[stages.make]\ncmd = \"echo new > out.txt\"\nwdir = \"sub\"\ndeps = [\"../in.txt\"]\nouts = [\"out.txt\"]\n",
    );
    w.file("in.txt", "x\n");
    std::os::unix::fs::symlink(outside.path(), w.path("sub")).unwrap();
    w.run(&["repro"]).code(3).says("`sub` is a symlink");
    assert_eq!(
        fs::read_to_string(outside.path().join("out.txt")).unwrap(),
        "outside\n"
    );

    // An out that is itself a link to a file outside is never cached.
    let l = Project::with_pipeline(
        "[stages.make]\ncmd = \"true\"\ndeps = [\"in.txt\"]\nouts = [\"secret.txt\"]\n",
    );
    l.file("in.txt", "x\n");
    std::os::unix::fs::symlink(outside.path().join("out.txt"), l.path("secret.txt")).unwrap();
    l.run(&["repro"]).code(3);
    assert!(!l.cache_holds(b"outside\n"));

    // `.git` is never an out: the repository survives.
    let g = Project::with_pipeline(
        "[stages.make]\ncmd = \"true\"\ndeps = [\"in.txt\"]\nouts = [\".git\"]\n",
    );
    g.file("in.txt", "x\n")
        .file(".git/HEAD", "ref: refs/heads/main\n");
    g.run(&["repro"]).code(3).says("a git directory");
    assert!(g.exists(".git/HEAD"));
}

#[test]
fn a_dep_linked_to_proc_self_fails_fast() {
    let p = Project::with_pipeline(
        "[stages.make]\ncmd = \"true\"\ndeps = [\"proc\"]\nouts = [\"o.txt\"]\n",
    );
    std::os::unix::fs::symlink("/proc/self", p.path("proc")).unwrap();
    let start = Instant::now();
    let run = p.run(&["status"]);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert_ne!(run.exit, 0);
    assert_ne!(run.exit, 101, "panicked");
}

#[test]
fn a_killed_run_leaves_no_command_writing_and_the_next_run_records_a_whole_out() {
    let p = Project::with_pipeline(
        "[stages.slow]\ncmd = \"for i in $(seq 1 30); do echo $i >> out.txt; sleep 0.1; done\"\ndeps = [\"in.txt\"]\nouts = [\"out.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    let mut child = p.spawn(&["repro"]);
    assert!(p.wait_for("out.txt", Some("5\n"), Duration::from_secs(20)));
    child.kill().expect("SIGKILL netsec");
    let _ = child.wait();
    // Immediately again: the old command must not keep appending to the new out.
    p.repro(&[], 0).expect("slow", "ran");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        p.read("out.txt").lines().count(),
        30,
        "{}",
        p.read("out.txt")
    );
    assert!(p.status().up_to_date());
}

/// netsec's guard (a process of its own) kills the whole group of a running command when netsec
/// is killed, background processes included, without waiting for the next run.
#[test]
fn a_killed_run_kills_the_command_group_with_its_background_processes() {
    let p = Project::with_pipeline(
        "[stages.slow]\ncmd = \"sleep 60 & echo $! > bg.pid; echo $$ > sh.pid; wait\"\ndeps = [\"in.txt\"]\nouts = [\"out.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    let mut child = p.spawn(&["repro"]);
    assert!(p.wait_for("sh.pid", Some("\n"), Duration::from_secs(20)));
    assert!(p.wait_for("bg.pid", Some("\n"), Duration::from_secs(20)));
    child.kill().expect("SIGKILL netsec");
    let _ = child.wait();
    let alive = |pid: &str| std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
    let (sh, bg) = (p.read("sh.pid"), p.read("bg.pid"));
    let until = Instant::now() + Duration::from_secs(20);
    while (alive(&sh) || alive(&bg)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(&sh), "the command's shell {sh} outlived netsec");
    assert!(!alive(&bg), "its background process {bg} outlived netsec");
}

/// The guard of the netsec process whose pid is `parent` (`netsec-guard` as its `argv[0]`).
fn guard_of(parent: u32) -> Option<String> {
    fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_str()?.to_owned();
        let cmdline = fs::read(e.path().join("cmdline")).ok()?;
        let ppid = proc_stat(&pid)?.get(1)?.parse::<u32>().ok()?;
        (cmdline.starts_with(b"netsec-guard\0") && ppid == parent).then_some(pid)
    })
}

/// Without its guard (killed first), a killed netsec leaves its command running; the next run
/// finds it in the killed process's log, recognises the group's leader as the command it
/// started (its start time lies in the recorded spawn window) and kills the group before the
/// stage runs again.
#[test]
fn without_the_guard_the_next_run_kills_the_command_a_killed_netsec_left() {
    let p = Project::with_pipeline(
        "[stages.slow]\ncmd = \"echo $$ > sh.pid; sleep 60; echo done > out.txt\"\ndeps = [\"in.txt\"]\nouts = [\"out.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    let mut child = p.spawn(&["repro"]);
    assert!(p.wait_for("sh.pid", Some("\n"), Duration::from_secs(20)));
    let guard = guard_of(child.id()).expect("netsec runs a guard beside its command");
    let _ = std::process::Command::new("kill")
        .args(["-9", &guard])
        .status();
    while running(&guard) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL netsec");
    let _ = child.wait();
    let sh = p.read("sh.pid").trim().to_string();
    assert!(running(&sh), "with no guard, the command outlives netsec");
    // The next run (of a quicker command) reaps it before the stage runs again.
    p.file(
        "pipeline.toml",
        "[stages.slow]\ncmd = \"echo done > out.txt\"\ndeps = [\"in.txt\"]\nouts = [\"out.txt\"]\n",
    );
    let run = p.run(&["repro"]);
    run.code(0)
        .says("killed the command of `slow` left running by a killed netsec");
    let until = Instant::now() + Duration::from_secs(10);
    while running(&sh) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!running(&sh), "the orphaned command {sh} was not killed");
    assert_eq!(p.read("out.txt"), "done\n");
}

#[test]
fn a_background_child_holding_stderr_does_not_block_repro() {
    let p = Project::with_pipeline(
        "[stages.bg]\ncmd = \"(sleep 20 >&2 &) ; echo done > out.txt\"\ndeps = [\"in.txt\"]\nouts = [\"out.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    let start = Instant::now();
    p.repro(&[], 0).expect("bg", "ran");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let _ = std::process::Command::new("pkill")
        .args(["-f", "sleep 20"])
        .status();
}

/// Flips one byte of the cache object holding `content` and sets its mtime back.
fn rot(p: &Project, content: &[u8]) {
    let base = p.path(".netsec/cache/objects-v1");
    let rel = p
        .cache_objects()
        .into_iter()
        .find(|r| fs::read(base.join(r)).is_ok_and(|b| b == content))
        .expect("object");
    let obj = base.join(rel);
    let mtime = fs::metadata(&obj).unwrap().modified().unwrap();
    fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(&obj).unwrap();
    bytes[0] ^= 0x20;
    fs::write(&obj, &bytes).unwrap();
    fs::set_permissions(&obj, fs::Permissions::from_mode(0o444)).unwrap();
    fs::File::options()
        .write(true)
        .open(&obj)
        .and_then(|f| f.set_modified(mtime))
        .unwrap_or_else(|_| {
            // Read-only file: set the time through a writable handle on the path's permissions.
            fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
            fs::File::options()
                .write(true)
                .open(&obj)
                .unwrap()
                .set_modified(mtime)
                .unwrap();
            fs::set_permissions(&obj, fs::Permissions::from_mode(0o444)).unwrap();
        });
}

#[test]
fn bit_rot_is_caught_by_checkout_and_push_and_repro_f_repairs_it() {
    let p = ran_once();
    p.file(
        "pipeline.toml",
        &format!("{ONE}\n[remotes.origin]\nurl = \"remote\"\n"),
    );
    rot(&p, b"payload\n");
    p.remove("out.txt");
    p.run(&["checkout"])
        .code(5)
        .says("corrupt")
        .says("quarantine");
    assert!(!p.exists("out.txt"));
    // Moved aside: a push now finds it missing, never uploads it.
    p.run(&["push"]).code(5).says("missing");
    p.repro(&["-f"], 0).expect("make", "ran");
    p.remove("out.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("out.txt"), "payload\n");
    p.run(&["push"]).code(0);
    p.assert_cache_intact();
}

#[test]
fn bit_rot_is_caught_by_push() {
    let p = ran_once();
    p.file(
        "pipeline.toml",
        &format!("{ONE}\n[remotes.origin]\nurl = \"remote\"\n"),
    );
    rot(&p, b"payload\n");
    p.run(&["push"]).code(5).says("corrupt");
    assert!(!p.exists("remote/files"), "nothing uploaded");
}

#[test]
fn unwritable_output_ends_commands_cleanly_and_releases_the_lock() {
    let p = Project::with_pipeline(
        "[stages.a]\ncmd = \"sleep 0.2; echo a > a.txt\"\ndeps = [\"in.txt\"]\nouts = [\"a.txt\"]\n[stages.b]\ncmd = \"sleep 0.2; echo b > b.txt\"\ndeps = [\"in.txt\"]\nouts = [\"b.txt\"]\n",
    );
    p.file("in.txt", "x\n");
    let full = || fs::File::options().write(true).open("/dev/full").unwrap();
    let start = Instant::now();
    let status = p.command(&["repro"]).stderr(full()).status().unwrap();
    assert!(start.elapsed() < Duration::from_secs(15));
    assert_eq!(status.code(), Some(5));
    let status = p.command(&["status"]).stdout(full()).status().unwrap();
    assert_eq!(status.code(), Some(5));
    let status = p.command(&["dag"]).stdout(full()).status().unwrap();
    assert_eq!(status.code(), Some(5));
    // The lock was released: the next run works.
    p.repro(&[], 0);
    assert!(p.status().up_to_date());
}

#[test]
fn malformed_pipelines_are_exit_3_with_a_location() {
    let p = Project::empty();
    fs::write(
        p.path("pipeline.toml"),
        b"[stages.a]\ncmd = \"echo \xff\"\n",
    )
    .unwrap();
    p.run(&["status"])
        .code(3)
        .says("pipeline.toml:2:")
        .says("UTF-8");

    let deep = format!("[{}]\nx = 1\n", vec!["a"; 100].join("."));
    let p = Project::with_pipeline(&deep);
    p.run(&["status"])
        .code(3)
        .says("pipeline.toml:1:1")
        .says("nested 100 levels");
    let deep_value = format!("x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let p = Project::with_pipeline(&deep_value);
    let start = Instant::now();
    p.run(&["status"]).code(3).says("pipeline.toml:1:");
    assert!(start.elapsed() < Duration::from_secs(5));

    let long = format!("[stages.{}]\ncmd = \"true\"\n", "s".repeat(300));
    let p = Project::with_pipeline(&long);
    p.run(&["status"]).code(3).says("invalid stage name");

    let p = Project::with_pipeline(
        "[stages.a]\ncmd = \"true\"\nwdir = \"a\\u0000b\"\ndeps = [\"in.txt\"]\nouts = [\"o\"]\n",
    );
    p.file("in.txt", "x");
    p.run(&["status"]).code(3).says("NUL");
}

#[test]
fn a_remote_run_entry_naming_other_outs_is_ignored() {
    let p = ran_once();
    p.file(
        "pipeline.toml",
        &format!("{ONE}\n[remotes.origin]\nurl = \"remote\"\n"),
    );
    p.run(&["push", "--run-cache"]).code(0);
    let mut tampered = 0;
    for shard in fs::read_dir(p.path("remote/runs/blake3")).unwrap() {
        for f in fs::read_dir(shard.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            let text = fs::read_to_string(&f).unwrap();
            fs::write(&f, text.replace("\"out.txt\"", "\".git/hooks/pre-commit\"")).unwrap();
            tampered += 1;
        }
    }
    assert!(tampered > 0);
    // A fresh runner: no cache, no lock. The stage runs; nothing lands in .git.
    p.remove(".netsec");
    p.remove("netsec.lock");
    p.remove("out.txt");
    p.repro(&["--pull"], 0).expect("make", "ran");
    assert!(!p.exists(".git/hooks/pre-commit"));
    assert_eq!(p.read("out.txt"), "payload\n");
}

#[test]
fn special_files_named_as_pipeline_lock_or_params_are_refused_without_blocking() {
    let mkfifo = |p: &Project, rel: &str| {
        let _ = fs::remove_file(p.path(rel));
        let made = std::process::Command::new("mkfifo")
            .arg(p.path(rel))
            .status()
            .unwrap();
        assert!(made.success());
    };
    let limit = Duration::from_secs(20);
    let p = Project::with_pipeline(
        "[stages.a]\ncmd = \"cp in.txt o.txt\"\ndeps = [\"in.txt\"]\nparams = [\"params.yaml:lr\"]\nouts = [\"o.txt\"]\n",
    );
    p.file("in.txt", "x");
    mkfifo(&p, "params.yaml");
    p.run_bounded(&["status"], limit)
        .code(3)
        .says("params.yaml")
        .says("FIFO, not a regular file");

    fs::remove_file(p.path("params.yaml")).unwrap();
    p.file("params.yaml", "lr: 1\n");
    mkfifo(&p, "netsec.lock");
    p.run_bounded(&["status"], limit)
        .code(5)
        .says("netsec.lock")
        .says("FIFO");

    fs::remove_file(p.path("netsec.lock")).unwrap();
    mkfifo(&p, "pipeline.toml");
    p.run_bounded(&["status"], limit)
        .code(3)
        .says("pipeline.toml")
        .says("FIFO");
}
