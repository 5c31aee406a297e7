//! Runs started from the console as the Runs view shows them: each host's state, result and
//! output, the merged stream, the grouped outputs and each pane's scroll state, fed by the
//! engine's events; and how many of them the console keeps. No I/O: the event loop starts and
//! cancels runs.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::engine::queue::QueueSnapshot;
use crate::engine::{EngineEvent, HostResult, HostState, Priority, RunId, RunResult};
use crate::inventory::Host;
use crate::inventory::nodeset::fold;
use crate::ui::pane::{
    MergedStream, OutputGroup, PaneState, Scrollback, ScrollbackCaps, group_outputs,
};

/// Output kept per host in the console: enough to read back a long command, bounded so a
/// chatty fleet of hundreds of hosts cannot exhaust memory (the full output is recorded in
/// runs/<id>.jsonl).
pub const PANE_CAPS: ScrollbackCaps = ScrollbackCaps {
    max_lines: 20_000,
    max_bytes: 1 << 20,
};

/// The merged stream holds every host's lines, so it gets more room than one host's pane.
const MERGED_CAPS: ScrollbackCaps = ScrollbackCaps {
    max_lines: 50_000,
    max_bytes: 4 << 20,
};

/// Finished runs the console keeps (older ones are in history.jsonl and runs/<id>.jsonl): each
/// holds its hosts' output, so keeping every run of a long session would grow without bound.
pub const KEEP_FINISHED_RUNS: usize = 20;

/// Output bytes the finished runs may hold together: twenty finished runs of 500 chatty hosts
/// would otherwise be 10 GiB. The newest finished run is always kept.
pub const FINISHED_OUTPUT_BUDGET: usize = 256 << 20;

/// Drops the oldest finished runs beyond [`KEEP_FINISHED_RUNS`], or while their output is over
/// [`FINISHED_OUTPUT_BUDGET`]; runs in flight always stay, and so does the newest finished
/// run. `selected` (an index into `runs`) keeps pointing at the same run, or the oldest left.
pub fn prune_finished(runs: &mut Vec<RunView>, selected: &mut usize) {
    prune_within(runs, selected, KEEP_FINISHED_RUNS, FINISHED_OUTPUT_BUDGET);
}

/// [`prune_finished`] with explicit limits (tests use small ones).
pub fn prune_within(runs: &mut Vec<RunView>, selected: &mut usize, keep: usize, budget: usize) {
    let mut finished = runs.iter().filter(|r| !r.in_flight()).count();
    let mut bytes: usize = runs
        .iter()
        .filter(|r| !r.in_flight())
        .map(RunView::output_bytes)
        .sum();
    let mut i = 0;
    while finished > 1 && (finished > keep || bytes > budget) && i < runs.len() {
        if runs[i].in_flight() {
            i += 1;
            continue;
        }
        bytes = bytes.saturating_sub(runs[i].output_bytes());
        runs.remove(i);
        finished -= 1;
        if *selected > i {
            *selected -= 1;
        }
    }
    *selected = (*selected).min(runs.len().saturating_sub(1));
}

/// What the event loop needs to start a confirmed run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStart {
    pub id: RunId,
    pub hosts: Vec<Host>,
    /// The targets as chosen (the folded node set), for the record.
    pub selector: String,
    pub command: String,
    /// An action's request, already built by `action::plan::build` (the queue runs it as is);
    /// `None` for an ad-hoc command, whose request is built from `command`.
    pub prepared: Option<crate::ui::app::actions::PreparedRun>,
    /// The run this one reruns where it did not end ok (`r`), for the audit trail.
    pub rerun_of: Option<RunId>,
    /// The incidents it is a runbook's fix for: how it ends is written on their timelines.
    pub for_incidents: Vec<String>,
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
    /// Each host's pane: scroll, follow, wrap, zoom, search (kept per run, so switching runs
    /// and back finds the panes as they were left).
    pub panes: Vec<PaneState>,
    /// All hosts' lines in arrival order, with host prefixes.
    pub merged: MergedStream,
    pub merged_pane: PaneState,
    /// Hosts with identical output and end state, outliers first (see `regroup`).
    pub groups: Vec<OutputGroup>,
    /// Output changed since `groups` was computed.
    groups_stale: bool,
    /// Each host's output digest so far, so regrouping reads only new lines.
    digests: Vec<OutputDigest>,
    /// First row of the grouped view shown.
    pub grouped_top: usize,
    /// The run's result once the engine has finished it.
    pub finished: Option<RunResult>,
    /// Why the run could not start (ssh config, known_hosts…), if it could not.
    pub start_error: Option<String>,
    /// Waiting in the run queue: its place (1 starts next) and priority, as last snapshotted.
    pub queued: Option<(usize, Priority)>,
    /// The engine has sent `RunStarted`: the run left the queue.
    pub started: bool,
    /// Asked to pause: no new host starts until it is resumed.
    pub paused: bool,
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

