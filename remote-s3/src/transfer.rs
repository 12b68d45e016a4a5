//! Multipart transfers: large uploads in parallel parts and large server-side copies.
//!
//! The object appears only when CompleteMultipartUpload succeeds; any failure aborts the
//! upload (after the parts still in flight have stopped), so a killed or failed push leaves no
//! half object behind, only, at worst, an incomplete upload that the bucket's lifecycle rule
//! (or the next abort) cleans up.

use crate::error::classify;
use crate::Inner;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use netsec_engine::remote::{Progress, RemoteError, RemoteErrorKind};
use std::future::Future;
use std::path::{Path, PathBuf};
use tokio::task::JoinSet;

/// S3 allows at most this many parts per upload.
const MAX_PARTS: u64 = 10_000;
const MIB: u64 = 1024 * 1024;

/// Parts of `size` bytes: `(part number, offset, length)`, each `part` long but the last.
fn ranges(size: u64, part: u64) -> Vec<(i32, u64, u64)> {
    // Grow parts (in whole MiB) when the file would need more than MAX_PARTS of them.
    let part = part
        .max(size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB)
        .max(1);
    (0..size.div_ceil(part))
        .map(|i| {
            let off = i * part;
            ((i + 1) as i32, off, part.min(size - off))
        })
        .collect()
}

