//! Comparing the book's and the sources' RFC 3339 times. Sources write them their own way
//! (with or without fractions, any offset): parsed when possible, compared as text otherwise
//! (the book's own times are all UTC with milliseconds, where text order is time order).

use std::cmp::Ordering;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// Time order of two RFC 3339 texts.
pub fn cmp(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// Whether `now` is at least `span` after `then` (an unreadable `then` counts as long ago).
pub fn at_least_after(then: &str, now: OffsetDateTime, span: Duration) -> bool {
    match parse(then) {
        Some(then) => now - then >= span,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_when_possible_text_otherwise() {
        assert!(cmp("2026-12-07T10:00:00Z", "2026-12-07T10:00:00.500Z").is_lt());
        assert!(cmp("2026-12-07T11:00:00+01:00", "2026-12-07T10:00:00Z").is_eq());
        assert!(cmp("b", "a").is_gt());
        let now = parse("2026-12-07T10:10:00Z").unwrap();
        assert!(at_least_after(
            "2026-12-07T10:00:00Z",
            now,
            Duration::from_secs(600)
        ));
        assert!(!at_least_after(
            "2026-12-07T10:00:01Z",
            now,
            Duration::from_secs(600)
        ));
        assert!(at_least_after("garbage", now, Duration::from_secs(600)));
    }
}
