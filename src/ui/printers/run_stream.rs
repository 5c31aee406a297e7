//! `fleetdeck run --stream`: output as it arrives, one `host: line` per line.
//!
//! Host names are padded so the text of every line starts in the same column; a stderr line is
//! marked with `!` before the colon (`web01!: disk full`). Each host's partial line waits in a
//! buffer until its newline (or the host's end), so lines of different hosts never mix.

use super::line_buffer::LineBuffer;
use super::sanitize::sanitize;
use crate::engine::{EngineEvent, Stream};

pub struct StreamPrinter {
    names: Vec<String>,
    /// Width of the widest `name!:` prefix.
    width: usize,
    keep_sgr: bool,
    /// Per host: stdout and stderr partial lines.
    buffers: Vec<[LineBuffer; 2]>,
    dropped: Vec<u64>,
}

impl StreamPrinter {
    /// `names` are the run's targets, in the order events index them.
    pub fn new(names: Vec<String>, keep_sgr: bool) -> Self {
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) + 2;
        let buffers = vec![Default::default(); names.len()];
        let dropped = vec![0; names.len()];
        Self {
            names,
            width,
            keep_sgr,
            buffers,
            dropped,
        }
    }

    /// The text to print for one engine event (often empty).
    pub fn on_event(&mut self, event: &EngineEvent) -> String {
        let mut out = String::new();
        match event {
            EngineEvent::Output {
                host,
                stream,
                bytes,
            } => {
                if let Some(bufs) = self.buffers.get_mut(*host) {
                    let lines = bufs[slot(*stream)].push(bytes);
                    for line in lines {
                        self.push_line(&mut out, *host, *stream, &line);
                    }
                }
            }
            EngineEvent::Dropped {
                host,
                bytes_dropped,
            } => {
                if let Some(d) = self.dropped.get_mut(*host) {
                    *d = (*d).max(*bytes_dropped);
                }
            }
            EngineEvent::State { host, state } if state.is_terminal() => {
                self.flush(&mut out, *host)
            }
            EngineEvent::RunFinished { .. } => {
                for host in 0..self.names.len() {
                    self.flush(&mut out, host);
                }
            }
            _ => {}
        }
        out
    }

    /// Prints what is left of a host: its partial lines, and a marker if output was dropped.
    fn flush(&mut self, out: &mut String, host: usize) {
        let Some(bufs) = self.buffers.get_mut(host) else {
            return;
        };
        let rest: Vec<(Stream, Vec<u8>)> = [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .filter_map(|s| bufs[slot(s)].finish().map(|line| (s, line)))
            .collect();
        for (stream, line) in rest {
            self.push_line(out, host, stream, &line);
        }
        let dropped = std::mem::take(&mut self.dropped[host]);
        if dropped > 0 {
            let marker = format!(
                "[fleetdeck: {dropped} bytes of output dropped: it came faster than it could be printed]"
            );
            self.push_line(out, host, Stream::Stderr, marker.as_bytes());
        }
    }

    fn push_line(&self, out: &mut String, host: usize, stream: Stream, line: &[u8]) {
        let name = self.names.get(host).map_or("?", String::as_str);
        let prefix = match stream {
            Stream::Stdout => format!("{name}:"),
            Stream::Stderr => format!("{name}!:"),
        };
        out.push_str(&format!("{prefix:<width$} ", width = self.width));
        out.push_str(&sanitize(line, self.keep_sgr));
        out.push('\n');
    }
}

fn slot(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HostState;

    fn output(host: usize, stream: Stream, bytes: &[u8]) -> EngineEvent {
        EngineEvent::Output {
            host,
            stream,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn aligned_lines_stderr_marked_partials_buffered() {
        let mut p = StreamPrinter::new(vec!["web01".into(), "db1".into()], false);
        assert_eq!(p.on_event(&output(0, Stream::Stdout, b"hel")), "");
        assert_eq!(
            p.on_event(&output(1, Stream::Stdout, b"one\ntw")),
            "db1:    one\n"
        );
        assert_eq!(
            p.on_event(&output(0, Stream::Stdout, b"lo\n")),
            "web01:  hello\n"
        );
        assert_eq!(
            p.on_event(&output(0, Stream::Stderr, b"oops\n")),
            "web01!: oops\n"
        );
        let done = EngineEvent::State {
            host: 1,
            state: HostState::Ok,
        };
        assert_eq!(p.on_event(&done), "db1:    tw\n");
    }

    #[test]
    fn escapes_and_drops_are_visible() {
        let mut p = StreamPrinter::new(vec!["a".into()], false);
        assert_eq!(
            p.on_event(&output(0, Stream::Stdout, b"\x1b]0;pwned\x07\x1b[2J\n")),
            "a:  ^[]0;pwned^G^[[2J\n"
        );
        p.on_event(&EngineEvent::Dropped {
            host: 0,
            bytes_dropped: 10,
        });
        let done = EngineEvent::State {
            host: 0,
            state: HostState::Cancelled,
        };
        assert!(
            p.on_event(&done)
                .contains("a!: [fleetdeck: 10 bytes of output dropped")
        );
    }
}
