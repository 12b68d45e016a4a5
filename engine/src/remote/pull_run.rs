//! `repro --pull`: before running a stage, look for its result on the remote. Either the
//! remote run-cache has an entry for the stage's fingerprint (its objects are fetched and the
//! entry recorded locally, so the ordinary run-cache restore takes over), or the lock already
//! records this very fingerprint and only the outs are missing locally (they are fetched and
//! restored, like `netsec pull` for that stage).

use std::collections::BTreeMap;

use super::fetch::fetch_records;
use super::handle::Named;
use super::observer::Silent;
use super::{run_key, RemoteErrorKind};
use crate::error::Error;
use crate::fingerprint::Fingerprint;
use crate::lock::OutRecord;
use crate::repo_path::RepoPath;
use crate::run_cache::{self, RunEntry};
use crate::workspace::Repo;

/// Transfer threads per stage (stages themselves run in parallel).
const JOBS: usize = 4;

/// Fetch the remote run-cache entry of `fp` and its objects. `Ok(None)`: the remote has none.
pub fn fetch_run(repo: &Repo, named: &Named, fp: &Fingerprint) -> Result<Option<RunEntry>, Error> {
    let key = fp.key();
    let bytes = match named.remote.get_bytes(&run_key(&key.to_hex())) {
        Ok(b) => b,
        Err(e) if e.kind == RemoteErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(named.err("fetch a run-cache entry", e)),
    };
    let entry: RunEntry = match serde_json::from_slice(&bytes) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("remote run-cache entry {key} does not parse: {e}; ignored");
            return Ok(None);
        }
    };
    if !entry.fits(fp) {
        tracing::warn!("remote run-cache entry {key} names other outs than the stage; ignored");
        return Ok(None);
    }
    fetch_records(repo, named, entry.outs.values(), JOBS, &Silent)?;
    // Recorded only once its objects are local: `run_cache::lookup` then finds it complete.
    run_cache::record_bytes(repo, &key, &bytes)
        .map_err(|e| Error::io("record", repo.runs_dir(), e))?;
    Ok(Some(entry))
}

/// Fetch the objects of `outs` (a lock entry's outs) so they can be restored.
pub fn fetch_outs(
    repo: &Repo,
    named: &Named,
    outs: &BTreeMap<RepoPath, OutRecord>,
) -> Result<(), Error> {
    fetch_records(repo, named, outs.values(), JOBS, &Silent).map(|_| ())
}
