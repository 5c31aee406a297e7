//! The line printed on stderr after a run: counts per final state with their folded node sets
//! (`ok 497 · failed 2 web[07,19] · unreachable 1 db03`), then why each failing host failed.

use std::time::Duration;

use super::sanitize::sanitize;
use crate::config::units::format_duration;
use crate::engine::ExitOutcome;
use crate::engine::{HostResult, HostState, RunResult};
use crate::inventory::nodeset::fold;

/// Error lines listed under the summary before the rest is left to `history show`.
pub const MAX_ERROR_LINES: usize = 20;
/// A folded set longer than this is cut (ad-hoc names may not fold well).
const MAX_SET_CHARS: usize = 120;

/// Final states, in the order the summary lists them.
const ORDER: [&str; 7] = [
    "ok",
    "failed",
    "timeout",
    "error",
    "unreachable",
    "cancelled",
    "skipped",
];

/// The summary line and the error lines under it, each ending in `\n`.
pub fn render_summary(result: &RunResult) -> String {
    let mut parts = Vec::new();
    for label in ORDER {
        let names: Vec<&str> = result
            .hosts
            .iter()
            .filter(|h| h.state.label() == label)
            .map(|h| h.host.as_str())
            .collect();
        if names.is_empty() {
            continue;
        }
        if label == "ok" {
            parts.push(format!("ok {}", names.len()));
        } else {
            parts.push(format!("{label} {} {}", names.len(), cut(&fold(names))));
        }
    }
    let mut out = if parts.is_empty() {
        "no hosts".to_string()
    } else {
        parts.join(" · ")
    };
    out.push_str(&format!("  (run {})\n", short_id(&result.id)));

    let failing: Vec<&HostResult> = result
        .hosts
        .iter()
        .filter(|h| h.state.is_failure() || matches!(h.state, HostState::Unreachable { .. }))
        .collect();
    for h in failing.iter().take(MAX_ERROR_LINES) {
        out.push_str(&format!(
            "  {}: {}\n",
            h.host,
            sanitize(error_line(h).as_bytes(), false)
        ));
    }
    if failing.len() > MAX_ERROR_LINES {
        out.push_str(&format!(
            "  … {} more (fleetdeck history show {})\n",
            failing.len() - MAX_ERROR_LINES,
            short_id(&result.id)
        ));
    }
    out
}

/// `ok 3 · failed 1`: how many hosts ended in each state, without their names.
pub fn counts(result: &RunResult) -> String {
    let parts: Vec<String> = ORDER
        .iter()
        .filter_map(|label| {
            let n = result
                .hosts
                .iter()
                .filter(|h| h.state.label() == *label)
                .count();
            (n > 0).then(|| format!("{label} {n}"))
        })
        .collect();
    parts.join(" · ")
}

/// A duration in milliseconds for people: `850ms`, `3.2s`, `2m05s`, `1h02m`.
pub fn human_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms}ms"),
        1000..=59_999 => format!("{}.{}s", ms / 1000, (ms % 1000) / 100),
        60_000..=3_599_999 => format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000),
        _ => format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000),
    }
}

/// `exit 1: the first stderr line`, `unreachable (connect): connection refused`.
pub fn error_line(h: &HostResult) -> String {
    let what = describe(&h.state);
    match h.first_error_line.as_deref().filter(|l| !l.is_empty()) {
        // The first error line of an unreachable host is its (possibly shortened) message.
        Some(line) if !what.contains(line.trim_end_matches('…').trim_end()) => {
            format!("{what}: {line}")
        }
        _ => what,
    }
}

/// A final state in a few words: `exit 0`, `exit 2`, `signal KILL`, `timed out after 10s`,
/// `unreachable (connect): …`.
pub fn describe(state: &HostState) -> String {
    match state {
        HostState::Ok => "exit 0".to_string(),
        HostState::Failed { outcome } | HostState::Timeout { outcome } => describe_outcome(outcome),
        HostState::Unreachable { kind, message } => format!("unreachable ({kind}): {message}"),
        HostState::Error { kind, message } => format!("error ({kind}): {message}"),
        HostState::Skipped { reason } => format!("skipped: {reason}"),
        other => other.label().to_string(),
    }
}

