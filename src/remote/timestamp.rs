//! UTC timestamps of snapshots, `YYYYMMDDTHHMMSSZ`: sortable as text, valid in any key.
//! Taken when a snapshot is written (wall clock: never part of anything hashed).

use std::time::{SystemTime, UNIX_EPOCH};

/// Format seconds since the Unix epoch as `YYYYMMDDTHHMMSSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
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

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
