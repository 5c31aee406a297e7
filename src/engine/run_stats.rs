//! What run statistics (`metrics::stats`, below the engine) see of a recorded run: what it ran,
//! when, how long it took, and each host's outcome in the record's own words. The one place
//! that maps `HostState` onto failure kinds, so `fleetdeck stats` and the Metrics view agree.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::types::{HostState, RunResult};
use crate::metrics::stats::{HostOutcome, Outcome, RunRecord, Subject};
use crate::transport::ExitOutcome;

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
        HostState::Pending | HostState::Connecting | HostState::Running => {
            (Outcome::Unfinished, None)
        }
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
