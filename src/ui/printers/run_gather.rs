//! `fleetdeck run --gather`: after the run, hosts whose output and end (exit status) are
//! identical are printed once, under their folded node set and count, like `clush -b`. The
//! smallest groups (the outliers) come first. A host's stdout lines come first, then its
//! stderr lines: the two arrive through separate pipes, so their interleaving is timing, and
//! comparing it would split hosts that printed the same thing.
//!
//! ```text
//! ---------------
//! web07 (1) · exit 1
//! ---------------
//! ! disk full
//! ---------------
//! web[01-06,08-20] (19) · exit 0
//! ---------------
//!  12:01:07 up 3 days
//! ```
//!
//! stderr lines start with `! `.

use std::collections::{HashMap, VecDeque};

use super::line_buffer::LineBuffer;
use super::run_summary::describe_briefly;
use super::sanitize::sanitize;
use crate::engine::{EngineEvent, HostState, Stream};
use crate::inventory::nodeset::fold;

const RULE: &str = "---------------";

#[derive(Default, Clone)]
struct HostOutput {
    buffers: [LineBuffer; 2],
    /// Sanitized stdout lines, and stderr lines already prefixed with `! `.
    lines: [VecDeque<String>; 2],
    bytes: usize,
    dropped: u64,
    state: Option<HostState>,
}

pub struct GatherPrinter {
    names: Vec<String>,
    keep_sgr: bool,
    /// Lines kept per host; beyond it the oldest go (the engine's per-host cap).
    cap: usize,
    hosts: Vec<HostOutput>,
}

impl GatherPrinter {
    pub fn new(names: Vec<String>, keep_sgr: bool, cap_bytes: usize) -> Self {
        let hosts = vec![HostOutput::default(); names.len()];
        Self {
            names,
            keep_sgr,
            cap: cap_bytes.max(1),
            hosts,
        }
    }

    /// Collects one event; prints (returns) everything at `RunFinished`, nothing before.
    pub fn on_event(&mut self, event: &EngineEvent) -> String {
        match event {
            EngineEvent::Output {
                host,
                stream,
                bytes,
            } => {
                let keep_sgr = self.keep_sgr;
                let cap = self.cap;
                if let Some(h) = self.hosts.get_mut(*host) {
                    let slot = usize::from(*stream == Stream::Stderr);
                    for line in h.buffers[slot].push(bytes) {
                        h.add(*stream, &line, keep_sgr, cap);
                    }
                }
            }
            EngineEvent::Dropped {
                host,
                bytes_dropped,
            } => {
                if let Some(h) = self.hosts.get_mut(*host) {
                    h.dropped = h.dropped.max(*bytes_dropped);
                }
            }
            EngineEvent::State { host, state } if state.is_terminal() => {
                if let Some(h) = self.hosts.get_mut(*host) {
                    h.state = Some(state.clone());
                }
            }
            EngineEvent::RunFinished { result } => {
                // A host the engine never reported on still has a recorded state.
                for (h, name) in self.hosts.iter_mut().zip(&self.names) {
                    if h.state.is_none() {
                        h.state = result
                            .hosts
                            .iter()
                            .find(|r| &r.host == name)
                            .map(|r| r.state.clone());
                    }
                }
                return self.render();
            }
            _ => {}
        }
        String::new()
    }

