//! Runs started from the console as the Runs view shows them: each host's state, result and
//! output, fed by the engine's events. No I/O: the event loop starts and cancels runs.

use crate::engine::{EngineEvent, HostResult, HostState, RunId, RunResult};
use crate::inventory::Host;
use crate::inventory::nodeset::fold;
use crate::ui::pane::{Scrollback, ScrollbackCaps};

/// Output kept per host in the console: enough to read back a long command, bounded so a
/// chatty fleet of hundreds of hosts cannot exhaust memory (the full output is recorded in
/// runs/<id>.jsonl).
const PANE_CAPS: ScrollbackCaps = ScrollbackCaps {
    max_lines: 20_000,
    max_bytes: 1 << 20,
};

/// What the event loop needs to start a confirmed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    pub id: RunId,
    pub hosts: Vec<Host>,
    /// The targets as chosen (the folded node set), for the record.
    pub selector: String,
    pub command: String,
}

/// One run and what is known of it so far.
#[derive(Debug)]
pub struct RunView {
    pub id: RunId,
    pub command: String,
    pub hosts: Vec<String>,
    pub folded: String,
    pub states: Vec<HostState>,
    /// Each host's recorded result, known once the run has finished.
    pub results: Vec<Option<HostResult>>,
    pub outputs: Vec<Scrollback>,
    /// The run's result once the engine has finished it.
    pub finished: Option<RunResult>,
    /// Why the run could not start (ssh config, known_hosts…), if it could not.
    pub start_error: Option<String>,
}

/// Hosts per state group, for the header and the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub ok: usize,
    /// Failed, timed out, errored or unreachable.
    pub failed: usize,
    /// Connecting or running.
    pub running: usize,
    pub pending: usize,
    /// Cancelled or skipped.
    pub other: usize,
}

impl RunView {
    pub fn new(start: &RunStart) -> Self {
        let n = start.hosts.len();
        let hosts: Vec<String> = start.hosts.iter().map(|h| h.name.clone()).collect();
        RunView {
            id: start.id.clone(),
            command: start.command.clone(),
            folded: fold(hosts.iter().map(String::as_str)),
            hosts,
            states: vec![HostState::Pending; n],
            results: vec![None; n],
            outputs: (0..n).map(|_| Scrollback::new(PANE_CAPS)).collect(),
            finished: None,
            start_error: None,
        }
    }

    /// True until the engine has finished the run (or it could not start).
    pub fn in_flight(&self) -> bool {
        self.finished.is_none() && self.start_error.is_none()
    }

    pub fn apply(&mut self, event: &EngineEvent) {
        match event {
            EngineEvent::RunStarted { .. } => {}
            EngineEvent::State { host, state } => {
                if let Some(s) = self.states.get_mut(*host) {
                    *s = state.clone();
                }
                if let Some(out) = self.outputs.get_mut(*host) {
                    out.apply(event, *host);
                }
            }
            EngineEvent::Output { host, .. } | EngineEvent::Dropped { host, .. } => {
                if let Some(out) = self.outputs.get_mut(*host) {
                    out.apply(event, *host);
                }
            }
            EngineEvent::RunFinished { result } => {
                // Results are matched by name: the engine records every target once.
                for (i, name) in self.hosts.iter().enumerate() {
                    if let Some(r) = result.hosts.iter().find(|r| &r.host == name) {
                        self.states[i] = r.state.clone();
                        self.results[i] = Some(r.clone());
                    }
                }
                for out in &mut self.outputs {
                    out.finish();
                }
                self.finished = Some((**result).clone());
            }
        }
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.states {
            match s {
                HostState::Ok => c.ok += 1,
                HostState::Pending => c.pending += 1,
                HostState::Connecting | HostState::Running => c.running += 1,
                HostState::Cancelled | HostState::Skipped { .. } => c.other += 1,
                _ => c.failed += 1,
            }
        }
        c
    }
}
