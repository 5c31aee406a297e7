//! Running the fixed metrics probe on one host through a transport (a channel on the pooled
//! SSH connection; a process for local hosts in tests) and reading its output into a
//! `Reading`. The probe goes to `sh -s` on stdin, so a login shell that is not POSIX (fish,
//! csh) still runs it, and a banner printed before it is skipped by the parser.

use std::time::Duration;

use crate::inventory::Host;
use crate::metrics::{ProbeError, Reading, parse_probe, probe_command};
use crate::transport::{ExecEvent, ExecSpec, ExitOutcome, Transport};

/// Output a probe may print at most (/proc files and df of a big host are ~20 KiB).
const MAX_PROBE_OUTPUT: usize = 1 << 20;

/// Why a probe gave no reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeFailure {
    /// The host has no /proc: not Linux. Not worth trying again.
    NotLinux,
    /// Anything else (link down, timeout, garbled output); tried again next tick.
    Failed(String),
}

impl ProbeFailure {
    /// Short words for a table cell.
    pub fn reason(&self) -> String {
        match self {
            ProbeFailure::NotLinux => "no metrics: not Linux (no /proc)".to_string(),
            ProbeFailure::Failed(why) => why.clone(),
        }
    }
}

/// Runs the probe on `host` and parses what it printed.
pub async fn probe(
    transport: &dyn Transport,
    host: &Host,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<Reading, ProbeFailure> {
    let mut spec = ExecSpec::new("sh -s");
    spec.stdin = Some(probe_command().into_bytes());
    spec.connect_timeout = connect_timeout;
    spec.timeout = Some(timeout);
    let mut handle = transport.exec(host, spec);
    let mut out = Vec::new();
    let outcome = loop {
        match handle.events.recv().await {
            Some(ExecEvent::Stdout(b)) => {
                if out.len() + b.len() > MAX_PROBE_OUTPUT {
                    handle.cancel.cancel();
                    return Err(ProbeFailure::Failed(
                        "probe output over 1 MiB: not the metrics probe's".to_string(),
                    ));
                }
                out.extend_from_slice(&b);
            }
            Some(ExecEvent::Exited(o)) => break o,
            Some(ExecEvent::Failed(e)) => {
                return Err(ProbeFailure::Failed(format!("{:?}: {}", e.kind, e.message)));
            }
            Some(_) => {}
            None => return Err(ProbeFailure::Failed("probe ended without an exit".into())),
        }
    };
    let text = String::from_utf8_lossy(&out);
    match parse_probe(&text) {
        Ok(reading) => Ok(reading),
        Err(ProbeError::NoProc) => Err(ProbeFailure::NotLinux),
        Err(ProbeError::Garbled(why)) => Err(ProbeFailure::Failed(match outcome {
            ExitOutcome::Code { code: 0 } => format!("probe output unreadable: {why}"),
            other => format!("probe ended with {other:?}: {why}"),
        })),
    }
}
