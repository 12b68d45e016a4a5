//! Headless Chromium for the page tests: where it is, and the DOM of a page after its scripts
//! (and their fetches) settled.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The browser, or `None` with a note (a failure when `NETSEC_REQUIRE_SERVICES=1`, where
/// scripts/test.sh installed it).
pub fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("NETSEC_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "chromium is not installed (scripts/test.sh installs it)"
        );
        eprintln!("NOTE: chromium not installed (apt-get install chromium); browser check skipped");
    }
    found
}

/// The flags every page test starts Chromium with (headless, no sandbox, no network of its own).
pub const HEADLESS_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
];

/// `chromium --headless --dump-dom URL` with a fresh profile; virtual time lets the page's
/// fetches finish first. Panics with chromium's stderr when it fails.
pub fn dump_dom(exe: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(exe)
        .args(HEADLESS_FLAGS)
        .args(["--virtual-time-budget=15000", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
