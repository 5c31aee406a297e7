//! A host's output as the console keeps it: complete lines, parsed once, bounded in lines and
//! bytes. The oldest lines go first and the view shows how many went ("… N lines dropped …").
//! Partial lines wait (per stream) until their newline or the host's end, so stdout and
//! stderr never mix inside a line. Output the engine itself dropped (`EngineEvent::Dropped`)
//! becomes a marker line where it happened.
//!
//! Lines have sequence numbers that never change: line `s` is the `s`-th line ever appended.
//! The dropped-lines marker sits at `lines_dropped() - 1`, the sequence number of the last line
//! that went, so a reader's position survives eviction.

use std::collections::VecDeque;

use super::ansi::parse_line;
use super::line::{LineKind, PaneLine, Run};
use crate::engine::{EngineEvent, Stream};
use crate::ui::printers::line_buffer::LineBuffer;

/// How much a scrollback keeps. A single line is never dropped while it is the newest, so the
/// bound is `max_bytes` plus one line (at most 64 KiB of raw output, a few times that once
/// controls are made visible) plus the partial lines waiting for their newline (at most 64 KiB
/// per stream: longer ones are cut by the line splitter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrollbackCaps {
    pub max_lines: usize,
    pub max_bytes: usize,
}

impl Default for ScrollbackCaps {
    /// The engine's default per-host output cap (`[run] output_cap_per_host`, 4 MiB).
    fn default() -> Self {
        ScrollbackCaps {
            max_lines: 100_000,
            max_bytes: 4 << 20,
        }
    }
}

/// One output source: its two unfinished lines and the engine's dropped total so far.
#[derive(Debug, Default)]
struct Source {
    pending: [LineBuffer; 2],
    dropped: u64,
}

/// What sits at one sequence number of the view.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shown<'a> {
    /// The marker for this many lines dropped from the top.
    Evicted(u64),
    Line(&'a PaneLine),
}

/// The last engine marker, so a burst of `Dropped` events grows one line instead of many.
#[derive(Debug, Clone, Copy)]
struct LastMarker {
    seq: u64,
    host: usize,
    bytes: u64,
}

#[derive(Debug)]
pub struct Scrollback {
    lines: VecDeque<PaneLine>,
    /// Lines dropped from the top; also the sequence number of the first line kept.
    evicted: u64,
    bytes: usize,
    caps: ScrollbackCaps,
    sources: Vec<Source>,
    /// Host names of a merged stream (empty for one host's pane).
    hosts: Vec<String>,
    /// Width of the `host!: ` prefix of a merged stream (0 for one host's pane).
    host_width: usize,
    last_marker: Option<LastMarker>,
    /// Lines looked at by views, so a test can prove a frame touches only what it shows.
    #[cfg(test)]
    touched: std::sync::atomic::AtomicUsize,
}

impl Scrollback {
    /// One host's pane.
    pub fn new(caps: ScrollbackCaps) -> Self {
        Self::with_sources(caps, 1, Vec::new())
    }

    /// A stream merging `hosts` (see `MergedStream`).
    pub(super) fn merged(hosts: Vec<String>, caps: ScrollbackCaps) -> Self {
        let width = hosts
            .iter()
            .map(|h| super::geometry::text_width(h))
            .max()
            .unwrap_or(0);
        let mut sb = Self::with_sources(caps, hosts.len(), hosts);
        // `name!: `: the name padded for the `!` of stderr, the colon, one space.
        sb.host_width = width + 3;
        sb
    }