/// Percent-encodes a key for `x-amz-copy-source` (`/` kept as the separator).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Inner {
    /// A client override waiting for the response to a request that carries `bytes`.
    fn read_timeout_for(&self, bytes: u64) -> aws_sdk_s3::config::Builder {
        let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(crate::CONNECT_TIMEOUT)
            .read_timeout(crate::transfer_timeout(self.timeout, bytes))
            .build();
        aws_sdk_s3::config::Builder::default().timeout_config(timeouts)
    }

    pub(crate) async fn put_file(
        &self,
        key: &str,
        src: &Path,
        progress: Progress<'_>,
    ) -> Result<(), RemoteError> {
        let size = std::fs::metadata(src)
            .map_err(|e| crate::error::io_error("read", src, &e).with_key(key))?
            .len();
        if size <= self.tuning.multipart_threshold {
            return self.put_small(key, src, size, progress).await;
        }
        let me = self.clone();
        let src: PathBuf = src.to_path_buf();
        let rel = key.to_string();
        self.multipart(
            key,
            true,
            ranges(size, self.tuning.part_size),
            progress,
            move |id, n, off, len| {
                let (me, src, rel, id) = (me.clone(), src.clone(), rel.clone(), id.to_string());
                async move { me.upload_part(&rel, &id, &src, n, off, len).await }
            },
        )
        .await
    }

    async fn upload_part(
        &self,
        key: &str,
        id: &str,
        src: &Path,
        n: i32,
        off: u64,
        len: u64,
    ) -> Result<CompletedPart, RemoteError> {
        // A file-backed body: the SDK re-reads the range itself when it retries the part.
        let body = ByteStream::read_from()
            .path(src)
            .offset(off)
            .length(Length::Exact(len))
            .build()
            .await
            .map_err(|e| {
                RemoteError::new(
                    RemoteErrorKind::Other,
                    format!("read {}: {e}", src.display()),
                )
                .with_key(key)
            })?;
        let out = self
            .client
            .upload_part()
            .bucket(&self.loc.bucket)
            .key(self.loc.full_key(key))
            .upload_id(id)
            .part_number(n)
            .content_length(len as i64)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(body)
            .customize()
            .config_override(self.read_timeout_for(len))
            .send()
            .await
            .map_err(|e| classify(e, &format!("UPLOAD PART {n}"), Some(key), &self.target))?;
        Ok(CompletedPart::builder()
            .part_number(n)
            .set_e_tag(out.e_tag().map(str::to_string))
            .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
            .build())
    }

    pub(crate) async fn copy(&self, from: &str, to: &str) -> Result<(), RemoteError> {
        let full_from = self.loc.full_key(from);
        let head = self
            .client
            .head_object()
            .bucket(&self.loc.bucket)
            .key(&full_from)
            .send()
            .await
            .map_err(|e| classify(e, "HEAD", Some(from), &self.target))?;
        let size = head.content_length().map_or(0, |s| s.max(0) as u64);
        let source = format!("{}/{}", self.loc.bucket, encode_key(&full_from));
        if size <= self.tuning.copy_threshold {
            self.client
                .copy_object()
                .bucket(&self.loc.bucket)
                .key(self.loc.full_key(to))
                .copy_source(&source)
                .send()
                .await
                .map_err(|e| classify(e, &format!("COPY {from} to"), Some(to), &self.target))?;
            return Ok(());
        }
        // CopyObject stops at 5 GiB: copy ranges of the source as parts, still server-side.
        let me = self.clone();
        let rel = to.to_string();
        let ignore = |_: u64| {};
        self.multipart(
            to,
            false,
            ranges(size, self.tuning.copy_part_size),
            &ignore,
            move |id, n, off, len| {
                let (me, rel, id, source) =
                    (me.clone(), rel.clone(), id.to_string(), source.clone());
                async move {
                    let out = me
                        .client
                        .upload_part_copy()
                        .bucket(&me.loc.bucket)
                        .key(me.loc.full_key(&rel))
                        .upload_id(&id)
                        .part_number(n)
                        .copy_source(&source)
                        .copy_source_range(format!("bytes={off}-{}", off + len - 1))
                        .customize()
                        .config_override(me.read_timeout_for(len))
                        .send()
                        .await
                        .map_err(|e| {
                            classify(e, &format!("COPY PART {n}"), Some(&rel), &me.target)
                        })?;
                    Ok(CompletedPart::builder()
                        .part_number(n)
                        .set_e_tag(
                            out.copy_part_result()
                                .and_then(|r| r.e_tag())
                                .map(str::to_string),
                        )
                        .build())
                }
            },
        )
        .await
    }

    /// Create, run the parts (`parts_in_flight` at a time), complete; abort on any failure.
    async fn multipart<F, Fut>(
        &self,
        key: &str,
        crc32: bool,
        parts: Vec<(i32, u64, u64)>,
        progress: Progress<'_>,
        part: F,
    ) -> Result<(), RemoteError>
    where
        F: Fn(&str, i32, u64, u64) -> Fut,
        Fut: Future<Output = Result<CompletedPart, RemoteError>> + Send + 'static,
    {
        let full = self.loc.full_key(key);
        let mut create = self
            .client
            .create_multipart_upload()
            .bucket(&self.loc.bucket)
            .key(&full);
        if crc32 {
            create = create.checksum_algorithm(ChecksumAlgorithm::Crc32);
        }
        let created = create
            .send()
            .await
            .map_err(|e| classify(e, "CREATE MULTIPART UPLOAD", Some(key), &self.target))?;
        let id = created
            .upload_id()
            .ok_or_else(|| {
                RemoteError::new(
                    RemoteErrorKind::Other,
                    format!("{}: the server returned no upload id", self.target.url),
                )
                .with_key(key)
            })?
            .to_string();

        let result = match self.run_parts(&id, parts, progress, part).await {
            Ok(done) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.loc.bucket)
                .key(&full)
                .upload_id(&id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(done))
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify(e, "COMPLETE MULTIPART UPLOAD", Some(key), &self.target)),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let abort = self
                .client
                .abort_multipart_upload()
                .bucket(&self.loc.bucket)
                .key(&full)
                .upload_id(&id)
                .send()
                .await;
            if let Err(a) = abort {
                tracing::warn!(key, error = %classify(a, "ABORT MULTIPART UPLOAD", Some(key), &self.target), "could not abort the multipart upload");
            }
            return Err(e);
        }
        Ok(())
    }

    async fn run_parts<F, Fut>(
        &self,
        id: &str,
        parts: Vec<(i32, u64, u64)>,
        progress: Progress<'_>,
        part: F,
    ) -> Result<Vec<CompletedPart>, RemoteError>
    where
        F: Fn(&str, i32, u64, u64) -> Fut,
        Fut: Future<Output = Result<CompletedPart, RemoteError>> + Send + 'static,
    {
        let mut done = Vec::with_capacity(parts.len());
        let mut set: JoinSet<Result<(CompletedPart, u64), RemoteError>> = JoinSet::new();
        let mut queue = parts.into_iter();
        let failure = loop {
            while set.len() < self.tuning.parts_in_flight {
                let Some((n, off, len)) = queue.next() else {
                    break;
                };
                let fut = part(id, n, off, len);
                set.spawn(async move { fut.await.map(|p| (p, len)) });
            }
            match set.join_next().await {
                None => break None,
                Some(Ok(Ok((p, len)))) => {
                    progress(len);
                    done.push(p);
                }
                Some(Ok(Err(e))) => break Some(e),
                Some(Err(join)) => {
                    break Some(RemoteError::new(
                        RemoteErrorKind::Other,
                        format!("{}: a part upload failed: {join}", self.target.url),
                    ))
                }
            }
        };
        if let Some(e) = failure {
            // Stop the other parts before the caller aborts the upload, or a late part could
            // land after the abort and keep the upload's storage alive.
            set.shutdown().await;
            return Err(e);
        }
        done.sort_by_key(|p| p.part_number());
        Ok(done)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_file_exactly() {
        let r = ranges(20 * MIB + 3, 8 * MIB);
        assert_eq!(r.len(), 3);
        assert_eq!(r[2], (3, 16 * MIB, 4 * MIB + 3));
        assert_eq!(r.iter().map(|x| x.2).sum::<u64>(), 20 * MIB + 3);
        // 100 GiB at 8 MiB would be 12,800 parts: parts grow to stay within 10,000.
        let big = ranges(100 * 1024 * MIB, 8 * MIB);
        assert!(big.len() as u64 <= MAX_PARTS);
        assert_eq!(big.iter().map(|x| x.2).sum::<u64>(), 100 * 1024 * MIB);
    }

    #[test]
    fn copy_source_is_percent_encoded() {
        assert_eq!(
            encode_key("artifact/2026/a b+c.csv"),
            "artifact/2026/a%20b%2Bc.csv"
        );
    }
}
