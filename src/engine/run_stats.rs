//! What run statistics (`metrics::stats`, below the engine) see of a recorded run: what it ran,
//! when, how long it took, and each host's outcome in the record's own words. The one place
//! that maps `HostState` onto failure kinds, and the one reader of audit.jsonl and
//! history.jsonl for statistics ([`read_stats`]), so `fleetdeck stats` and the Metrics view agree.

use std::path::Path;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::records::{AuditRecord, Records};
use super::types::{HostState, RunResult};
use crate::metrics::stats::{HostOutcome, Outcome, RunRecord, RunStats, StatsBuilder, Subject};
use crate::store::{ReadSummary, StoreError, chain_oldest_first, for_each_record};
use crate::transport::ExitOutcome;

/// Run statistics of the runs started at or after `from` (every run without it), from
/// audit.jsonl and history.jsonl with their rotated files. Damaged lines are skipped and
/// described in the warnings (`file:line: what`, no prefix: the caller shows them its way);
/// only a file that cannot be read is an error. A missing history is zero runs.
pub fn read_stats(
    records: &Records,
    from: Option<OffsetDateTime>,
) -> Result<(RunStats, Vec<String>), String> {
    let mut builder = StatsBuilder::new(from);
    let mut warnings = Vec::new();
    // Audit first: each history record then closes its run (StatsBuilder's order).
    read_audit(&records.audit_path(), &mut builder, &mut warnings)?;
    read_history(&records.history_path(), &mut builder, &mut warnings)?;
    Ok((builder.finish(), warnings))
}

/// An audit line with the time it was written (`AuditRecord` leaves out `"ts"`).
#[derive(Deserialize)]
struct AuditLine {
    #[serde(default)]
    ts: String,
    #[serde(flatten)]
    record: AuditRecord,
}

fn read_history(
    history: &Path,
    builder: &mut StatsBuilder,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    // Without a window an undated run still counts; with one, it cannot be placed.
    let counts_undated = builder.in_window(None);
    for file in chain_oldest_first(history) {
        let at = |line: u64, message: String| format!("{}:{line}: {message}", file.display());
        let summary = for_each_record::<RunResult, _>(&file, |line, run| {
            let record = run.stats_record();
            if record.started.is_none() {
                let what = if counts_undated {
                    "counted without a duration"
                } else {
                    "left out of --since"
                };
                warnings.push(at(
                    line,
                    format!("run {} has an unreadable start time; {what}", run.id),
                ));
            } else if record.duration_ms.is_none() && builder.in_window(record.started) {
                warnings.push(at(
                    line,
                    format!(
                        "run {} has an unreadable end time (or ends before it starts); counted \
                         without a duration",
                        run.id
                    ),
                ));
            }
            builder.add(&record);
        })
        .map_err(|e| read_error("history", e))?;
        damage(&file, &summary, warnings);
    }
    Ok(())
}

fn read_audit(
    audit: &Path,
    builder: &mut StatsBuilder,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    for file in chain_oldest_first(audit) {
        let summary = for_each_record::<AuditLine, _>(&file, |_, line| {
            if line.record.is_run_start() {
                let at = OffsetDateTime::parse(&line.ts, &Rfc3339).ok();
                builder.audit_started(&line.record.run_id, at);
            } else if line.record.is_run_end() {
                builder.audit_ended(&line.record.run_id);
            }
        })
        .map_err(|e| read_error("the audit log", e))?;
        damage(&file, &summary, warnings);
    }
    Ok(())
}

fn damage(file: &Path, summary: &ReadSummary, warnings: &mut Vec<String>) {
    for corrupt in &summary.corrupt {
        warnings.push(format!("skipped a damaged line: {corrupt}"));
    }
    if summary.torn_tail {
        warnings.push(format!(
            "{}: the last line is incomplete (being written right now, or cut by a crash); \
             skipped",
            file.display()
        ));
    }
}

fn read_error(what: &str, e: StoreError) -> String {
    format!("cannot read {what}: {e}")
}

impl RunResult {
    /// This run for statistics: an action run is its action's, a command run its recorded
    /// command's (secrets were masked before it was recorded).
    pub fn stats_record(&self) -> RunRecord {
        let started = OffsetDateTime::parse(&self.started, &Rfc3339).ok();
        let finished = OffsetDateTime::parse(&self.finished, &Rfc3339).ok();
        let duration_ms = match (started, finished) {
            (Some(a), Some(b)) => u64::try_from((b - a).whole_milliseconds()).ok(),
            _ => None,
        };
        RunRecord {
            id: self.id.clone(),
            subject: match &self.action {
                Some(used) => Subject::Action(used.name.clone()),
                None => Subject::Command(self.command.clone()),
            },
            started,
            duration_ms,
            hosts: self.hosts.iter().map(|h| host_outcome(&h.state)).collect(),
        }
    }
}

