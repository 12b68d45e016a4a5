//! The single-request operations: head, list, small put, get, delete.

use crate::error::{classify, Chain};
use crate::Inner;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use netsec_engine::remote::{Progress, RemoteError, RemoteErrorKind, RemoteObject};
use std::io::Write;
use std::path::Path;

/// DeleteObjects takes at most this many keys per request.
const DELETE_BATCH: usize = 1000;

impl Inner {
    pub(crate) async fn exists(&self, key: &str) -> Result<bool, RemoteError> {
        let full = self.loc.full_key(key);
        match self
            .client
            .head_object()
            .bucket(&self.loc.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => {
                let err = classify(e, "HEAD", Some(key), &self.target);
                // HEAD has no body: a missing key and a missing bucket both read 404. A missing
                // bucket then surfaces on the first write, as NoSuchBucket.
                if err.kind == RemoteErrorKind::NotFound {
                    Ok(false)
                } else {
                    Err(err)
                }
            }
        }
    }

    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<RemoteObject>, RemoteError> {
        let full = self.loc.full_key(prefix);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.loc.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(e, "LIST", Some(prefix), &self.target))?;
            for o in page.contents() {
                let Some(k) = o.key() else { continue };
                let Some(rel) = k.strip_prefix(&self.loc.prefix) else {
                    continue;
                };
                out.push(RemoteObject {
                    key: rel.to_string(),
                    size: o.size().map_or(0, |s| s.max(0) as u64),
                });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    pub(crate) async fn put_bytes(&self, key: &str, bytes: &[u8]) -> Result<(), RemoteError> {
        self.client
            .put_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.full_key(key))
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map_err(|e| classify(e, "PUT", Some(key), &self.target))?;
        Ok(())
    }

    /// One PutObject streamed from the file (the SDK re-opens it if a retry is needed).
    pub(crate) async fn put_small(
        &self,
        key: &str,
        src: &Path,
        size: u64,
        progress: Progress<'_>,
    ) -> Result<(), RemoteError> {
        let body = ByteStream::read_from()
            .path(src)
            .length(aws_sdk_s3::primitives::Length::Exact(size))
            .build()
            .await
            .map_err(|e| {
                RemoteError::new(
                    RemoteErrorKind::Other,
                    format!("read {}: {e}", src.display()),
                )
                .with_key(key)
            })?;
        self.client
            .put_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.full_key(key))
            .content_length(size as i64)
            .body(body)
            .send()
            .await
            .map_err(|e| classify(e, "PUT", Some(key), &self.target))?;
        progress(size);
        Ok(())
    }

    pub(crate) async fn get_file(
        &self,
        key: &str,
        dest: &Path,
        progress: Progress<'_>,
    ) -> Result<(), RemoteError> {
        let resp = self
            .client
            .get_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.full_key(key))
            .send()
            .await
            .map_err(|e| classify(e, "GET", Some(key), &self.target))?;
        let mut file = std::fs::File::create(dest)
            .map_err(|e| crate::error::io_error("create", dest, &e).with_key(key))?;
        let mut body = resp.body;
        loop {
            match body.try_next().await {
                Ok(Some(chunk)) => {
                    // Blocking write: we run on the caller's thread (block_on), not a runtime worker.
                    file.write_all(&chunk)
                        .map_err(|e| crate::error::io_error("write", dest, &e).with_key(key))?;
                    progress(chunk.len() as u64);
                }
                Ok(None) => break,
                Err(e) => return Err(self.body_error("GET", key, &e)),
            }
        }
        file.flush()
            .map_err(|e| crate::error::io_error("write", dest, &e).with_key(key))?;
        Ok(())
    }

    pub(crate) async fn get_bytes(&self, key: &str) -> Result<Vec<u8>, RemoteError> {
        let resp = self
            .client
            .get_object()
            .bucket(&self.loc.bucket)
            .key(self.loc.full_key(key))
            .send()
            .await
            .map_err(|e| classify(e, "GET", Some(key), &self.target))?;
        let data = resp
            .body
            .collect()
            .await
            .map_err(|e| self.body_error("GET", key, &e))?;
        Ok(data.into_bytes().to_vec())
    }

    pub(crate) async fn delete(&self, keys: &[String]) -> Result<(), RemoteError> {
        for batch in keys.chunks(DELETE_BATCH) {
            let ids = batch
                .iter()
                .map(|k| {
                    ObjectIdentifier::builder()
                        .key(self.loc.full_key(k))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    RemoteError::new(
                        RemoteErrorKind::Other,
                        format!("DELETE {}: {e}", self.target.url),
                    )
                })?;
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| {
                    RemoteError::new(
                        RemoteErrorKind::Other,
                        format!("DELETE {}: {e}", self.target.url),
                    )
                })?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.loc.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| classify(e, "DELETE", None, &self.target))?;
            // Quiet mode lists only the failures; a key already gone is not one.
            if let Some(err) = out.errors().iter().find(|e| e.code() != Some("NoSuchKey")) {
                let full = err.key().unwrap_or("?");
                let rel = full.strip_prefix(&self.loc.prefix).unwrap_or(full);
                let code = err.code().unwrap_or("error");
                let kind = match code {
                    "AccessDenied" => RemoteErrorKind::Denied,
                    _ => RemoteErrorKind::Other,
                };
                return Err(RemoteError::new(
                    kind,
                    format!(
                        "DELETE s3://{}/{full}: {code}: {} ({} of {} keys in this batch failed)",
                        self.loc.bucket,
                        err.message().unwrap_or(""),
                        out.errors().len(),
                        batch.len()
                    ),
                )
                .with_key(rel));
            }
        }
        Ok(())
    }

    /// A response body that broke off mid-stream.
    pub(crate) fn body_error(&self, op: &str, key: &str, e: &dyn std::error::Error) -> RemoteError {
        // The SDK checks the response's CRC32 as the body streams in.
        let text = Chain(e).to_string();
        if text.contains("checksum mismatch") {
            return RemoteError::new(
                RemoteErrorKind::Corrupt,
                format!("{op} on {}: {text}", self.target.url),
            )
            .with_key(key)
            .with_hint(
                "the object's content does not match the checksum the server stored with it",
            );
        }
        RemoteError::new(
            RemoteErrorKind::Unreachable,
            format!(
                "{op} on {}: the download from {} broke off: {text}",
                self.target.url, self.target.endpoint
            ),
        )
        .with_key(key)
        .with_hint(format!(
            "is the S3 endpoint {} up? rerun to resume",
            self.target.endpoint
        ))
    }
}
