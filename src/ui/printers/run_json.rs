//! `fleetdeck run --json`: one JSON object per line, for scripts (schema in README.md, "JSON
//! events"). Every event has `"v"` (schema version), `"ts"` (RFC 3339, UTC) and `"event"`.
//! Output comes in whole lines where the host wrote them (`data` keeps the `\n`), so
//! concatenating a host's `data` gives its output back (invalid UTF-8 shown as U+FFFD). Control
//! characters, C1 controls and bidi overrides are `\u`-escaped, so even `--json` printed on a
//! terminal cannot drive it.

use serde::Serialize;

use super::line_buffer::MAX_LINE_BYTES;
use super::sanitize::json_terminal_safe;
use crate::engine::{EngineEvent, HostState, RunResult, Stream};
use crate::store::now_rfc3339;

/// The schema version of `--json` events.
pub const JSON_EVENTS_VERSION: u32 = 1;

/// One line: `v`, `ts` and `event` first, then the event's own fields.
#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    v: u32,
    ts: String,
    event: &'a str,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct Started<'a> {
    id: &'a str,
    hosts: usize,
    targets: &'a str,
    command: &'a str,
}

#[derive(Serialize)]
struct State<'a> {
    host: &'a str,
    #[serde(flatten)]
    state: &'a HostState,
}

#[derive(Serialize)]
struct Output<'a> {
    host: &'a str,
    stream: Stream,
    data: &'a str,
}

#[derive(Serialize)]
struct Dropped<'a> {
    host: &'a str,
    bytes_dropped: u64,
}

#[derive(Serialize)]
struct Finished<'a> {
    #[serde(flatten)]
    result: &'a RunResult,
    exit_code: u8,
}

pub struct JsonPrinter {
    names: Vec<String>,
    targets: String,
    command: String,
    /// Per host: unfinished stdout and stderr lines.
    pending: Vec<[Vec<u8>; 2]>,
}

impl JsonPrinter {
    /// `targets` is the folded node set of `names`; `command` as recorded.
    pub fn new(names: Vec<String>, targets: String, command: String) -> Self {
        let pending = vec![[Vec::new(), Vec::new()]; names.len()];
        Self {
            names,
            targets,
            command,
            pending,
        }
    }

    /// The JSON lines for one engine event.
    pub fn on_event(&mut self, event: &EngineEvent) -> String {
        let mut out = String::new();
        match event {
            EngineEvent::RunStarted { id, hosts } => {
                let body = Started {
                    id,
                    hosts: *hosts,
                    targets: &self.targets,
                    command: &self.command,
                };
                push(&mut out, "run_started", body);
            }
            EngineEvent::State { host, state } => {
                if state.is_terminal() {
                    self.flush(&mut out, *host);
                }
                let body = State {
                    host: self.name(*host),
                    state,
                };
                push(&mut out, "state", body);
            }
            EngineEvent::Output {
                host,
                stream,
                bytes,
            } => {
                let Some(pending) = self.pending.get_mut(*host) else {
                    return out;
                };
                let buf = &mut pending[slot(*stream)];
                buf.extend_from_slice(bytes);
                let cut = match buf.iter().rposition(|&b| b == b'\n') {
                    Some(pos) => pos + 1,
                    None if buf.len() > MAX_LINE_BYTES => char_boundary(buf, MAX_LINE_BYTES),
                    None => 0,
                };
                if cut > 0 {
                    let rest = buf.split_off(cut);
                    let data = std::mem::replace(buf, rest);
                    self.push_output(&mut out, *host, *stream, &data);
                }
            }
            EngineEvent::Dropped {
                host,
                bytes_dropped,
            } => {
                let body = Dropped {
                    host: self.name(*host),
                    bytes_dropped: *bytes_dropped,
                };
                push(&mut out, "dropped", body);
            }
            EngineEvent::RunFinished { result } => {
                for host in 0..self.names.len() {
                    self.flush(&mut out, host);
                }
                let body = Finished {
                    result,
                    exit_code: result.exit_code(),
                };
                push(&mut out, "run_finished", body);
            }
        }
        out
    }

    fn name(&self, host: usize) -> &str {
        self.names.get(host).map_or("?", String::as_str)
    }

    fn flush(&mut self, out: &mut String, host: usize) {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let data = self
                .pending
                .get_mut(host)
                .map(|p| std::mem::take(&mut p[slot(stream)]))
                .unwrap_or_default();
            if !data.is_empty() {
                self.push_output(out, host, stream, &data);
            }
        }
    }

    fn push_output(&self, out: &mut String, host: usize, stream: Stream, data: &[u8]) {
        let body = Output {
            host: self.name(host),
            stream,
            data: &String::from_utf8_lossy(data),
        };
        push(out, "output", body);
    }
}

