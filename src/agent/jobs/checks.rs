//! Reporting check results (file_validation, service_health): each check as a readable
//! stdout line for the console's panes, then an `exit` carrying them, code 0 when all pass.

use std::time::Instant;

use super::Reporter;
use crate::protocol::{CheckResult, ExitOutcome, Message, Stream};

/// One check's line as the panes show it.
pub fn line(check: &CheckResult) -> String {
    let mark = if check.ok { "ok  " } else { "FAIL" };
    format!("{mark} {}: {}\n", check.check, check.detail)
}

/// Sends every check as a stdout line, then the exit.
pub async fn report(reporter: &Reporter, checks: Vec<CheckResult>, started: Instant) {
    let text: String = checks.iter().map(line).collect();
    if !text.is_empty() && !reporter.output(Stream::Stdout, text.as_bytes()).await {
        return;
    }
    let all_ok = checks.iter().all(|c| c.ok);
    reporter
        .send(Message::Exit {
            id: reporter.id.clone(),
            outcome: ExitOutcome::Code {
                code: if all_ok { 0 } else { 1 },
            },
            duration_ms: elapsed_ms(started),
            usage: None,
            checks,
        })
        .await;
}

/// The exit of a check job cancelled before it finished.
pub async fn report_cancelled(reporter: &Reporter, started: Instant) {
    reporter
        .send(Message::Exit {
            id: reporter.id.clone(),
            outcome: ExitOutcome::Cancelled,
            duration_ms: elapsed_ms(started),
            usage: None,
            checks: Vec::new(),
        })
        .await;
}

pub fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

pub fn check(name: &str, ok: bool, detail: impl Into<String>) -> CheckResult {
    CheckResult {
        check: name.to_string(),
        ok,
        detail: detail.into(),
    }
}
