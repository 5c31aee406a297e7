//! What delivery has done so far, per sink, for the console's status line and `fleetdeck
//! status`: counts, the last error and when. The URL appears only as scheme and host.

use time::OffsetDateTime;

/// One sink's delivery record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkStatus {
    /// `slack` or `webhook`.
    pub sink: &'static str,
    /// Scheme and host of its URL.
    pub target: String,
    /// Messages delivered (notices and rate-limit summaries).
    pub sent: u64,
    /// Attempts that failed and were tried again.
    pub retried: u64,
    /// Messages given up on after the last attempt, or refused outright (4xx).
    pub failed: u64,
    /// Notices dropped because the sink's queue was full.
    pub dropped_full: u64,
    /// Notices dropped by the rate limit.
    pub dropped_rate: u64,
    pub last_error: Option<String>,
    pub last_error_at: Option<OffsetDateTime>,
    pub last_sent_at: Option<OffsetDateTime>,
}

impl SinkStatus {
    pub(crate) fn new(sink: &'static str, target: &str) -> SinkStatus {
        SinkStatus {
            sink,
            target: target.to_string(),
            sent: 0,
            retried: 0,
            failed: 0,
            dropped_full: 0,
            dropped_rate: 0,
            last_error: None,
            last_error_at: None,
            last_sent_at: None,
        }
    }

    /// Whether the last thing that happened was a failure (sent nothing since the last error).
    pub fn failing(&self) -> bool {
        match (self.last_error_at, self.last_sent_at) {
            (Some(err), Some(ok)) => err > ok,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// One line: `slack https://hooks.slack.com/…: 12 sent, 1 failed, 3 dropped (last error: HTTP 500)`.
    pub fn summary(&self) -> String {
        let mut line = format!("{} {}: {} sent", self.sink, self.target, self.sent);
        if self.failed > 0 {
            line.push_str(&format!(", {} failed", self.failed));
        }
        let dropped = self.dropped_full + self.dropped_rate;
        if dropped > 0 {
            line.push_str(&format!(", {dropped} dropped"));
        }
        if self.failing()
            && let Some(error) = &self.last_error
        {
            line.push_str(&format!(" (last error: {error})"));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_says_what_matters() {
        let mut s = SinkStatus::new("slack", "https://hooks.slack.com/…");
        assert_eq!(s.summary(), "slack https://hooks.slack.com/…: 0 sent");
        s.sent = 12;
        s.failed = 1;
        s.dropped_rate = 3;
        s.last_error = Some("HTTP 500".to_string());
        s.last_error_at = Some(OffsetDateTime::UNIX_EPOCH);
        assert!(s.failing());
        assert_eq!(
            s.summary(),
            "slack https://hooks.slack.com/…: 12 sent, 1 failed, 3 dropped (last error: HTTP 500)"
        );
        s.last_sent_at = Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1));
        assert!(!s.failing());
    }
}