/// Like [`describe`], but without per-host details, so hosts that ended the same way compare
/// equal (for `--gather` groups).
pub fn describe_briefly(state: &HostState) -> String {
    match state {
        HostState::Unreachable { kind, .. } => format!("unreachable ({kind})"),
        HostState::Error { kind, .. } => format!("error ({kind})"),
        HostState::Timeout { outcome } => match outcome {
            ExitOutcome::IdleTimedOut { .. } => "idle timeout".to_string(),
            _ => "timeout".to_string(),
        },
        other => describe(other),
    }
}

fn describe_outcome(outcome: &ExitOutcome) -> String {
    let ms = |ms: &u64| format_duration(Duration::from_millis(*ms));
    match outcome {
        ExitOutcome::Code { code } => format!("exit {code}"),
        ExitOutcome::Signal { signal } => format!("signal {signal}"),
        ExitOutcome::NoStatus => "no exit status".to_string(),
        ExitOutcome::TimedOut { after_ms } => format!("timed out after {}", ms(after_ms)),
        ExitOutcome::IdleTimedOut { after_ms } => format!("no output for {}", ms(after_ms)),
        ExitOutcome::Cancelled => "cancelled".to_string(),
    }
}

/// The first 12 characters of a ULID: its millisecond timestamp and 2 random characters.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn cut(set: &str) -> String {
    if set.chars().count() <= MAX_SET_CHARS {
        return set.to_string();
    }
    let head: String = set.chars().take(MAX_SET_CHARS).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ErrorKind;

    pub(crate) fn host(name: &str, state: HostState, first: Option<&str>) -> HostResult {
        HostResult {
            host: name.to_string(),
            state,
            exit_code: None,
            duration_ms: 5,
            bytes_out: 0,
            bytes_err: 0,
            first_error_line: first.map(str::to_string),
            attempts: 1,
        }
    }

    fn run(hosts: Vec<HostResult>) -> RunResult {
        RunResult {
            id: "01J9ZXAMPLE0000000000000000".to_string(),
            user: "me@here".to_string(),
            started: "2025-01-01T00:00:00.000Z".to_string(),
            finished: "2025-01-01T00:00:01.000Z".to_string(),
            selector: "all".to_string(),
            targets: "x".to_string(),
            command: "true".to_string(),
            status: crate::engine::RunStatus::Failed,
            action: None,
            hosts,
        }
    }

    #[test]
    fn only_non_zero_parts_with_folded_sets() {
        let failed = |code| HostState::Failed {
            outcome: ExitOutcome::Code { code },
        };
        let r = run(vec![
            host("web01", HostState::Ok, None),
            host("web07", failed(1), Some("boom \x1b[2J")),
            host("web19", failed(2), None),
            host("web02", HostState::Ok, None),
            host(
                "db03",
                HostState::Unreachable {
                    kind: ErrorKind::Connect,
                    message: "connection refused".into(),
                },
                Some("connection refused"),
            ),
        ]);
        assert_eq!(
            render_summary(&r),
            "ok 2 · failed 2 web[07,19] · unreachable 1 db03  (run 01J9ZXAMPLE0)\n\
             \x20 web07: exit 1: boom ^[[2J\n\
             \x20 web19: exit 2\n\
             \x20 db03: unreachable (connect): connection refused\n"
        );
    }

    #[test]
    fn error_lines_are_bounded() {
        let hosts = (0..25)
            .map(|i| {
                host(
                    &format!("n{i:02}"),
                    HostState::Timeout {
                        outcome: ExitOutcome::TimedOut { after_ms: 5000 },
                    },
                    None,
                )
            })
            .collect();
        let text = render_summary(&run(hosts));
        assert!(text.starts_with("timeout 25 n[00-24]  (run "), "{text}");
        assert!(text.contains("  n00: timed out after 5s\n"));
        assert!(text.ends_with("  … 5 more (fleetdeck history show 01J9ZXAMPLE0)\n"));
        assert_eq!(text.lines().count(), 1 + MAX_ERROR_LINES + 1);
    }
}
