//! A killed push's multipart uploads: listed under the remote's prefix (ListMultipartUploads)
//! and aborted (AbortMultipartUpload) once initiated more than the grace period ago. Until
//! then S3 keeps their parts (and bills them) without ever listing them as objects.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netsec_engine::remote::{RemoteError, RemoteErrorKind};

use crate::error::classify;
use crate::Inner;

/// Whether an upload initiated at `initiated` (seconds since the epoch) is older than
/// `older_than` at `now`. An upload without a date is treated as stale: S3 always sends one.
pub(crate) fn is_stale(initiated: Option<i64>, older_than: Duration, now: i64) -> bool {
    match initiated {
        Some(t) => now.saturating_sub(t) > older_than.as_secs() as i64,
        None => true,
    }
}

impl Inner {
    /// Lists the multipart uploads under the prefix and aborts the stale ones (unless
    /// `dry_run`); returns how many were stale.
    pub(crate) async fn abort_unfinished(
        &self,
        older_than: Duration,
        dry_run: bool,
    ) -> Result<u64, RemoteError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut stale: Vec<(String, String)> = Vec::new();
        let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.loc.bucket)
                .prefix(&self.loc.prefix)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await
                .map_err(|e| classify(e, "LIST MULTIPART UPLOADS", None, &self.target))?;
            for u in page.uploads() {
                let (Some(key), Some(id)) = (u.key(), u.upload_id()) else {
                    continue;
                };
                if is_stale(u.initiated().map(|t| t.secs()), older_than, now) {
                    stale.push((key.to_string(), id.to_string()));
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            id_marker = page.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() && id_marker.is_none() {
                break;
            }
        }
        if !dry_run {
            for (full, id) in &stale {
                let rel = full.strip_prefix(&self.loc.prefix).unwrap_or(full);
                let r = self
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.loc.bucket)
                    .key(full)
                    .upload_id(id)
                    .send()
                    .await;
                if let Err(e) = r {
                    let e = classify(e, "ABORT MULTIPART UPLOAD", Some(rel), &self.target);
                    // Gone meanwhile (completed or aborted by another client): nothing to do.
                    if e.kind != RemoteErrorKind::NotFound {
                        return Err(e);
                    }
                }
            }
        }
        Ok(stale.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uploads_older_than_the_grace_period_are_stale() {
        let day = Duration::from_secs(86_400);
        assert!(!is_stale(Some(1_000), day, 1_000 + 86_400));
        assert!(is_stale(Some(1_000), day, 1_000 + 86_401));
        assert!(
            !is_stale(Some(2_000), day, 1_000),
            "a clock behind the server's"
        );
        assert!(is_stale(None, day, 0));
    }
}
