//! The engine's vocabulary: what a run is asked to do, the states a host goes through, the
//! events front ends receive, and the result that is recorded.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::inventory::{Host, Inventory};
use crate::transport::{ErrorKind, ExecSpec, ExitOutcome};

/// A run's id: a ULID (sortable by time), printed in history and used for runs/<id>.jsonl.
pub type RunId = String;

/// `N` hosts or `P%` of the run's hosts (`--batch`, `--max-fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Limit {
    Count(usize),
    Percent(u8),
}

impl Limit {
    /// Parses `10` or `25%`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            match p.trim().parse::<u8>() {
                Ok(n) if (1..=100).contains(&n) => Ok(Limit::Percent(n)),
                _ => Err(format!("`{text}`: a percentage must be 1% to 100%")),
            }
        } else {
            match t.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(Limit::Count(n)),
                _ => Err(format!(
                    "`{text}`: expected a number of hosts (e.g. 5) or a percentage (e.g. 10%)"
                )),
            }
        }
    }

    /// The limit as a host count for a run of `total` hosts (a percentage rounds up, min 1).
    pub fn of(self, total: usize) -> usize {
        match self {
            Limit::Count(n) => n,
            Limit::Percent(p) => (total * usize::from(p)).div_ceil(100).max(1),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Count(n) => write!(f, "{n}"),
            Limit::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// Everything the engine needs to run one command across hosts.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub id: RunId,
    /// Who asked (user@machine), for history and audit.
    pub user: String,
    /// The selector(s) as typed, for the record.
    pub selector: String,
    /// Resolved targets, in order. Indexes into this list identify hosts in events.
    pub targets: Vec<Host>,
    /// The command as shown to people and recorded (secrets already masked by the caller).
    pub display_command: String,
    pub spec: ExecSpec,
    /// Hosts worked on at once (sliding window).
    pub fanout: usize,
    /// Hosts per batch; the next batch starts when the previous one has finished.
    pub batch: Option<Limit>,
    /// Failures after which remaining hosts are skipped.
    pub max_fail: Option<Limit>,
    /// Output kept per host (stdout + stderr); older output beyond it is dropped with a marker.
    pub output_cap: usize,
    /// Success criteria, retries, locks: from an action template, or the defaults for an
    /// ad-hoc command (exit 0, no retry, no lock).
    pub guards: Guards,
    /// The action template this run renders, for history and audit.
    pub action: Option<ActionUse>,
    /// Where the run waits in the queue.
    pub priority: Priority,
}

impl RunRequest {
    /// The targets as a folded node set (`web[01-03,07]`), as records and previews show them.
    pub fn folded_targets(&self) -> String {
        crate::inventory::nodeset::fold(self.targets.iter().map(|h| h.name.as_str()))
    }
}

/// Queue priority: a higher one starts first; runs of equal priority start in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Priority::Low),
            "normal" => Ok(Priority::Normal),
            "high" => Ok(Priority::High),
            _ => Err(format!("`{text}`: the priority is high, normal or low")),
        }
    }
}

/// What must hold, besides the transport's report, for a host to count as succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SuccessCriteria {
    /// Exit codes that mean success; empty means `[0]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exit_codes: Vec<i32>,
    /// Each must appear in the host's output (stdout or stderr).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_contains: Vec<String>,
    /// None may appear in the host's output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_not_contains: Vec<String>,
    /// A host that takes longer has failed (the command is not killed for it: the timeout
    /// does that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<Duration>,
}

/// Which kind of host failure a retry may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    /// The host could not be reached (dns, tcp, host key, auth, connect timeout).
    Unreachable,
    /// The command or idle timeout passed.
    Timeout,
    /// The command ran and failed (exit status or unmet success criteria).
    Failed,
    /// The link broke mid-command, or a local error.
    Error,
}

/// Retries of one host, with exponential backoff and full jitter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all, the first included: 1 means no retry.
    pub attempts: u32,
    /// Wait before the second attempt; doubles for each later one.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Failures that are retried; anything else ends the host at once.
    pub on: Vec<RetryOn>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 1,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            on: vec![RetryOn::Unreachable],
        }
    }
}

/// Guard rails of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Guards {
    pub success: SuccessCriteria,
    pub retry: RetryPolicy,
    /// `requires_lock`: hold a per-host lock (local and on the host) for this long at most.
    pub lock_ttl: Option<Duration>,
    /// The template allows this run to share a host with another running action.
    pub allow_concurrent: bool,
}

/// The action template a run came from and its parameters as recorded: secret values are
/// never here (they are recorded as `<secret>`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActionUse {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

/// The text recorded in place of a secret parameter's value.
pub const SECRET_MASK: &str = "<secret>";