impl Counts {
    /// Hosts the engine is done with.
    pub fn done(&self) -> usize {
        self.ok + self.failed + self.other
    }
}

impl RunView {
    pub fn new(start: &RunStart) -> Self {
        Self::with_caps(start, PANE_CAPS)
    }

    /// A run whose host panes keep `caps` (tests use small caps to see lines dropped).
    pub fn with_caps(start: &RunStart, caps: ScrollbackCaps) -> Self {
        let n = start.hosts.len();
        let hosts: Vec<String> = start.hosts.iter().map(|h| h.name.clone()).collect();
        RunView {
            id: start.id.clone(),
            command: start.command.clone(),
            folded: fold(hosts.iter().map(String::as_str)),
            merged: MergedStream::new(hosts.clone(), MERGED_CAPS),
            hosts,
            states: vec![HostState::Pending; n],
            results: vec![None; n],
            outputs: (0..n).map(|_| Scrollback::new(caps)).collect(),
            panes: vec![PaneState::new(); n],
            merged_pane: PaneState::new(),
            groups: Vec::new(),
            groups_stale: true,
            digests: vec![OutputDigest::default(); n],
            grouped_top: 0,
            finished: None,
            start_error: None,
            queued: None,
            started: false,
            paused: false,
        }
    }

    /// Output bytes held for this run's panes.
    pub fn output_bytes(&self) -> usize {
        self.outputs.iter().map(Scrollback::bytes).sum()
    }

    /// True until the engine has finished the run (or it could not start).
    pub fn in_flight(&self) -> bool {
        self.finished.is_none() && self.start_error.is_none()
    }

    /// `ok`, `failed`, `unreachable`, `cancelled` once finished; `queued`, `paused`, `running`
    /// or `not started`.
    pub fn status(&self) -> &str {
        match (&self.finished, &self.start_error) {
            (Some(result), _) => result.status.as_str(),
            (None, Some(_)) => "not started",
            (None, None) if self.queued.is_some() => "queued",
            (None, None) if self.paused => "paused",
            (None, None) => "running",
        }
    }

    /// Waiting in the queue (in flight, not started yet).
    pub fn is_queued(&self) -> bool {
        self.in_flight() && self.queued.is_some()
    }

    /// Takes the queue's view of this run: its place while it waits, whether it is paused.
    /// Returns true when the run has just been found waiting (it did not start at once).
    pub fn apply_queue(&mut self, queue: &QueueSnapshot) -> bool {
        if !self.in_flight() {
            return false;
        }
        let was_queued = self.queued.is_some();
        self.queued = if self.started {
            None
        } else {
            queue.queued_run(&self.id).map(|q| (q.position, q.priority))
        };
        if let Some(r) = queue.running_run(&self.id) {
            self.paused = r.paused;
        }
        !was_queued && self.queued.is_some()
    }

    pub fn apply(&mut self, event: &EngineEvent) {
        match event {
            EngineEvent::RunStarted { .. } => {
                self.started = true;
                self.queued = None;
            }
            EngineEvent::State { host, state } => {
                if let Some(s) = self.states.get_mut(*host) {
                    *s = state.clone();
                }
                if let Some(out) = self.outputs.get_mut(*host) {
                    out.apply(event, *host);
                }
                self.merged.apply(event);
                // An end state splits groups even when no output changed.
                self.groups_stale = true;
            }
            EngineEvent::Output { host, .. } | EngineEvent::Dropped { host, .. } => {
                if let Some(out) = self.outputs.get_mut(*host) {
                    out.apply(event, *host);
                }
                self.merged.apply(event);
                self.groups_stale = true;
            }
            EngineEvent::RunFinished { result } => {
                // Results are matched by name: the engine records every target once.
                for (i, name) in self.hosts.iter().enumerate() {
                    if let Some(r) = result.hosts.iter().find(|r| &r.host == name) {
                        self.states[i] = r.state.clone();
                        self.results[i] = Some(r.clone());
                    }
                }
                for (i, out) in self.outputs.iter_mut().enumerate() {
                    out.finish();
                    self.merged.finish(i);
                }
                self.finished = Some((**result).clone());
                self.queued = None;
                self.paused = false;
                self.groups_stale = true;
            }
        }
    }

