//! Retries of one host: which failures a policy repeats, how long to wait before the next
//! attempt (exponential backoff with full jitter), and the note shown between attempts.

use std::time::Duration;

use super::types::{HostState, RetryOn, RetryPolicy};
use crate::transport::ExitOutcome;

/// The retry class of a final state; `None` for states that are never retried (ok,
/// cancelled, skipped, and a breaker that is open: trying again cannot help).
pub fn class_of(state: &HostState) -> Option<RetryOn> {
    match state {
        HostState::Unreachable { kind, .. }
            if *kind == crate::transport::ErrorKind::CircuitOpen =>
        {
            None
        }
        HostState::Unreachable { .. } => Some(RetryOn::Unreachable),
        HostState::Timeout { .. } => Some(RetryOn::Timeout),
        HostState::Failed { .. } => Some(RetryOn::Failed),
        HostState::Error { kind, .. } if *kind == crate::transport::ErrorKind::Locked => None,
        HostState::Error { .. } => Some(RetryOn::Error),
        _ => None,
    }
}

/// Whether attempt number `attempt` (1-based), which ended in `state`, is followed by another.
pub fn should_retry(policy: &RetryPolicy, state: &HostState, attempt: u32) -> bool {
    attempt < policy.attempts && class_of(state).is_some_and(|c| policy.on.contains(&c))
}

/// The longest wait after attempt number `attempt` failed: `backoff * 2^(attempt-1)`, capped
/// at `max_backoff`.
pub fn backoff_ceiling(policy: &RetryPolicy, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    policy
        .backoff
        .saturating_mul(1u32 << doublings)
        .min(policy.max_backoff)
}

/// The wait after attempt `attempt` failed: anywhere from zero to the ceiling ("full
/// jitter"), so hosts that failed together do not come back together.
pub fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let ceiling = backoff_ceiling(policy, attempt);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

/// What went wrong in an attempt, in a few words: `unreachable: connect: refused`,
/// `failed: exit code 2`, `timeout: after 5.0s`.
pub fn describe(state: &HostState, detail: Option<&str>) -> String {
    let what = match state {
        HostState::Unreachable { kind, message } | HostState::Error { kind, message } => {
            format!(
                "{}: {}: {}",
                state.label(),
                kind.as_str(),
                first_line(message)
            )
        }
        HostState::Timeout { outcome } | HostState::Failed { outcome } => {
            format!("{}: {}", state.label(), outcome_text(outcome))
        }
        other => other.label().to_string(),
    };
    match detail {
        Some(d) if !d.is_empty() => format!("{what}; {}", first_line(d)),
        _ => what,
    }
}

fn outcome_text(outcome: &ExitOutcome) -> String {
    match outcome {
        ExitOutcome::Code { code } => format!("exit code {code}"),
        ExitOutcome::Signal { signal } => format!("killed by signal {signal}"),
        ExitOutcome::NoStatus => "no exit status".to_string(),
        ExitOutcome::TimedOut { after_ms } => format!("timed out after {}", secs(*after_ms)),
        ExitOutcome::IdleTimedOut { after_ms } => {
            format!("no output for {}", secs(*after_ms))
        }
        ExitOutcome::Cancelled => "cancelled".to_string(),
    }
}

fn secs(ms: u64) -> String {
    format!("{:.1}s", Duration::from_millis(ms).as_secs_f64())
}

/// The first line of `text`, at most 160 characters.
fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(160)
        .collect()
}

/// The stderr note between attempts:
/// `[fleetdeck: attempt 1 of 3 failed (unreachable: connect: …); retrying in 2.3s]`.
pub fn retry_note(attempt: u32, of: u32, why: &str, wait: Duration) -> String {
    format!(
        "{}attempt {attempt} of {of} failed ({why}); retrying in {:.1}s]\n",
        super::records::NOT_RECORDED_PREFIX,
        wait.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::ErrorKind;

    fn policy(attempts: u32, on: Vec<RetryOn>) -> RetryPolicy {
        RetryPolicy {
            attempts,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            on,
        }
    }

    fn unreachable(kind: ErrorKind) -> HostState {
        HostState::Unreachable {
            kind,
            message: "h: connect: refused\nmore".into(),
        }
    }

    #[test]
    fn classes_and_attempts() {
        let p = policy(3, vec![RetryOn::Unreachable, RetryOn::Failed]);
        let failed = HostState::Failed {
            outcome: ExitOutcome::Code { code: 1 },
        };
        let timeout = HostState::Timeout {
            outcome: ExitOutcome::TimedOut { after_ms: 10 },
        };
        assert!(should_retry(&p, &unreachable(ErrorKind::Connect), 1));
        assert!(should_retry(&p, &failed, 2));
        assert!(!should_retry(&p, &failed, 3), "3 attempts in all");
        assert!(!should_retry(&p, &timeout, 1), "timeout is not in `on`");
        assert!(!should_retry(&p, &HostState::Ok, 1));
        assert!(!should_retry(&p, &HostState::Cancelled, 1));
        // An open breaker ends the host: another attempt would be skipped too.
        assert!(!should_retry(&p, &unreachable(ErrorKind::CircuitOpen), 1));
        let error = HostState::Error {
            kind: ErrorKind::Protocol,
            message: "lost".into(),
        };
        assert_eq!(class_of(&error), Some(RetryOn::Error));
        assert_eq!(class_of(&timeout), Some(RetryOn::Timeout));
        assert!(!should_retry(
            &RetryPolicy::default(),
            &unreachable(ErrorKind::Dns),
            1
        ));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let p = policy(10, vec![]);
        let ceilings: Vec<u64> = (1..=5).map(|a| backoff_ceiling(&p, a).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 5, 5]);
        assert_eq!(backoff_ceiling(&p, 1000), Duration::from_secs(5));
        let mut seen_low = false;
        let mut seen_high = false;
        for _ in 0..2000 {
            let d = backoff(&p, 3);
            assert!(d <= Duration::from_secs(4), "{d:?}");
            seen_low |= d < Duration::from_secs(1);
            seen_high |= d > Duration::from_secs(3);
        }
        assert!(seen_low && seen_high, "the jitter spans the whole range");
    }

    #[test]
    fn notes_say_what_failed_and_when_next() {
        let why = describe(&unreachable(ErrorKind::Connect), None);
        assert_eq!(why, "unreachable: connect: h: connect: refused");
        let note = retry_note(1, 3, &why, Duration::from_millis(2345));
        assert_eq!(
            note,
            "[fleetdeck: attempt 1 of 3 failed (unreachable: connect: h: connect: refused); \
             retrying in 2.3s]\n"
        );
        let failed = HostState::Failed {
            outcome: ExitOutcome::Code { code: 2 },
        };
        assert_eq!(
            describe(&failed, Some("success criteria not met: x")),
            "failed: exit code 2; success criteria not met: x"
        );
    }
}