/// Which output stream bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where a host is in a run. Terminal states are the last four groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HostState {
    Pending,
    Connecting,
    Running,
    /// Exit status 0.
    Ok,
    /// Non-zero exit, a signal, or no exit status.
    Failed {
        outcome: ExitOutcome,
    },
    /// The command or idle timeout passed; the command was killed.
    Timeout {
        outcome: ExitOutcome,
    },
    /// The command never ran: dns, tcp, host key, auth, connect timeout.
    Unreachable {
        kind: ErrorKind,
        message: String,
    },
    /// The link broke mid-command, or a local error.
    Error {
        kind: ErrorKind,
        message: String,
    },
    Cancelled,
    /// Not attempted (max-fail reached, or the run was cancelled before its turn).
    Skipped {
        reason: String,
    },
    /// The run's fleetdeck process ended (killed, crashed, the machine went down) before this
    /// host finished: whether its command ran, and how it ended, is not known.
    Unknown {
        reason: String,
    },
}

impl HostState {
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            HostState::Pending | HostState::Connecting | HostState::Running
        )
    }

    /// Counts toward `--max-fail` and exit code 1.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            HostState::Failed { .. } | HostState::Timeout { .. } | HostState::Error { .. }
        )
    }

    /// Short word for tables and summaries.
    pub fn label(&self) -> &'static str {
        match self {
            HostState::Pending => "pending",
            HostState::Connecting => "connecting",
            HostState::Running => "running",
            HostState::Ok => "ok",
            HostState::Failed { .. } => "failed",
            HostState::Timeout { .. } => "timeout",
            HostState::Unreachable { .. } => "unreachable",
            HostState::Error { .. } => "error",
            HostState::Cancelled => "cancelled",
            HostState::Skipped { .. } => "skipped",
            HostState::Unknown { .. } => "unknown",
        }
    }
}

/// What the engine tells front ends, in order per host. Output events are bounded in size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    RunStarted {
        id: RunId,
        hosts: usize,
    },
    State {
        host: usize,
        state: HostState,
    },
    Output {
        host: usize,
        stream: Stream,
        bytes: Vec<u8>,
    },
    /// Output beyond the cap was dropped for this host (total so far).
    Dropped {
        host: usize,
        bytes_dropped: u64,
    },
    RunFinished {
        result: Box<RunResult>,
    },
}

/// One host's recorded result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostResult {
    pub host: String,
    #[serde(flatten)]
    pub state: HostState,
    /// Exit code when the command exited with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    pub bytes_out: u64,
    pub bytes_err: u64,
    /// First line of stderr (or of the error), for "why did it fail" at a glance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error_line: Option<String>,
    /// Attempts made (more than 1 when the run's retry policy repeated this host).
    #[serde(default = "one_attempt", skip_serializing_if = "is_one_attempt")]
    pub attempts: u32,
}

impl HostResult {
    /// A host that never ran the command (skipped, or not reached), in `state`.
    pub fn never_ran(host: &str, state: HostState) -> Self {
        HostResult {
            host: host.to_string(),
            state,
            exit_code: None,
            duration_ms: 0,
            bytes_out: 0,
            bytes_err: 0,
            first_error_line: None,
            attempts: 1,
        }
    }
}

fn one_attempt() -> u32 {
    1
}

fn is_one_attempt(n: &u32) -> bool {
    *n == 1
}

/// The run as a whole. history.jsonl, `--json` and export write the snake_case name (`"ok"`,
/// `"failed"`, `"unreachable"`, `"cancelled"`, `"interrupted"`), as they did when this was a
/// string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Ok,
    Failed,
    Unreachable,
    Cancelled,
    /// Its fleetdeck process died mid-run; recorded afterwards by the next fleetdeck process
    /// that opened the home (engine::interrupted).
    Interrupted,
}

impl RunStatus {
    /// The one rule: cancelled, else failed (a host failed, timed out or broke), else
    /// unreachable (a host could not be reached), else ok. Skipped hosts count for nothing.
    pub fn of(cancelled: bool, hosts: &[HostResult]) -> RunStatus {
        let any = |f: fn(&HostState) -> bool| hosts.iter().any(|h| f(&h.state));
        if cancelled {
            RunStatus::Cancelled
        } else if any(HostState::is_failure) {
            RunStatus::Failed
        } else if any(|s| matches!(s, HostState::Unreachable { .. })) {
            RunStatus::Unreachable
        } else {
            RunStatus::Ok
        }
    }

