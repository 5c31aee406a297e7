//! One line of audit.jsonl: who did what to which hosts, and how it went. Every kind of line
//! has a constructor here, so the front ends never build one by hand and the lines of one
//! kind always have the same shape.

use serde::{Deserialize, Serialize};

use super::locks::LockHolder;
use super::types::RunRequest;
use crate::config::current_user;

/// The `result` of a run's first audit line; its last one is the run's status.
pub const RUN_STARTED: &str = "started";

/// One line of audit.jsonl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub who: String,
    /// "run".
    pub action: String,
    pub run_id: String,
    /// The command as displayed (secrets masked by the caller).
    pub what: String,
    /// Folded node set of the targets.
    pub targets: String,
    pub count: usize,
    /// "started", then the run's status: ok | failed | unreachable | cancelled.
    pub result: String,
}

impl AuditRecord {
    /// A run's own lines: "started", then its status. Under the run's user.
    pub fn run(req: &RunRequest, result: &str) -> Self {
        Self::about(req.user.clone(), "run", req, result)
    }

    /// An operator's action on a run (cancel, pause, resume), by the user of this process.
    pub fn operator(action: &str, req: &RunRequest, result: &str) -> Self {
        Self::about(current_user(), action, req, result)
    }

    /// An operator's action on a run known by what the queue keeps of it.
    pub fn operator_on(
        action: &str,
        run_id: &str,
        what: &str,
        targets: &str,
        count: usize,
        result: &str,
    ) -> Self {
        AuditRecord {
            who: current_user(),
            action: action.to_string(),
            run_id: run_id.to_string(),
            what: what.to_string(),
            targets: targets.to_string(),
            count,
            result: result.to_string(),
        }
    }

    /// A rerun where run `of` did not end ok; `what` says how (the new run id, the action and
    /// its parameters). The new run then records its own `run` lines.
    pub fn rerun(of: &str, what: &str, targets: &str, count: usize) -> Self {
        AuditRecord {
            who: current_user(),
            action: "rerun".to_string(),
            run_id: of.to_string(),
            what: format!("rerun where it did not end ok{what}"),
            targets: targets.to_string(),
            count,
            result: "requested".to_string(),
        }
    }

    /// A lock broken with `--force` on `host` by `who`: whose it was (`previous`), and how it
    /// went (`ok`, `none` when nothing was held, `failed: …`).
    pub fn force_unlock(
        who: &str,
        host: &str,
        previous: Option<&LockHolder>,
        outcome: &str,
    ) -> Self {
        let what = match previous {
            Some(h) => format!("force-release the lock of {} (run {})", h.owner, h.run_id),
            None => "force-release (no lock held)".to_string(),
        };
        AuditRecord {
            who: who.to_string(),
            action: "force-unlock".to_string(),
            run_id: previous.map(|h| h.run_id.clone()).unwrap_or_default(),
            what,
            targets: host.to_string(),
            count: 1,
            result: outcome.to_string(),
        }
    }

    /// A person's action on an incident (`incident-ack`, `incident-resolve`, `incident-note`):
    /// `run_id` holds the incident id, `what` its title and the comment or note, `targets` its
    /// hosts.
    pub fn incident(
        action: &str,
        incident_id: &str,
        what: &str,
        hosts: &[String],
        result: &str,
    ) -> Self {
        AuditRecord {
            who: current_user(),
            action: format!("incident-{action}"),
            run_id: incident_id.to_string(),
            what: what.to_string(),
            targets: crate::inventory::nodeset::fold(hosts.iter().map(String::as_str)),
            count: hosts.len(),
            result: result.to_string(),
        }
    }

    /// A run's own line saying it started.
    pub fn is_run_start(&self) -> bool {
        self.action == "run" && self.result == RUN_STARTED
    }

    /// A run's own line saying how it ended.
    pub fn is_run_end(&self) -> bool {
        self.action == "run" && self.result != RUN_STARTED
    }

    fn about(who: String, action: &str, req: &RunRequest, result: &str) -> Self {
        AuditRecord {
            who,
            action: action.to_string(),
            run_id: req.id.clone(),
            what: req.display_command.clone(),
            targets: req.folded_targets(),
            count: req.targets.len(),
            result: result.to_string(),
        }
    }
}
