//! `exp apply NAME`: the experiment's outs into the workspace from the cache and its lock
//! entries into `netsec.lock`, no stage run (its params are written first by the caller,
//! with `params_edit`, before the pipeline is loaded). Afterwards `status` is up to date when
//! the workspace is the experiment's base plus its overrides.

use crate::error::Error;
use crate::exp::record::ExpRecord;
use crate::run_cache;
use crate::workspace::Repo;

/// Restore every stage the record's lock holds and the pipeline declares; returns their names.
pub fn restore_outs(repo: &Repo, rec: &ExpRecord) -> Result<Vec<String>, Error> {
    let Some(exp_lock) = rec.lockfile()? else {
        return Err(Error::Usage {
            message: format!("experiment `{}` has no recorded lock", rec.name),
            hint: Some("only a finished experiment can be applied".into()),
        });
    };
    let mut lock = repo.load_lock()?;
    let mut applied = Vec::new();
    for (name, entry) in exp_lock.stages {
        let Some(stage) = repo.pipeline.stages.get(&name) else {
            continue;
        };
        // The record is untrusted: only outs this stage declares are written.
        if let Some(p) = entry
            .outs
            .keys()
            .find(|p| !stage.outs.iter().any(|o| &o.path == *p))
        {
            return Err(Error::Usage {
                message: format!(
                    "experiment `{}`: stage `{name}` records out `{p}`, which pipeline.toml does not declare",
                    rec.name
                ),
                hint: Some("apply it on the commit it was run from (`git checkout BASE`)".into()),
            });
        }
        let io = |e: std::io::Error| Error::io("restore", repo.root.join(&name), e);
        match run_cache::lookup(repo, &entry.fingerprint).filter(|r| r.outs == entry.outs) {
            Some(run) => run.restore(repo).map_err(io)?,
            None => {
                for (path, out) in &entry.outs {
                    if out.cache {
                        crate::restore::restore_out(repo, path, out)
                            .map_err(|e| Error::io("restore", path.to_path(&repo.root), e))?;
                    } else {
                        return Err(Error::Usage {
                            message: format!(
                                "experiment `{}`: the uncached out `{path}` of `{name}` is kept nowhere",
                                rec.name
                            ),
                            hint: Some(format!("run `netsec repro {name}` after applying")),
                        });
                    }
                }
            }
        }
        lock.stages.insert(name.clone(), entry);
        applied.push(name);
    }
    lock.save(&repo.root)?;
    crate::gitignore::sync_recorded(repo, &lock);
    Ok(applied)
}