    /// Recomputes the grouped view if output changed since the last time. Each host's digest
    /// reads only the lines added since (all of them again only after the cap dropped some),
    /// and the console calls it on ticks and when the grouped view opens, never per event.
    pub fn regroup(&mut self) {
        if !self.groups_stale {
            return;
        }
        // Hosts group when their kept lines, dropped count and end state are all the same.
        let keys: Vec<(&str, (u64, &'static str))> = self
            .hosts
            .iter()
            .zip(&self.outputs)
            .zip(&mut self.digests)
            .zip(&self.states)
            .map(|(((name, sb), digest), state)| {
                (name.as_str(), (digest.update(sb), state.label()))
            })
            .collect();
        self.groups = group_outputs(&keys);
        self.groups_stale = false;
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

/// A running digest of what a host's pane shows: every kept line (kind and text) and the
/// count of lines dropped. Equal digests mean equal output (a 64-bit collision is not a
/// practical concern for grouping a screenful of hosts).
#[derive(Debug, Clone, Default)]
struct OutputDigest {
    /// The lines before `upto`, hashed. The newest line is left out: an engine marker grows
    /// in place while it is the newest line.
    hasher: DefaultHasher,
    upto: u64,
    /// `lines_dropped()` when the hasher started: a change means starting over.
    dropped: u64,
}

impl OutputDigest {
    fn update(&mut self, sb: &Scrollback) -> u64 {
        if sb.lines_dropped() != self.dropped || self.upto == 0 {
            let mut hasher = DefaultHasher::new();
            sb.lines_dropped().hash(&mut hasher);
            *self = OutputDigest {
                hasher,
                upto: sb.lines_dropped(),
                dropped: sb.lines_dropped(),
            };
        }
        let last = sb.end_seq().saturating_sub(1);
        while self.upto < last {
            if let Some(line) = sb.get(self.upto) {
                hash_line(line, &mut self.hasher);
            }
            self.upto += 1;
        }
        let mut h = self.hasher.clone();
        if let Some(line) = sb.get(last) {
            hash_line(line, &mut h);
        }
        h.finish()
    }
}

fn hash_line(line: &crate::ui::pane::PaneLine, h: &mut DefaultHasher) {
    line.kind().hash(h);
    line.text().hash(h);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Stream;

    /// The digest from scratch, for comparing with the running one.
    fn fresh(sb: &Scrollback) -> u64 {
        OutputDigest::default().update(sb)
    }

    #[test]
    fn running_digest_equals_a_fresh_one_through_markers_and_eviction() {
        let caps = ScrollbackCaps {
            max_lines: 6,
            max_bytes: 1 << 20,
        };
        let mut sb = Scrollback::new(caps);
        let mut running = OutputDigest::default();
        assert_eq!(running.update(&sb), fresh(&sb));
        let mut seen = std::collections::HashSet::new();
        for step in 0..12 {
            match step % 4 {
                0 => sb.append(Stream::Stdout, format!("out {step}\n").as_bytes()),
                1 => sb.append(Stream::Stderr, format!("err {step}\n").as_bytes()),
                // Two dropped notes in a row grow one marker line in place.
                _ => sb.note_dropped(step * 100),
            }
            let digest = running.update(&sb);
            assert_eq!(digest, fresh(&sb), "step {step}");
            assert!(seen.insert(digest), "output changed at step {step}");
        }
        assert!(sb.lines_dropped() > 0, "the cap dropped lines");
        // Same output, same digest; one more line, another.
        let mut other = Scrollback::new(ScrollbackCaps::default());
        other.append(Stream::Stdout, b"a\nb\n");
        let mut same = Scrollback::new(ScrollbackCaps::default());
        same.append(Stream::Stdout, b"a\n");
        let mut d = OutputDigest::default();
        let before = d.update(&same);
        same.append(Stream::Stdout, b"b\n");
        assert_ne!(before, d.update(&same));
        assert_eq!(d.update(&same), fresh(&other));
    }
}