    fn with_sources(caps: ScrollbackCaps, sources: usize, hosts: Vec<String>) -> Self {
        Scrollback {
            lines: VecDeque::new(),
            evicted: 0,
            bytes: 0,
            caps: ScrollbackCaps {
                max_lines: caps.max_lines.max(1),
                max_bytes: caps.max_bytes,
            },
            sources: (0..sources).map(|_| Source::default()).collect(),
            hosts,
            host_width: 0,
            last_marker: None,
            #[cfg(test)]
            touched: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Appends raw output; complete lines are parsed and stored, a partial line waits.
    pub fn append(&mut self, stream: Stream, bytes: &[u8]) {
        self.append_from(0, stream, bytes);
    }

    /// The engine's total of bytes dropped for this host (`EngineEvent::Dropped`).
    pub fn note_dropped(&mut self, total: u64) {
        self.note_dropped_from(0, total);
    }

    /// The host ended: its partial lines are stored as they are.
    pub fn finish(&mut self) {
        self.finish_from(0);
    }

    /// Applies an engine event when it is about `host` (the host this pane shows): output,
    /// dropped totals, and the end of the host (which flushes partial lines).
    pub fn apply(&mut self, event: &EngineEvent, host: usize) {
        match event {
            EngineEvent::Output {
                host: h,
                stream,
                bytes,
            } if *h == host => self.append(*stream, bytes),
            EngineEvent::Dropped {
                host: h,
                bytes_dropped,
            } if *h == host => self.note_dropped(*bytes_dropped),
            EngineEvent::State { host: h, state } if *h == host && state.is_terminal() => {
                self.finish();
            }
            _ => {}
        }
    }

    pub(super) fn append_from(&mut self, host: usize, stream: Stream, bytes: &[u8]) {
        let slot = usize::from(stream == Stream::Stderr);
        let Some(source) = self.sources.get_mut(host) else {
            return;
        };
        let complete = source.pending[slot].push(bytes);
        let kind = if slot == 1 {
            LineKind::Stderr
        } else {
            LineKind::Stdout
        };
        for raw in complete {
            let parsed = parse_line(&raw);
            self.push_line(PaneLine::new(
                parsed.text,
                parsed.runs,
                kind,
                host_u32(host),
            ));
        }
    }

    pub(super) fn note_dropped_from(&mut self, host: usize, total: u64) {
        let Some(source) = self.sources.get_mut(host) else {
            return;
        };
        if total <= source.dropped {
            return;
        }
        let more = total - source.dropped;
        source.dropped = total;
        let end = self.end();
        // Still the newest line: grow it rather than stacking markers.
        if let Some(last) = self.last_marker
            && last.host == host
            && last.seq + 1 == end
            && let Some(line) = self.lines.back_mut()
        {
            let bytes = last.bytes + more;
            let old = line.cost();
            *line = dropped_marker(bytes, host);
            self.bytes = self.bytes - old + line.cost();
            self.last_marker = Some(LastMarker { bytes, ..last });
            return;
        }
        self.push_line(dropped_marker(more, host));
        self.last_marker = Some(LastMarker {
            seq: end,
            host,
            bytes: more,
        });
    }

    pub(super) fn finish_from(&mut self, host: usize) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let slot = usize::from(stream == Stream::Stderr);
            let rest = self
                .sources
                .get_mut(host)
                .and_then(|s| s.pending[slot].finish());
            if let Some(rest) = rest {
                let parsed = parse_line(&rest);
                let kind = if slot == 1 {
                    LineKind::Stderr
                } else {
                    LineKind::Stdout
                };
                self.push_line(PaneLine::new(
                    parsed.text,
                    parsed.runs,
                    kind,
                    host_u32(host),
                ));
            }
        }
    }

    fn push_line(&mut self, line: PaneLine) {
        self.bytes += line.cost();
        self.lines.push_back(line);
        while (self.bytes > self.caps.max_bytes || self.lines.len() > self.caps.max_lines)
            && self.lines.len() > 1
        {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.cost();
                self.evicted += 1;
            }
        }
    }

    /// Lines kept.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes held by the kept lines, as counted against `max_bytes`.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Lines dropped from the top to stay within the caps.
    pub fn lines_dropped(&self) -> u64 {
        self.evicted
    }

    /// Sequence number the next line will get (lines ever stored).
    pub fn end_seq(&self) -> u64 {
        self.evicted + self.lines.len() as u64
    }

    pub fn caps(&self) -> ScrollbackCaps {
        self.caps
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &PaneLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// Line `seq`, if it is still kept.
    pub fn get(&self, seq: u64) -> Option<&PaneLine> {
        let index = usize::try_from(seq.checked_sub(self.evicted)?).ok()?;
        self.lines.get(index)
    }

    /// First sequence number a view shows: the dropped-lines marker when lines were dropped.
    pub(super) fn start(&self) -> u64 {
        self.evicted.saturating_sub(1)
    }

    /// One past the last sequence number a view shows.
    pub(super) fn end(&self) -> u64 {
        self.end_seq()
    }

    /// What a view shows at `seq`.
    pub(super) fn shown(&self, seq: u64) -> Option<Shown<'_>> {
        #[cfg(test)]
        self.touched
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if seq < self.evicted {
            return (seq + 1 == self.evicted).then_some(Shown::Evicted(self.evicted));
        }
        self.get(seq).map(Shown::Line)
    }

    /// Columns before a line's text: `host!: ` in a merged stream, `! ` for a pane's stderr.
    pub(super) fn prefix_width(&self, line: &PaneLine) -> usize {
        if !self.hosts.is_empty() {
            self.host_width
        } else if line.kind() == LineKind::Stderr {
            2
        } else {
            0
        }
    }

    pub(super) fn host_name(&self, host: usize) -> Option<&str> {
        self.hosts.get(host).map(String::as_str)
    }

    /// The width `host_name` is padded to before `!:` (merged streams).
    pub(super) fn host_name_width(&self) -> usize {
        self.host_width.saturating_sub(3)
    }

    #[cfg(test)]
    pub(super) fn take_touched(&self) -> usize {
        self.touched.swap(0, std::sync::atomic::Ordering::Relaxed)
    }
}