/// Appends one JSON line.
fn push<T: Serialize>(out: &mut String, event: &str, body: T) {
    let line = Line {
        v: JSON_EVENTS_VERSION,
        ts: now_rfc3339(),
        event,
        body,
    };
    match serde_json::to_string(&line) {
        Ok(text) => {
            out.push_str(&json_terminal_safe(text));
            out.push('\n');
        }
        // Plain data always serializes; should it ever not, log it rather than stop the run.
        Err(e) => tracing::error!(event, error = %e, "cannot encode a JSON event"),
    }
}

fn slot(stream: Stream) -> usize {
    usize::from(stream == Stream::Stderr)
}

/// `at`, moved back (by at most 3) so it does not split a UTF-8 character.
fn char_boundary(buf: &[u8], at: usize) -> usize {
    let mut cut = at.min(buf.len());
    while cut > at.saturating_sub(3) && cut < buf.len() && (buf[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ExitOutcome;
    use crate::engine::HostResult;
    use serde_json::Value;

    fn parse(lines: &str) -> Vec<Value> {
        lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn events_have_the_documented_shape() {
        let mut p = JsonPrinter::new(vec!["a".into()], "a".into(), "echo hi".into());
        let line = p.on_event(&EngineEvent::RunStarted {
            id: "ID".into(),
            hosts: 1,
        });
        assert!(line.starts_with("{\"v\":1,\"ts\":\""), "{line}");
        assert!(
            line.contains("\"event\":\"run_started\",\"id\":\"ID\""),
            "{line}"
        );
        let started = parse(&line);
        assert_eq!(started[0]["event"], "run_started");
        assert_eq!(started[0]["v"], 1);
        assert_eq!(started[0]["targets"], "a");
        assert_eq!(started[0]["command"], "echo hi");
        assert_eq!(started[0]["hosts"], 1);

        let out = p.on_event(&EngineEvent::Output {
            host: 0,
            stream: Stream::Stdout,
            bytes: b"hi\npart".to_vec(),
        });
        let out = parse(&out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["event"], "output");
        assert_eq!(out[0]["host"], "a");
        assert_eq!(out[0]["stream"], "stdout");
        assert_eq!(out[0]["data"], "hi\n");

        let failed = HostState::Failed {
            outcome: ExitOutcome::Code { code: 2 },
        };
        let ended = parse(&p.on_event(&EngineEvent::State {
            host: 0,
            state: failed.clone(),
        }));
        assert_eq!(ended[0]["data"], "part");
        assert_eq!(ended[1]["event"], "state");
        assert_eq!(ended[1]["state"], "failed");
        assert_eq!(ended[1]["outcome"]["outcome"], "code");
        assert_eq!(ended[1]["outcome"]["code"], 2);

        let result = RunResult {
            id: "ID".into(),
            user: "u".into(),
            started: "s".into(),
            finished: "f".into(),
            selector: "a".into(),
            targets: "a".into(),
            command: "echo hi".into(),
            status: crate::engine::RunStatus::Failed,
            action: None,
            hosts: vec![HostResult {
                host: "a".into(),
                state: failed,
                exit_code: Some(2),
                duration_ms: 1,
                bytes_out: 7,
                bytes_err: 0,
                first_error_line: None,
                attempts: 1,
            }],
        };
        let done = parse(&p.on_event(&EngineEvent::RunFinished {
            result: Box::new(result),
        }));
        assert_eq!(done[0]["event"], "run_finished");
        assert_eq!(done[0]["exit_code"], 1);
        assert_eq!(done[0]["hosts"][0]["host"], "a");
        assert_eq!(done[0]["hosts"][0]["state"], "failed");
    }

    #[test]
    fn control_bytes_are_json_escaped() {
        let mut p = JsonPrinter::new(vec!["a".into()], "a".into(), "x".into());
        let line = p.on_event(&EngineEvent::Output {
            host: 0,
            stream: Stream::Stderr,
            bytes: b"\x1b]0;pwned\x07\n".to_vec(),
        });
        assert!(
            !line.contains('\u{1b}') && !line.contains('\u{7}'),
            "{line}"
        );
        assert_eq!(parse(&line)[0]["data"], "\u{1b}]0;pwned\u{7}\n");
    }
}
