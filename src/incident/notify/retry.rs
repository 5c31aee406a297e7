//! Which failed deliveries are tried again, and after how long: server errors (5xx), 429
//! (honouring Retry-After, capped), timeouts and connection errors; a 4xx other than 429 says
//! the request itself is wrong (Slack: a revoked webhook) and is not repeated. Delays double
//! from `base`, capped, with ±20 % jitter so several consoles do not retry in step.

use std::fmt;
use std::time::Duration;

/// The longest Retry-After honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Why one POST failed. Never holds the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostError {
    /// The receiver answered with this status (and the start of its body).
    Status {
        code: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    /// No whole answer within this long.
    TimedOut(Duration),
    Refused,
    Connect(String),
    /// The request could not be made at all.
    Client(String),
}

impl PostError {
    pub fn retryable(&self) -> bool {
        match self {
            PostError::Status { code, .. } => *code == 429 || *code >= 500,
            PostError::TimedOut(_) | PostError::Refused | PostError::Connect(_) => true,
            PostError::Client(_) => false,
        }
    }
}

impl fmt::Display for PostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PostError::Status { code, body, .. } if body.is_empty() => write!(f, "HTTP {code}"),
            PostError::Status { code, body, .. } => write!(f, "HTTP {code}: {body}"),
            PostError::TimedOut(after) => write!(
                f,
                "no answer within {} ([notify] timeout)",
                crate::config::units::HumanDuration(*after)
            ),
            PostError::Refused => f.write_str("connection refused"),
            PostError::Connect(why) => write!(f, "cannot connect: {why}"),
            PostError::Client(why) => write!(f, "cannot send: {why}"),
        }
    }
}

/// Delays between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait after failed attempt `attempt` (1 = the first try).
    pub fn delay(&self, attempt: u32, error: &PostError) -> Duration {
        if let PostError::Status {
            retry_after: Some(after),
            ..
        } = error
        {
            return (*after).min(MAX_RETRY_AFTER);
        }
        let doubled = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = doubled.min(self.max);
        capped.mul_f64(0.8 + fastrand::f64() * 0.4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> PostError {
        PostError::Status {
            code,
            body: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn server_errors_and_network_failures_are_retried() {
        assert!(status(500).retryable() && status(503).retryable() && status(429).retryable());
        assert!(!status(400).retryable() && !status(404).retryable());
        assert!(PostError::Refused.retryable());
        assert!(PostError::TimedOut(Duration::from_secs(1)).retryable());
        assert!(!PostError::Client("x".to_string()).retryable());
    }

    #[test]
    fn delays_double_up_to_the_cap_with_jitter() {
        let b = Backoff::default();
        for (attempt, nominal) in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (40, 30.0)] {
            let d = b.delay(attempt, &status(500)).as_secs_f64();
            assert!(
                d >= nominal * 0.8 - 1e-9 && d <= nominal * 1.2 + 1e-9,
                "{attempt}: {d}"
            );
        }
        let limited = PostError::Status {
            code: 429,
            body: String::new(),
            retry_after: Some(Duration::from_secs(600)),
        };
        assert_eq!(b.delay(1, &limited), MAX_RETRY_AFTER);
    }
}