fn host_u32(host: usize) -> u32 {
    // Hosts are indexes into a run's host list (at most a node set's 100,000 names).
    u32::try_from(host).unwrap_or(u32::MAX)
}

fn dropped_marker(bytes: u64, host: usize) -> PaneLine {
    let text = format!("… {bytes} bytes dropped (output too fast) …");
    let end = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let run = Run {
        end,
        style: ratatui::style::Style::default(),
        control: false,
    };
    PaneLine::new(text, vec![run], LineKind::Marker, host_u32(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sb: &Scrollback) -> Vec<&str> {
        sb.lines().map(PaneLine::text).collect()
    }

    #[test]
    fn partial_lines_wait_and_streams_do_not_mix() {
        let mut sb = Scrollback::new(ScrollbackCaps::default());
        sb.append(Stream::Stdout, b"hel");
        sb.append(Stream::Stderr, b"oops\nhal");
        sb.append(Stream::Stdout, b"lo\r\nwor");
        assert_eq!(texts(&sb), vec!["oops", "hello"]);
        assert_eq!(
            sb.lines().next().map(PaneLine::kind),
            Some(LineKind::Stderr)
        );
        sb.finish();
        assert_eq!(texts(&sb), vec!["oops", "hello", "wor", "hal"]);
        sb.finish();
        assert_eq!(sb.len(), 4);
    }

    #[test]
    fn line_cap_drops_oldest_and_counts() {
        let mut sb = Scrollback::new(ScrollbackCaps {
            max_lines: 3,
            max_bytes: 1 << 20,
        });
        for i in 0..10 {
            sb.append(Stream::Stdout, format!("line {i}\n").as_bytes());
        }
        assert_eq!(texts(&sb), vec!["line 7", "line 8", "line 9"]);
        assert_eq!(sb.lines_dropped(), 7);
        assert_eq!(sb.end_seq(), 10);
        assert!(matches!(sb.shown(6), Some(Shown::Evicted(7))));
        assert!(sb.shown(5).is_none());
        assert_eq!(sb.get(7).map(PaneLine::text), Some("line 7"));
        assert_eq!(sb.get(6), None);
    }

    #[test]
    fn ten_megabytes_into_a_one_megabyte_cap() {
        let cap = 1 << 20;
        let mut sb = Scrollback::new(ScrollbackCaps {
            max_lines: usize::MAX,
            max_bytes: cap,
        });
        let chunk = "0123456789abcdef \x1b[31mred\x1b[0m tail of a log line\n".repeat(1000);
        let mut appended = 0;
        while appended < 10 << 20 {
            sb.append(Stream::Stdout, chunk.as_bytes());
            appended += chunk.len();
        }
        assert!(sb.bytes() <= cap, "{} > {cap}", sb.bytes());
        assert!(sb.bytes() > cap - 1024, "the cap is used, not wasted");
        assert!(sb.lines_dropped() > 0);
        // What the lines really hold agrees with the accounting.
        let held: usize = sb.lines().map(PaneLine::cost).sum();
        assert_eq!(held, sb.bytes());
    }

    #[test]
    fn engine_drops_become_one_growing_marker() {
        let mut sb = Scrollback::new(ScrollbackCaps::default());
        sb.append(Stream::Stdout, b"before\n");
        sb.note_dropped(100);
        sb.note_dropped(100); // a repeated total changes nothing
        sb.note_dropped(250);
        sb.append(Stream::Stdout, b"after\n");
        sb.note_dropped(300);
        assert_eq!(
            texts(&sb),
            vec![
                "before",
                "… 250 bytes dropped (output too fast) …",
                "after",
                "… 50 bytes dropped (output too fast) …",
            ]
        );
        let held: usize = sb.lines().map(PaneLine::cost).sum();
        assert_eq!(held, sb.bytes());
    }

    #[test]
    fn apply_takes_only_its_host() {
        let mut sb = Scrollback::new(ScrollbackCaps::default());
        let out = |host: usize, bytes: &[u8]| EngineEvent::Output {
            host,
            stream: Stream::Stdout,
            bytes: bytes.to_vec(),
        };
        sb.apply(&out(1, b"mine"), 1);
        sb.apply(&out(2, b"not mine\n"), 1);
        sb.apply(
            &EngineEvent::State {
                host: 1,
                state: crate::engine::HostState::Ok,
            },
            1,
        );
        assert_eq!(texts(&sb), vec!["mine"]);
    }
}
