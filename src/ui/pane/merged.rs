//! The merged stream: every host's lines in arrival order, each drawn after its host's name
//! (`web01:  …`, `web07!: …` for stderr), like `fleetdeck run --stream`. It is a `Scrollback`
//! whose lines carry their host index, bounded the same way, with each host's partial lines
//! held apart so hosts only interleave at line boundaries. Draw it with `render_pane` on
//! `scrollback()`; `PaneState` scrolls and searches it like any pane.

use super::scrollback::{Scrollback, ScrollbackCaps};
use crate::engine::{EngineEvent, Stream};

#[derive(Debug)]
pub struct MergedStream {
    sb: Scrollback,
}

impl MergedStream {
    /// `hosts` are the run's host names, indexed like the engine's events.
    pub fn new(hosts: Vec<String>, caps: ScrollbackCaps) -> Self {
        MergedStream {
            sb: Scrollback::merged(hosts, caps),
        }
    }

    /// Output of `host`; an index outside the run is ignored.
    pub fn append(&mut self, host: usize, stream: Stream, bytes: &[u8]) {
        self.sb.append_from(host, stream, bytes);
    }

    /// The engine's total of bytes dropped for `host`.
    pub fn note_dropped(&mut self, host: usize, total: u64) {
        self.sb.note_dropped_from(host, total);
    }

    /// `host` ended: its partial lines are stored as they are.
    pub fn finish(&mut self, host: usize) {
        self.sb.finish_from(host);
    }

    /// Output, dropped totals and host ends, from any host.
    pub fn apply(&mut self, event: &EngineEvent) {
        match event {
            EngineEvent::Output {
                host,
                stream,
                bytes,
            } => self.append(*host, *stream, bytes),
            EngineEvent::Dropped {
                host,
                bytes_dropped,
            } => self.note_dropped(*host, *bytes_dropped),
            EngineEvent::State { host, state } if state.is_terminal() => self.finish(*host),
            _ => {}
        }
    }

    pub fn scrollback(&self) -> &Scrollback {
        &self.sb
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::pane::LineKind;

    #[test]
    fn hosts_interleave_only_at_line_boundaries() {
        let mut m = MergedStream::new(vec!["a".into(), "bb".into()], ScrollbackCaps::default());
        m.append(0, Stream::Stdout, b"one ");
        m.append(1, Stream::Stderr, b"err\n");
        m.append(0, Stream::Stdout, b"two\n");
        m.append(7, Stream::Stdout, b"unknown host\n");
        m.note_dropped(1, 10);
        let lines: Vec<(usize, LineKind, &str)> = m
            .scrollback()
            .lines()
            .map(|l| (l.host(), l.kind(), l.text()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (1, LineKind::Stderr, "err"),
                (0, LineKind::Stdout, "one two"),
                (
                    1,
                    LineKind::Marker,
                    "… 10 bytes dropped (output too fast) …"
                ),
            ]
        );
    }
}
