//! The progress bar on stderr during a run (only when stderr is a terminal and the output is
//! not JSON). Output lines are printed around it with `ProgressBar::suspend`.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{EngineEvent, HostState};

/// Counts of hosts by state, for the bar's message.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Which hosts are running now (grown as hosts report).
    is_running: Vec<bool>,
    pub running: usize,
    pub ok: usize,
    pub failed: usize,
    pub unreachable: usize,
    pub other: usize,
}

impl Tally {
    /// Updates the counts from a state event; returns true when a host finished.
    pub fn on_event(&mut self, event: &EngineEvent) -> bool {
        let EngineEvent::State { host, state } = event else {
            return false;
        };
        if self.is_running.len() <= *host {
            self.is_running.resize(host + 1, false);
        }
        let was_running =
            std::mem::replace(&mut self.is_running[*host], *state == HostState::Running);
        match (was_running, *state == HostState::Running) {
            (false, true) => self.running += 1,
            (true, false) => self.running -= 1,
            _ => {}
        }
        match state {
            s if s.is_terminal() => {
                match s {
                    HostState::Ok => self.ok += 1,
                    s if s.is_failure() => self.failed += 1,
                    HostState::Unreachable { .. } => self.unreachable += 1,
                    _ => self.other += 1,
                }
                return true;
            }
            _ => {}
        }
        false
    }

    /// `running 12 · ok 40 · failed 1` (only non-zero parts).
    pub fn message(&self) -> String {
        [
            ("running", self.running),
            ("ok", self.ok),
            ("failed", self.failed),
            ("unreachable", self.unreachable),
            ("other", self.other),
        ]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(label, n)| format!("{label} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
    }
}

/// A bar over `hosts` hosts, hidden until [`show`]: it exists early so prompts (a key's
/// passphrase) can suspend it, but draws nothing before the run starts.
pub fn progress_bar(hosts: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(hosts as u64), ProgressDrawTarget::hidden());
    let style =
        ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} hosts · {elapsed} · {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Starts drawing `bar` on stderr, at most 10 times a second.
pub fn show(bar: &ProgressBar) {
    bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(10));
    bar.reset_elapsed();
    bar.enable_steady_tick(Duration::from_millis(250));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ErrorKind, ExitOutcome};

    #[test]
    fn tally_counts_finished_hosts() {
        let mut t = Tally::default();
        let ev = |state| EngineEvent::State { host: 0, state };
        assert!(!t.on_event(&ev(HostState::Running)));
        assert!(!t.on_event(&ev(HostState::Running)));
        assert!(t.on_event(&ev(HostState::Ok)));
        assert!(t.on_event(&ev(HostState::Failed {
            outcome: ExitOutcome::Code { code: 1 }
        })));
        assert!(t.on_event(&ev(HostState::Unreachable {
            kind: ErrorKind::Connect,
            message: "x".into()
        })));
        assert_eq!(t.message(), "ok 1 · failed 1 · unreachable 1");
    }
}