    /// The word files and screens use (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Unreachable => "unreachable",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// DESIGN.md's exit codes: 0 all ok, 1 a host failed, 3 none failed but one unreachable,
    /// 130 cancelled or interrupted.
    pub fn exit_code(self) -> u8 {
        match self {
            RunStatus::Ok => 0,
            RunStatus::Failed => 1,
            RunStatus::Unreachable => 3,
            RunStatus::Cancelled | RunStatus::Interrupted => 130,
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            RunStatus::Ok,
            RunStatus::Failed,
            RunStatus::Unreachable,
            RunStatus::Cancelled,
            RunStatus::Interrupted,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
        .ok_or_else(|| {
            format!("unknown run status `{s}` (ok, failed, unreachable, cancelled, interrupted)")
        })
    }
}

/// The whole run, as appended to history.jsonl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    pub id: RunId,
    pub user: String,
    pub started: String,
    pub finished: String,
    pub selector: String,
    /// Folded node set of the targets.
    pub targets: String,
    pub command: String,
    /// The run as a whole, as the exit code says.
    pub status: RunStatus,
    pub hosts: Vec<HostResult>,
    /// The action template this run rendered (secret values masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionUse>,
}

impl RunResult {
    /// The exit codes README.md gives: 0 all ok, 1 a host failed, 3 none failed but one unreachable,
    /// 130 cancelled.
    pub fn exit_code(&self) -> u8 {
        self.status.exit_code()
    }

    /// The hosts a rerun retries: every host that did not end ok (failed, timed out,
    /// unreachable, cancelled or skipped), as the inventory describes them today; a name no
    /// longer there is still a valid ssh destination, like a plain name given to `-t`. The one
    /// rule for `fleetdeck history rerun`, the Runs view and the History view.
    pub fn rerun_targets(&self, inventory: &Inventory) -> Vec<Host> {
        self.hosts
            .iter()
            .filter(|h| h.state != HostState::Ok)
            .map(|h| {
                inventory
                    .get(&h.host)
                    .cloned()
                    .unwrap_or_else(|| Host::ad_hoc(&h.host))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(state: HostState) -> HostResult {
        HostResult::never_ran("h", state)
    }

    #[test]
    fn run_status_and_exit_code() {
        let ok = || host(HostState::Ok);
        let unreachable = || {
            host(HostState::Unreachable {
                kind: ErrorKind::Auth,
                message: "no key".into(),
            })
        };
        let failed = || {
            host(HostState::Failed {
                outcome: ExitOutcome::Code { code: 1 },
            })
        };
        let skipped_for_max_fail = || {
            host(HostState::Skipped {
                reason: "max-fail reached: 1 failed".into(),
            })
        };
        let cases = [
            (false, vec![ok(), ok()], RunStatus::Ok, 0),
            (false, vec![ok(), unreachable()], RunStatus::Unreachable, 3),
            (
                false,
                vec![unreachable(), failed(), skipped_for_max_fail()],
                RunStatus::Failed,
                1,
            ),
            (
                true,
                vec![ok(), host(HostState::Cancelled)],
                RunStatus::Cancelled,
                130,
            ),
            (false, vec![], RunStatus::Ok, 0),
        ];
        for (cancelled, hosts, status, code) in cases {
            assert_eq!(RunStatus::of(cancelled, &hosts), status);
            assert_eq!(status.exit_code(), code, "{status}");
        }
    }

    #[test]
    fn status_names_are_the_strings_files_hold() {
        for (status, name) in [
            (RunStatus::Ok, "ok"),
            (RunStatus::Failed, "failed"),
            (RunStatus::Unreachable, "unreachable"),
            (RunStatus::Cancelled, "cancelled"),
        ] {
            assert_eq!(status.as_str(), name);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{name}\"")
            );
            assert_eq!(
                serde_json::from_str::<RunStatus>(&format!("\"{name}\"")).unwrap(),
                status
            );
        }
    }

    /// A line as fleetdeck wrote it while the status was a string reads, and writes back the
    /// same bytes.
    #[test]
    fn history_lines_written_before_the_enum_still_read() {
        let line = r#"{"id":"01JZ8Q6S0V5Y3M2K4N7P9R1T3W","user":"ops@deck","started":"2025-07-01T10:00:00Z","finished":"2025-07-01T10:00:02Z","selector":"web[1-2]","targets":"web[1-2]","command":"uptime","status":"unreachable","hosts":[{"host":"web1","state":"ok","exit_code":0,"duration_ms":12,"bytes_out":40,"bytes_err":0},{"host":"web2","state":"unreachable","kind":"connect","message":"connection refused","duration_ms":3,"bytes_out":0,"bytes_err":0,"first_error_line":"connection refused"}]}"#;
        let run: RunResult = serde_json::from_str(line).unwrap();
        assert_eq!(run.status, RunStatus::Unreachable);
        assert_eq!(run.exit_code(), 3);
        assert_eq!(serde_json::to_string(&run).unwrap(), line);
    }

    #[test]
    fn limits() {
        assert_eq!(Limit::parse("5"), Ok(Limit::Count(5)));
        assert_eq!(Limit::parse("10%"), Ok(Limit::Percent(10)));
        assert!(Limit::parse("0").is_err());
        assert!(Limit::parse("101%").is_err());
        assert!(Limit::parse("x").is_err());
        assert_eq!(Limit::Percent(10).of(41), 5);
        assert_eq!(Limit::Percent(1).of(3), 1);
    }
}
