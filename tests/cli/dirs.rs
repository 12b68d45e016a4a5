//! Directory deps and outs, and `.dvcignore` (root and nested) when hashing directories.

use crate::support::{assert_reason, Project};

const DIR_DEP: &str = r#"
[stages.gather]
cmd = "echo gather >> runs.log && find data -type f | sort > listing.txt"
deps = ["data/"]
outs = ["listing.txt"]
"#;

fn dir_dep() -> Project {
    let p = Project::with_pipeline(DIR_DEP);
    p.file("data/a.txt", "a\n")
        .file("data/sub/b.txt", "b\n")
        .file("data/sub/deeper/c.txt", "c\n");
    p.repro(&[], 0).expect("gather", "ran");
    p
}

#[test]
fn directory_dep_reruns_on_nested_edit_add_and_remove() {
    let p = dir_dep();
    p.file("data/sub/deeper/c.txt", "c changed\n");
    let st = p.status();
    assert_eq!(st.of("gather"), "dirty");
    assert_reason(&st.reasons("gather"), "dep_changed", Some(("path", "data")));
    p.repro(&[], 0).expect("gather", "ran");

    p.file("data/new.txt", "new\n");
    p.repro(&[], 0).expect("gather", "ran");
    assert!(p.read("listing.txt").contains("data/new.txt"));

    p.remove("data/sub/b.txt");
    p.repro(&[], 0).expect("gather", "ran");
    assert_eq!(p.run_count("gather"), 4);
}

#[test]
fn directory_dep_touch_does_not_rerun() {
    let p = dir_dep();
    p.touch("data/a.txt");
    p.touch("data/sub/deeper/c.txt");
    assert!(p.status().up_to_date());
    p.repro(&[], 0).expect("gather", "skipped");
}

#[test]
fn directory_dep_rename_is_a_change() {
    let p = dir_dep();
    std::fs::rename(p.path("data/a.txt"), p.path("data/z.txt")).expect("rename");
    p.repro(&[], 0).expect("gather", "ran");
}

#[test]
fn dvcignored_file_in_directory_dep_does_not_rerun() {
    let p = Project::with_pipeline(DIR_DEP);
    p.file(".dvcignore", "# scratch files\n*.tmp\n")
        .file("data/a.txt", "a\n")
        .file("data/junk.tmp", "junk\n");
    p.repro(&[], 0).expect("gather", "ran");
    p.file("data/junk.tmp", "junk that changed\n");
    p.file("data/more.tmp", "another ignored file\n");
    assert!(p.status().up_to_date(), "{:?}", p.status().json);
    p.repro(&[], 0).expect("gather", "skipped");
    p.file("data/a.txt", "a changed\n");
    p.repro(&[], 0).expect("gather", "ran");
}

#[test]
fn nested_dvcignore_applies_relative_to_its_directory() {
    let p = Project::with_pipeline(DIR_DEP);
    p.file("data/a.txt", "a\n")
        .file(
            "data/scratch/top.txt",
            "not ignored: pattern is anchored in sub\n",
        )
        .file("data/sub/.dvcignore", "/scratch/\n*.log\n!keep.log\n")
        .file("data/sub/keep.log", "kept\n")
        .file("data/sub/scratch/x.txt", "x\n")
        .file("data/sub/real.txt", "real\n")
        .file("data/sub/noise.log", "noise\n");
    p.repro(&[], 0).expect("gather", "ran");

    p.file("data/sub/scratch/x.txt", "x changed\n");
    p.file("data/sub/noise.log", "noise changed\n");
    p.repro(&[], 0).expect("gather", "skipped");

    p.file("data/scratch/top.txt", "changed, and not ignored\n");
    p.repro(&[], 0).expect("gather", "ran");
    p.file("data/sub/real.txt", "real changed\n");
    p.repro(&[], 0).expect("gather", "ran");
    p.file("data/sub/keep.log", "negated pattern: tracked\n");
    p.repro(&[], 0).expect("gather", "ran");
    assert_eq!(p.run_count("gather"), 4);
}

