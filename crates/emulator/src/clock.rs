//! Timestamps as Auth0 writes them: RFC 3339 in UTC with milliseconds.

use jiff::Timestamp;

/// Now, as `2026-11-23T08:45:24.123Z`.
pub fn iso_now() -> String {
    format!("{:.3}", Timestamp::now())
}

/// `secs` after the epoch, as `2024-02-29T12:00:00.000Z`.
pub fn iso_at(secs: i64) -> String {
    Timestamp::from_second(secs).map_or_else(|_| iso_now(), |t| format!("{t:.3}"))
}

/// Seconds since the epoch, now.
pub fn epoch_now() -> i64 {
    Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_have_milliseconds_and_zulu() {
        assert_eq!(super::iso_at(0), "1970-01-01T00:00:00.000Z");
    }
}
