//! `init`: lay down a pipeline.toml skeleton, `.netsec/`, `.dvcignore` and .gitignore entries.

use std::path::Path;

use crate::error::Error;

const SKELETON: &str = r#"# netsec pipeline: `netsec repro` runs the stale stages, `netsec status` says why.
#
# [params]
# train = { c = 1.0 }
#
# [stages.prepare]
# cmd = "python3 prep.py data/raw.csv artifacts/prepare/clean.csv"
# deps = ["data/raw.csv", "prep.py"]
# outs = ["artifacts/prepare/clean.csv"]
"#;

/// What `init` created (paths relative to the root).
pub fn init(root: &Path) -> Result<Vec<String>, Error> {
    let mut created = Vec::new();
    let write_new = |rel: &str, text: &str, created: &mut Vec<String>| -> Result<(), Error> {
        let p = root.join(rel);
        if !p.exists() {
            std::fs::write(&p, text).map_err(|e| Error::io("write", &p, e))?;
            created.push(rel.to_string());
        }
        Ok(())
    };
    write_new("pipeline.toml", SKELETON, &mut created)?;
    write_new(
        ".dvcignore",
        "# Paths ignored when hashing directory deps and outs (gitignore syntax).\n",
        &mut created,
    )?;
    let dot = root.join(".netsec");
    if !dot.exists() {
        std::fs::create_dir_all(dot.join("cache")).map_err(|e| Error::io("create", &dot, e))?;
        created.push(".netsec/".into());
    }
    let gi = root.join(".gitignore");
    let current = std::fs::read_to_string(&gi).unwrap_or_default();
    if !current
        .lines()
        .any(|l| l.trim() == "/.netsec/" || l.trim() == ".netsec/" || l.trim() == ".netsec")
    {
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("/.netsec/\n");
        std::fs::write(&gi, text).map_err(|e| Error::io("write", &gi, e))?;
        created.push(".gitignore entry `/.netsec/`".into());
    }
    Ok(created)
}
