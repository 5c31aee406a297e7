//! An action check's round: its template rendered for the admitted hosts (`action::plan`,
//! with the check's `params`, the same validation `fleetdeck run --action` applies) and
//! submitted through the session's queue, like any run (so it takes host slots, locks and
//! the fan-out budget, and is in history.jsonl); each host passes when its run ended ok
//! (exit 0 and the template's success criteria).
//!
//! The catalog is read at every round, so a template fixed while the console runs is used
//! at the next round; a template that cannot be used is the round's problem (on the
//! `CheckBoard` and in the log), and no host gets a verdict.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::action::Catalog;
use crate::action::plan::{self, Inputs, Overrides};
use crate::config::{Home, Settings};
use crate::engine::queue::SubmitError;
use crate::engine::types::{EngineEvent, HostState, RunId, RunRequest};
use crate::incident::check::ActionProbe;
use crate::inventory::Host;

/// The most a round waits for its run; past it the round has no verdict (the run goes on,
/// and the next round waits for its host slots).
pub const ACTION_WAIT: Duration = Duration::from_secs(30 * 60);

/// Events of a submitted run, as the session sends them.
pub(crate) type RunEvents = mpsc::Sender<(RunId, EngineEvent)>;
/// `FleetSession::submit`, handed down so this module does not name the session.
pub(crate) type Submit =
    Arc<dyn Fn(RunRequest, RunEvents) -> Result<RunId, SubmitError> + Send + Sync>;

pub(crate) struct ActionRunner {
    pub check: String,
    pub probe: ActionProbe,
    /// The check's target text (recorded as the run's selector).
    pub target: String,
    pub home: Home,
    pub settings: Settings,
    pub submit: Submit,
}

impl ActionRunner {
    /// Runs the action on `hosts`: each host's verdict, or why no run was made.
    pub async fn round(
        &self,
        hosts: &[&Host],
    ) -> Result<BTreeMap<String, Result<(), String>>, String> {
        let request = self.request(hosts)?;
        let (tx, mut rx) = mpsc::channel(crate::engine::session::ENGINE_CHANNEL);
        let id = (self.submit)(request, tx)
            .map_err(|e| format!("check `{}`: the run was refused: {e}", self.check))?;
        let wait = async {
            while let Some((_, event)) = rx.recv().await {
                if let EngineEvent::RunFinished { result } = event {
                    return Some(result);
                }
            }
            None
        };
        let result = match tokio::time::timeout(ACTION_WAIT, wait).await {
            Ok(Some(result)) => result,
            Ok(None) => {
                return Err(format!(
                    "check `{}`: run {id} ended without a result",
                    self.check
                ));
            }
            Err(_) => {
                return Err(format!(
                    "check `{}`: run {id} still running after 30m",
                    self.check
                ));
            }
        };
        Ok(result
            .hosts
            .iter()
            .map(|h| {
                let verdict = match &h.state {
                    HostState::Ok => Ok(()),
                    other => Err(host_error(
                        other,
                        h.first_error_line.as_deref(),
                        h.exit_code,
                    )),
                };
                (h.host.clone(), verdict)
            })
            .collect())
    }

    fn request(&self, hosts: &[&Host]) -> Result<RunRequest, String> {
        let (catalog, problems) = Catalog::load_partial(&self.home);
        let template = catalog.find(&self.probe.action).map_err(|e| {
            // A template that does not load is "not found": say why it did not load.
            let why = problems
                .iter()
                .find(|d| {
                    d.file
                        .file_stem()
                        .is_some_and(|s| s == self.probe.action.as_str())
                })
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            format!("check `{}`: {e}{why}", self.check)
        })?;
        let inputs = Inputs {
            values: self.probe.params.clone(),
            secrets: BTreeMap::new(),
        };
        let plan = plan::build(
            template,
            &inputs,
            hosts.iter().map(|h| (*h).clone()).collect(),
            &self.target,
            &self.settings,
            &Overrides::default(),
        )
        .map_err(|e| {
            let e = e.to_string().replace('\n', "; ");
            format!(
                "check `{}`: action `{}`: {e}",
                self.check, self.probe.action
            )
        })?;
        if let Some(r) = plan.refused.first() {
            return Err(format!(
                "check `{}`: action `{}` does not apply to {}: {}",
                self.check, self.probe.action, r.host, r.reason
            ));
        }
        Ok(plan.request)
    }
}

/// Why a host's run did not end ok, in one line.
fn host_error(state: &HostState, first_error: Option<&str>, exit: Option<i32>) -> String {
    let what = match state {
        HostState::Failed { .. } => {
            exit.map_or_else(|| "failed".to_string(), |c| format!("exit {c}"))
        }
        HostState::Timeout { .. } => "timed out".to_string(),
        HostState::Unreachable { message, .. } | HostState::Error { message, .. } => {
            message.clone()
        }
        HostState::Skipped { reason } => format!("skipped: {reason}"),
        HostState::Unknown { reason } => format!("unknown: {reason}"),
        HostState::Cancelled => "cancelled".to_string(),
        HostState::Pending | HostState::Connecting | HostState::Running | HostState::Ok => {
            "did not finish".to_string()
        }
    };
    match first_error.filter(|l| !l.trim().is_empty()) {
        Some(line) => format!("{what}: {line}"),
        None => what,
    }
}
