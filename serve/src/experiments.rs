//! `GET /experiments`: the rows of `netsec exp show --json` — the workspace, `HEAD` and every
//! experiment with its params and metrics. Like `/train`, the server does not link the engine:
//! it runs `EXE exp show --json` in the repository root as a child process, bounded in time
//! ([`ServeConfig::exp_show_timeout`]) and output ([`ServeConfig::exp_show_max_bytes`]), one at
//! a time, and parses the output with netsec-protocol's [`ExpRow`], so the page gets exactly the
//! rows and dotted keys of the command.
//!
//! [`ServeConfig::exp_show_timeout`]: crate::ServeConfig::exp_show_timeout
//! [`ServeConfig::exp_show_max_bytes`]: crate::ServeConfig::exp_show_max_bytes

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use netsec_protocol::ExpRow;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::error::ApiError;
use crate::state::AppState;

/// Most bytes of the child's stderr read for an error message.
const MAX_STDERR: u64 = 64 * 1024;

/// What `GET /experiments` runs, and the gate that lets one run at a time.
#[derive(Debug)]
pub struct ExpShow {
    exe: PathBuf,
    root: PathBuf,
    timeout: Duration,
    max_bytes: usize,
    gate: Semaphore,
}

impl ExpShow {
    pub fn new(exe: PathBuf, root: PathBuf, timeout: Duration, max_bytes: usize) -> ExpShow {
        ExpShow {
            exe,
            root,
            timeout,
            max_bytes: max_bytes.max(1),
            gate: Semaphore::new(1),
        }
    }

    /// The rows, or the error reply: 504 when the command (including the wait for another
    /// request's run) takes longer than the timeout, 500 when it cannot start, fails, writes
    /// more than the bound or something that is not `exp show --json`.
    pub async fn rows(&self) -> Result<Vec<ExpRow>, ApiError> {
        let limit = self.timeout;
        match tokio::time::timeout(limit, self.run()).await {
            Ok(result) => result,
            // Dropping the future drops the child, which is killed (`kill_on_drop`).
            Err(_) => Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!(
                    "`netsec exp show --json` did not finish within {}",
                    humantime::format_duration(limit)
                ),
            )),
        }
    }

    async fn run(&self) -> Result<Vec<ExpRow>, ApiError> {
        let _permit = self
            .gate
            .acquire()
            .await
            .map_err(|_| ApiError::internal("the experiments gate is closed"))?;
        let mut child = Command::new(&self.exe)
            .args(["exp", "show", "--json"])
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("NO_COLOR", "1")
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ApiError::internal(format!("cannot run `netsec exp show --json`: {e}")))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let max = self.max_bytes;
        // stderr on its own task, so a child stopped at the stdout bound is killed at once
        // rather than awaited; the task ends at the pipe's end (exit or kill).
        let err = tokio::spawn(read_at_most(stderr, MAX_STDERR));
        let out = read_at_most(stdout, max as u64 + 1).await;
        if out.len() > max {
            return Err(ApiError::internal(format!(
                "`netsec exp show --json` wrote more than {max} bytes (the server's bound); narrow it with `netsec exp remove` of old experiments"
            )));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| ApiError::internal(format!("`netsec exp show --json` failed: {e}")))?;
        if !status.success() {
            let err = err.await.unwrap_or_default();
            let code = status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("code {c}"));
            return Err(ApiError::internal(format!(
                "`netsec exp show --json` exited with {code}: {}",
                self.message(&err)
            )));
        }
        serde_json::from_slice::<Vec<ExpRow>>(&out).map_err(|e| {
            ApiError::internal(format!(
                "`netsec exp show --json` wrote something that is not a list of experiment rows: {e}"
            ))
        })
    }

    /// The child's `error:` line (and its `hint:`), else its last non-empty line; clipped,
    /// the repository path taken out (no reply carries a filesystem path).
    fn message(&self, stderr: &[u8]) -> String {
        let text = String::from_utf8_lossy(stderr);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let error = lines.iter().find_map(|l| l.strip_prefix("error:"));
        let hint = lines.iter().find_map(|l| l.strip_prefix("hint:"));
        let line = match (error, hint) {
            (Some(e), Some(h)) => format!("{} (hint: {})", e.trim(), h.trim()),
            (Some(e), None) => e.trim().to_string(),
            _ => lines.last().copied().unwrap_or("(no message)").to_string(),
        };
        let root = self.root.display().to_string();
        let line = if root.len() > 1 {
            line.replace(&format!("{root}/"), "")
                .replace(&root, "the repository")
        } else {
            line
        };
        crate::truncate::clip(&line)
    }
}

/// Reads `stream` until its end or `limit` bytes.
async fn read_at_most(stream: Option<impl AsyncRead + Unpin>, limit: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(s) = stream {
        // A read error ends the output early; the exit status or the parse reports it.
        let _ = s.take(limit).read_to_end(&mut buf).await;
    }
    buf
}

/// `GET /experiments`: `[ExpRow, …]`, as `netsec exp show --json` prints it.
pub async fn experiments(State(state): State<AppState>) -> Result<Response, ApiError> {
    let rows = state.experiments.rows().await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(rows)).into_response())
}