#[test]
fn directory_out_feeds_a_file_dep_under_it() {
    let p = Project::with_pipeline(
        r#"
[stages.split]
cmd = "echo split >> runs.log && mkdir -p parts/inner && head -n1 in.txt > parts/first.txt && tail -n1 in.txt > parts/inner/last.txt"
deps = ["in.txt"]
outs = ["parts/"]

[stages.use_last]
cmd = "echo use_last >> runs.log && cp parts/inner/last.txt last.txt"
deps = ["parts/inner/last.txt"]
outs = ["last.txt"]
"#,
    );
    p.file("in.txt", "one\ntwo\n");
    p.repro(&[], 0)
        .expect("split", "ran")
        .expect("use_last", "ran");
    let dag = p.run(&["dag", "--json"]);
    dag.code(0);
    assert_eq!(
        dag.json()["edges"],
        serde_json::json!([["split", "use_last"]])
    );

    // Only the first line changes: parts/ changes, parts/inner/last.txt does not (cut-off).
    p.file("in.txt", "uno\ntwo\n");
    p.repro(&[], 0)
        .expect("split", "ran")
        .expect("use_last", "skipped");

    // A file inside a directory out modified by hand makes the producer dirty.
    p.file("parts/first.txt", "tampered\n");
    let st = p.status();
    assert_eq!(st.of("split"), "dirty");
    assert_reason(
        &st.reasons("split"),
        "out_modified",
        Some(("path", "parts")),
    );
    p.file("parts/first.txt", "uno\n");
    assert!(p.status().up_to_date());

    // An extra file dropped into a directory out is a modification too.
    p.file("parts/stray.txt", "stray\n");
    assert_eq!(p.status().of("split"), "dirty");
    p.remove("parts/stray.txt");

    // The whole directory removed, then restored by checkout.
    p.remove("parts");
    assert_reason(
        &p.status().reasons("split"),
        "out_missing",
        Some(("path", "parts")),
    );
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("parts/first.txt"), "uno\n");
    assert_eq!(p.read("parts/inner/last.txt"), "two\n");
    assert!(p.status().up_to_date());
}

#[test]
fn directory_outs_are_deleted_before_a_rerun() {
    let p = Project::with_pipeline(
        r#"
[stages.emit]
cmd = "mkdir -p gen && for f in $(cat names.txt); do echo $f > gen/$f; done"
deps = ["names.txt"]
outs = ["gen/"]
"#,
    );
    p.file("names.txt", "a b c\n");
    p.repro(&[], 0);
    p.file("names.txt", "a\n");
    p.repro(&[], 0).expect("emit", "ran");
    assert!(p.exists("gen/a"));
    assert!(
        !p.exists("gen/b"),
        "stale file from the previous run survived"
    );
}

#[test]
fn run_cache_restores_a_directory_out_exactly() {
    let p = Project::with_pipeline(
        r#"
[stages.emit]
cmd = "echo emit >> runs.log && mkdir -p gen/sub && for f in $(cat names.txt); do echo $f > gen/sub/$f; done"
deps = ["names.txt"]
outs = ["gen/"]
"#,
    );
    p.file("names.txt", "a b\n");
    p.repro(&[], 0);
    p.file("names.txt", "c\n");
    p.repro(&[], 0).expect("emit", "ran");
    p.file("names.txt", "a b\n");
    p.repro(&[], 0).expect("emit", "restored");
    assert_eq!(p.run_count("emit"), 2);
    assert_eq!(p.read("gen/sub/a"), "a\n");
    assert_eq!(p.read("gen/sub/b"), "b\n");
    assert!(
        !p.exists("gen/sub/c"),
        "file of the other version left behind"
    );
    assert!(p.status().up_to_date());
}

#[test]
fn dvcignored_files_inside_a_directory_out_do_not_dirty_it() {
    let p = Project::with_pipeline(
        r#"
[stages.emit]
cmd = "mkdir -p gen && cp in.txt gen/data.txt && echo log > gen/run.log"
deps = ["in.txt"]
outs = ["gen/"]
"#,
    );
    p.file(".dvcignore", "*.log\n").file("in.txt", "x\n");
    p.repro(&[], 0).expect("emit", "ran");
    p.file("gen/run.log", "edited log\n");
    assert!(p.status().up_to_date(), "{:?}", p.status().json);
    p.file("gen/data.txt", "edited data\n");
    assert_eq!(p.status().of("emit"), "dirty");
}

#[test]
fn out_inside_a_directory_dep_creates_an_edge() {
    let p = Project::with_pipeline(
        r#"
[stages.gen]
cmd = "cp in.txt data/generated.txt"
deps = ["in.txt"]
outs = ["data/generated.txt"]

[stages.all]
cmd = "cat data/*.txt > all.txt"
deps = ["data/"]
outs = ["all.txt"]
"#,
    );
    p.file("in.txt", "gen\n")
        .file("data/static.txt", "static\n");
    let v = p.run(&["dag", "--json"]).code(0).json();
    assert_eq!(v["edges"], serde_json::json!([["gen", "all"]]));
    p.repro(&[], 0).expect("gen", "ran").expect("all", "ran");
    assert_eq!(p.read("all.txt"), "gen\nstatic\n");
    p.file("in.txt", "gen2\n");
    p.repro(&[], 0).expect("gen", "ran").expect("all", "ran");
    assert_eq!(p.read("all.txt"), "gen2\nstatic\n");
}

#[test]
fn paths_with_spaces_and_unicode() {
    let p = Project::with_pipeline(
        r#"
[stages.spaced]
cmd = "cp 'my input.txt' 'résultat final.txt'"
deps = ["my input.txt"]
outs = ["résultat final.txt"]
"#,
    );
    p.file("my input.txt", "x\n");
    p.repro(&[], 0).expect("spaced", "ran");
    assert_eq!(p.read("résultat final.txt"), "x\n");
    p.repro(&[], 0).expect("spaced", "skipped");
    p.remove("résultat final.txt");
    p.run(&["checkout"]).code(0);
    assert_eq!(p.read("résultat final.txt"), "x\n");
}
