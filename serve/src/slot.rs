//! `ModelSlot`: the live model behind an `ArcSwapOption`. Requests take a snapshot (`Arc`) and
//! finish on it even if a reload swaps in a new model meanwhile. Reloads come from a finished
//! training task or from `bundle.json` changing on disk (polled: mtime + size + inode).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;

use crate::model::LoadedModel;

/// What identifies one version of the bundle file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub modified: Option<SystemTime>,
    pub len: u64,
    pub ino: u64,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let ino = 0;
        Some(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            ino,
        })
    }
}

/// Result of one reload attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// The file is the one already seen (loaded or rejected before).
    Unchanged,
    /// A new model is live.
    Swapped,
    /// The file is gone; the current model (if any) stays.
    Missing,
    /// The new file is broken; the current model stays. The message says why.
    Rejected(String),
}

/// The live model and the stamp of the file it was loaded from.
#[derive(Debug)]
pub struct ModelSlot {
    path: PathBuf,
    current: ArcSwapOption<LoadedModel>,
    /// The stamp last examined (loaded or rejected), so a broken file is not retried until it
    /// changes again. The mutex also serialises reloads.
    seen: Mutex<Option<FileStamp>>,
}

impl ModelSlot {
    /// A slot for `bundle_path`, loading it now if it exists (a broken bundle logs a warning and
    /// leaves the slot empty: the server still starts, `/health` says `model_loaded: false`).
    pub fn open(bundle_path: PathBuf) -> ModelSlot {
        let slot = ModelSlot {
            path: bundle_path,
            current: ArcSwapOption::empty(),
            seen: Mutex::new(None),
        };
        match slot.reload(false) {
            Reload::Swapped => {}
            // Not a warning: `netsec serve` says "no model yet" in its start lines.
            Reload::Missing => tracing::info!(
                path = %slot.path.display(),
                "no model bundle yet: /predict answers 503 until one is trained (POST /train or `netsec repro`)"
            ),
            Reload::Rejected(msg) => {
                tracing::warn!(path = %slot.path.display(), "model bundle not loaded: {msg}")
            }
            Reload::Unchanged => {}
        }
        slot
    }

    /// The current model, if any; cheap (an atomic load and a reference-count increment).
    pub fn get(&self) -> Option<Arc<LoadedModel>> {
        self.current.load_full()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the bundle if its stamp differs from the last one seen (or always with `force`)
    /// and swaps it in when it loads. Blocking: call from a blocking thread.
    pub fn reload(&self, force: bool) -> Reload {
        let mut seen = match self.seen.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(stamp) = FileStamp::of(&self.path) else {
            *seen = None;
            return Reload::Missing;
        };
        if !force && *seen == Some(stamp) {
            return Reload::Unchanged;
        }
        *seen = Some(stamp);
        match LoadedModel::load(&self.path) {
            Ok(model) => {
                tracing::info!(
                    path = %self.path.display(),
                    version = %model.card.version,
                    "model loaded"
                );
                self.current.store(Some(Arc::new(model)));
                Reload::Swapped
            }
            Err(msg) => {
                tracing::warn!(
                    path = %self.path.display(),
                    "new model bundle rejected, keeping the current model: {msg}"
                );
                Reload::Rejected(msg)
            }
        }
    }
}

/// Polls the bundle file every `interval` until the returned future is dropped; each poll is
/// one `stat`, and a load happens only when the stamp changed.
pub async fn watch(slot: Arc<ModelSlot>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; the slot was just loaded
    loop {
        tick.tick().await;
        let slot = Arc::clone(&slot);
        if let Err(e) = tokio::task::spawn_blocking(move || slot.reload(false)).await {
            tracing::warn!("model reload task failed: {e}");
        }
    }
}
