//! ISO-8601 instants for the JSON the control port serves (`/traces`, `/scripting`).

use std::time::Duration;

/// `2026-11-27T06:15:03.123Z`: the instant `since_epoch` after 1970-01-01T00:00:00Z, in
/// UTC with millisecond precision.
pub(crate) fn iso_instant(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_iso_8601_utc() {
        assert_eq!(iso_instant(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        let leap_day = Duration::from_millis(1_709_251_199_123);
        assert_eq!(iso_instant(leap_day), "2024-02-29T23:59:59.123Z");
    }
}
