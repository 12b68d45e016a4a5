//! UTC timestamps of snapshots, `YYYYMMDDTHHMMSSZ`: sortable as text, valid in any key.
//! Taken when a snapshot is written (wall clock: never part of anything hashed).

use std::time::{SystemTime, UNIX_EPOCH};

/// Format seconds since the Unix epoch as `YYYYMMDDTHHMMSSZ`: RFC 3339 (humantime's calendar
/// arithmetic) without its separators.
pub fn format_utc(secs: u64) -> String {
    let t = UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace(['-', ':'], "")
}

/// The current time as `YYYYMMDDTHHMMSSZ`.
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// Whether `s` has the shape of a snapshot timestamp.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "19700101T000000Z");
        // 2024-02-29T23:59:59Z (a leap day).
        assert_eq!(format_utc(1_709_251_199), "20240229T235959Z");
        assert_eq!(format_utc(1_795_000_000), "20261118T110640Z");
        assert!(is_timestamp(&now_utc()));
        assert!(!is_timestamp("2026-12-05"));
    }
}