/// `failed:exit`, `failed:signal`, `timeout:command`, `timeout:idle`, `unreachable:auth`,
/// `error:protocol`, `cancelled`, `skipped`… (outcome, then the detail the record has).
fn host_outcome(state: &HostState) -> HostOutcome {
    let (outcome, detail) = match state {
        HostState::Ok => (Outcome::Ok, None),
        HostState::Failed { outcome } => (Outcome::Failed, Some(exit_detail(outcome))),
        HostState::Timeout { outcome } => (Outcome::Timeout, Some(exit_detail(outcome))),
        HostState::Unreachable { kind, .. } => (Outcome::Unreachable, Some(kind.as_str())),
        HostState::Error { kind, .. } => (Outcome::Error, Some(kind.as_str())),
        HostState::Cancelled => (Outcome::Cancelled, None),
        HostState::Skipped { .. } => (Outcome::Skipped, None),
        HostState::Pending
        | HostState::Connecting
        | HostState::Running
        | HostState::Unknown { .. } => (Outcome::Unfinished, None),
    };
    HostOutcome {
        outcome,
        detail: detail.map(str::to_string),
    }
}

fn exit_detail(outcome: &ExitOutcome) -> &'static str {
    match outcome {
        ExitOutcome::Code { .. } => "exit",
        ExitOutcome::Signal { .. } => "signal",
        ExitOutcome::NoStatus => "no_status",
        ExitOutcome::TimedOut { .. } => "command",
        ExitOutcome::IdleTimedOut { .. } => "idle",
        ExitOutcome::Cancelled => "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::types::ActionUse;
    use crate::engine::{HostResult, RunStatus};
    use crate::transport::ErrorKind;

    fn run(states: Vec<HostState>) -> RunResult {
        RunResult {
            id: "01R".into(),
            user: "me@box".into(),
            started: "2026-03-01T12:00:00.000Z".into(),
            finished: "2026-03-01T12:00:02.500Z".into(),
            selector: "web*".into(),
            targets: "web[1-2]".into(),
            command: "systemctl restart nginx".into(),
            status: RunStatus::Failed,
            hosts: states
                .into_iter()
                .enumerate()
                .map(|(i, s)| HostResult::never_ran(&format!("web{i}"), s))
                .collect(),
            action: None,
        }
    }

    #[test]
    fn a_record_maps_to_its_subject_times_and_failure_kinds() {
        let states = vec![
            HostState::Ok,
            HostState::Failed {
                outcome: ExitOutcome::Code { code: 3 },
            },
            HostState::Timeout {
                outcome: ExitOutcome::IdleTimedOut { after_ms: 5 },
            },
            HostState::Unreachable {
                kind: ErrorKind::HostKey,
                message: "changed".into(),
            },
            HostState::Error {
                kind: ErrorKind::Protocol,
                message: "closed".into(),
            },
            HostState::Skipped {
                reason: "max-fail".into(),
            },
        ];
        let record = run(states).stats_record();
        assert_eq!(
            record.subject,
            Subject::Command("systemctl restart nginx".into())
        );
        assert_eq!(record.duration_ms, Some(2500));
        let kinds: Vec<Option<String>> = record.hosts.iter().map(|h| h.failure_kind()).collect();
        assert_eq!(
            kinds,
            [
                None,
                Some("failed:exit".into()),
                Some("timeout:idle".into()),
                Some("unreachable:hostkey".into()),
                Some("error:protocol".into()),
                Some("skipped".into()),
            ]
        );
    }

    #[test]
    fn an_action_run_groups_by_its_name_and_bad_times_leave_no_duration() {
        let mut r = run(vec![HostState::Ok]);
        r.action = Some(ActionUse {
            name: "restart-nginx".into(),
            params: Default::default(),
        });
        r.finished = "yesterday".into();
        let record = r.stats_record();
        assert_eq!(record.subject, Subject::Action("restart-nginx".into()));
        assert!(record.started.is_some());
        assert_eq!(record.duration_ms, None);

        // A clock that went backwards gives no duration rather than a huge one.
        let mut r = run(vec![]);
        r.finished = "2026-03-01T11:00:00.000Z".into();
        assert_eq!(r.stats_record().duration_ms, None);
    }
}