    fn render(&mut self) -> String {
        let keep_sgr = self.keep_sgr;
        let cap = self.cap;
        let mut groups: HashMap<(Vec<String>, String), Vec<usize>> = HashMap::new();
        for (i, h) in self.hosts.iter_mut().enumerate() {
            for stream in [Stream::Stdout, Stream::Stderr] {
                let slot = usize::from(stream == Stream::Stderr);
                if let Some(line) = h.buffers[slot].finish() {
                    h.add(stream, &line, keep_sgr, cap);
                }
            }
            let [out, err] = std::mem::take(&mut h.lines);
            let mut lines: Vec<String> = out.into_iter().chain(err).collect();
            let dropped = h.dropped;
            if dropped > 0 {
                lines.insert(
                    0,
                    format!("! [fleetdeck: {dropped} bytes of output dropped]"),
                );
            }
            let end = h
                .state
                .as_ref()
                .map_or_else(|| "no result".to_string(), describe_briefly);
            groups.entry((lines, end)).or_default().push(i);
        }
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by_key(|(_, members)| (members.len(), members.first().copied()));
        let mut out = String::new();
        for ((lines, end), members) in groups {
            let set = fold(
                members
                    .iter()
                    .filter_map(|&i| self.names.get(i).map(String::as_str)),
            );
            out.push_str(&format!(
                "{RULE}\n{set} ({}) · {end}\n{RULE}\n",
                members.len()
            ));
            for line in lines {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

impl HostOutput {
    fn add(&mut self, stream: Stream, line: &[u8], keep_sgr: bool, cap: usize) {
        let mut text = sanitize(line, keep_sgr);
        let slot = usize::from(stream == Stream::Stderr);
        if slot == 1 {
            text.insert_str(0, "! ");
        }
        self.bytes += text.len();
        self.lines[slot].push_back(text);
        // Stdout's oldest lines go first, then stderr's; the line just added always stays.
        while self.bytes > cap && self.lines[0].len() + self.lines[1].len() > 1 {
            let from = if self.lines[0].len() > usize::from(slot == 0) {
                0
            } else {
                1
            };
            if let Some(old) = self.lines[from].pop_front() {
                self.bytes -= old.len();
                self.dropped += old.len() as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ExitOutcome;
    use crate::engine::RunResult;

    fn out(host: usize, bytes: &[u8]) -> EngineEvent {
        EngineEvent::Output {
            host,
            stream: Stream::Stdout,
            bytes: bytes.to_vec(),
        }
    }

    fn state(host: usize, state: HostState) -> EngineEvent {
        EngineEvent::State { host, state }
    }

    fn finished() -> EngineEvent {
        EngineEvent::RunFinished {
            result: Box::new(RunResult {
                id: "X".into(),
                user: "u".into(),
                started: String::new(),
                finished: String::new(),
                selector: String::new(),
                targets: String::new(),
                command: String::new(),
                status: crate::engine::RunStatus::Failed,
                action: None,
                hosts: Vec::new(),
            }),
        }
    }

    #[test]
    fn identical_outputs_grouped_outliers_first() {
        let names: Vec<String> = (1..=4).map(|i| format!("web{i:02}")).collect();
        let mut p = GatherPrinter::new(names, false, 1 << 20);
        for h in [0, 1, 3] {
            assert_eq!(p.on_event(&out(h, b"same\n")), "");
            p.on_event(&state(h, HostState::Ok));
        }
        p.on_event(&out(2, b"same\n"));
        p.on_event(&EngineEvent::Output {
            host: 2,
            stream: Stream::Stderr,
            bytes: b"disk full".to_vec(),
        });
        p.on_event(&state(
            2,
            HostState::Failed {
                outcome: ExitOutcome::Code { code: 1 },
            },
        ));
        assert_eq!(
            p.on_event(&finished()),
            "---------------\nweb03 (1) · exit 1\n---------------\nsame\n! disk full\n\
             ---------------\nweb[01-02,04] (3) · exit 0\n---------------\nsame\n"
        );
    }

    #[test]
    fn same_output_different_exit_is_two_groups_and_cap_drops_oldest() {
        let mut p = GatherPrinter::new(vec!["a".into(), "b".into()], false, 8);
        p.on_event(&out(0, b"1234\n5678\nabcd\n"));
        p.on_event(&state(0, HostState::Ok));
        p.on_event(&state(
            1,
            HostState::Failed {
                outcome: ExitOutcome::Code { code: 3 },
            },
        ));
        let text = p.on_event(&finished());
        assert!(text.contains("a (1) · exit 0\n---------------\n! [fleetdeck: 4 bytes of output dropped]\n5678\nabcd\n"), "{text}");
        assert!(text.contains("b (1) · exit 3\n---------------\n"), "{text}");
    }
}
