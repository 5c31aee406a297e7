//! Timestamps as every JSONL record carries them: RFC 3339, UTC, milliseconds.

use time::{OffsetDateTime, UtcOffset};

/// The current time as RFC 3339 in UTC with millisecond precision, e.g.
/// `2026-11-22T02:44:44.123Z`. This is the `"ts"` the writer adds to records.
pub fn now_rfc3339() -> String {
    rfc3339_millis(OffsetDateTime::now_utc())
}

/// `t` converted to UTC and written like [`now_rfc3339`] (milliseconds truncated, not rounded).
pub fn rfc3339_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    // Built from the components rather than a format description: this cannot fail.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `t` written like [`now_rfc3339`] (a moment sources report: when a breach or a failure
/// streak began).
pub fn system_rfc3339(t: std::time::SystemTime) -> String {
    rfc3339_millis(OffsetDateTime::from(t))
}

/// Serde for a `SystemTime` written like every other `"ts"` (RFC 3339, UTC, milliseconds).
pub mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339_millis(OffsetDateTime::from(*t)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .map(SystemTime::from)
            .map_err(|e| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    #[test]
    fn formats_utc_with_millis() {
        let t = datetime!(2026-11-22 03:44:44.123_456 +01:00);
        assert_eq!(rfc3339_millis(t), "2026-11-22T02:44:44.123Z");
        let t = datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(rfc3339_millis(t), "2026-01-02T03:04:05.000Z");
    }

    #[test]
    fn now_parses_back_as_rfc3339() {
        let s = now_rfc3339();
        assert_eq!(s.len(), "2026-11-22T02:44:44.123Z".len(), "{s}");
        assert!(s.ends_with('Z'));
        assert!(OffsetDateTime::parse(&s, &Rfc3339).is_ok(), "{s}");
    }
}
