//! `fleetdeck history`: the list of past runs, and one run with its output.

use serde::Serialize;

use super::line_buffer::LineBuffer;
use super::run_summary::{counts, error_line, human_ms};
use super::sanitize::{json_terminal_safe, sanitize};
use super::table;
use crate::diag::Error;
use crate::engine::records::OutputRecord;
use crate::engine::{HostResult, HostState, RunResult, Stream};

/// Longest command shown in the list (the full one is in `history show`).
const MAX_COMMAND_CHARS: usize = 60;

/// Newest first, as given: ID, STARTED (UTC), USER, STATUS, HOSTS, TARGETS, COMMAND.
pub fn render_list(runs: &[RunResult]) -> String {
    if runs.is_empty() {
        return "no runs recorded yet\n".to_string();
    }
    let width = unique_prefix_len(runs.iter().map(|r| r.id.as_str()));
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.id.get(..width).unwrap_or(&r.id).to_string(),
                when(&r.started),
                clean(&r.user),
                r.status.to_string(),
                counts(r),
                clean(&r.targets),
                shorten(&clean(&r.command), MAX_COMMAND_CHARS),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "STARTED (UTC)",
            "USER",
            "STATUS",
            "HOSTS",
            "TARGETS",
            "COMMAND",
        ],
        &rows,
    )
}

/// One run per line, newest first.
pub fn render_list_json(runs: &[RunResult]) -> Result<String, Error> {
    let mut out = String::new();
    for r in runs {
        out.push_str(&to_json(r)?);
        out.push('\n');
    }
    Ok(out)
}

/// The run's header, per-host table, then each host's recorded output (stderr lines start
/// with `! `).
pub fn render_show(run: &RunResult, output: &[OutputRecord]) -> String {
    let mut out = format!(
        "run      {}\nstatus   {} ({})\nstarted  {} UTC, {}\nuser     {}\ncommand  {}\ntargets  {} (selector {})\n\n",
        run.id,
        run.status,
        counts(run),
        when(&run.started),
        elapsed_ms(&run.started, &run.finished)
            .map_or_else(String::new, |ms| format!("took {}", human_ms(ms))),
        clean(&run.user),
        clean(&run.command),
        clean(&run.targets),
        clean(&run.selector),
    );
    let rows: Vec<Vec<String>> = run
        .hosts
        .iter()
        .map(|h| {
            vec![
                h.host.clone(),
                h.state.label().to_string(),
                exit_text(h),
                human_ms(h.duration_ms),
                why_text(h),
            ]
        })
        .collect();
    out.push_str(&table(&["HOST", "STATE", "EXIT", "DURATION", "WHY"], &rows));

    // Hosts in the run's order; a host found only in the output file goes last.
    let mut order: Vec<&str> = run.hosts.iter().map(|h| h.host.as_str()).collect();
    for rec in output {
        if !order.contains(&rec.host.as_str()) {
            order.push(&rec.host);
        }
    }
    for name in order {
        let pieces: Vec<&OutputRecord> = output.iter().filter(|r| r.host == name).collect();
        if pieces.is_empty() {
            continue;
        }
        out.push_str(&format!("\n--- {name}\n"));
        let mut buffers: [LineBuffer; 2] = Default::default();
        let push = |out: &mut String, stream: Stream, line: &[u8]| {
            if stream == Stream::Stderr {
                out.push_str("! ");
            }
            out.push_str(&sanitize(line, false));
            out.push('\n');
        };
        for rec in pieces {
            let slot = usize::from(rec.stream == Stream::Stderr);
            for line in buffers[slot].push(rec.data.as_bytes()) {
                push(&mut out, rec.stream, &line);
            }
        }
        for (slot, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            if let Some(line) = buffers[slot].finish() {
                push(&mut out, stream, &line);
            }
        }
    }
    if output.is_empty() {
        out.push_str("\n(no output recorded)\n");
    }
    out
}

#[derive(Serialize)]
struct ShowJson<'a> {
    run: &'a RunResult,
    output: &'a [OutputRecord],
}

/// `{"run": {…}, "output": [{"host","stream","data"}, …]}`.
pub fn render_show_json(run: &RunResult, output: &[OutputRecord]) -> Result<String, Error> {
    Ok(to_json(&ShowJson { run, output })? + "\n")
}

fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value)
        .map(json_terminal_safe)
        .map_err(|e| Error::Invalid(format!("cannot encode history as JSON: {e}")))
}

/// Shortest prefix length (at least 12) that tells the given ids apart.
pub fn unique_prefix_len<'a>(ids: impl IntoIterator<Item = &'a str>) -> usize {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let common = ids
        .windows(2)
        .map(|w| {
            w[0].bytes()
                .zip(w[1].bytes())
                .take_while(|(a, b)| a == b)
                .count()
        })
        .max()
        .unwrap_or(0);
    (common + 1).max(12)
}

/// A host's exit code, `-` when it has none (it never ran, or a signal ended it).
pub(crate) fn exit_text(h: &HostResult) -> String {
    h.exit_code
        .map_or_else(|| "-".to_string(), |c| c.to_string())
}

/// Why a host did not end ok (its error or first error line, sanitized); empty when it did.
pub(crate) fn why_text(h: &HostResult) -> String {
    if h.state == HostState::Ok {
        String::new()
    } else {
        clean(&error_line(h))
    }
}

/// `2025-01-02T03:04:05.678Z` → `2025-01-02 03:04:05`.
pub(crate) fn when(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

/// Milliseconds from `started` to `finished`, when both parse (also the History view's).
pub(crate) fn elapsed_ms(started: &str, finished: &str) -> Option<u64> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let a = OffsetDateTime::parse(started, &Rfc3339).ok()?;
    let b = OffsetDateTime::parse(finished, &Rfc3339).ok()?;
    u64::try_from((b - a).whole_milliseconds()).ok()
}

/// Recorded text is shown through the sanitizer too: history files can be edited or damaged.
pub(crate) fn clean(text: &str) -> String {
    sanitize(text.as_bytes(), false)
}

pub(crate) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::HostResult;
    use crate::engine::{ExitOutcome, RunStatus};

    fn run(id: &str) -> RunResult {
        RunResult {
            id: id.to_string(),
            user: "me@box".into(),
            started: "2025-01-02T03:04:05.000Z".into(),
            finished: "2025-01-02T03:04:08.250Z".into(),
            selector: "web*".into(),
            targets: "web[01-02]".into(),
            command: "uptime".into(),
            status: RunStatus::Failed,
            action: None,
            hosts: vec![
                HostResult {
                    host: "web01".into(),
                    state: HostState::Ok,
                    exit_code: Some(0),
                    duration_ms: 120,
                    bytes_out: 3,
                    bytes_err: 0,
                    first_error_line: None,
                    attempts: 1,
                },
                HostResult {
                    host: "web02".into(),
                    state: HostState::Failed {
                        outcome: ExitOutcome::Code { code: 1 },
                    },
                    exit_code: Some(1),
                    duration_ms: 3100,
                    bytes_out: 0,
                    bytes_err: 5,
                    first_error_line: Some("boom".into()),
                    attempts: 1,
                },
            ],
        }
    }

    #[test]
    fn list_is_a_table_with_unique_short_ids() {
        let runs = [
            run("01JAAAAAAAAAAAAAAAAAAAAAAA"),
            run("01JAAAAAAAAAAAAAAAAAAAAAAB"),
        ];
        let text = render_list(&runs);
        let first = text.lines().nth(1).unwrap();
        assert!(first.starts_with("01JAAAAAAAAAAAAAAAAAAAAAAA  2025-01-02 03:04:05  me@box  failed  ok 1 · failed 1  web[01-02]  uptime"), "{text}");
        assert_eq!(unique_prefix_len(["01JAB", "01JAC"]), 12);
        assert_eq!(render_list(&[]), "no runs recorded yet\n");
    }

    #[test]
    fn show_has_the_host_table_and_output_per_host() {
        let output = vec![
            OutputRecord {
                host: "web02".into(),
                stream: Stream::Stderr,
                data: "bo".into(),
            },
            OutputRecord {
                host: "web01".into(),
                stream: Stream::Stdout,
                data: "up\x1b[2J\n".into(),
            },
            OutputRecord {
                host: "web02".into(),
                stream: Stream::Stderr,
                data: "om\n".into(),
            },
        ];
        let text = render_show(&run("01JX"), &output);
        assert!(
            text.contains("status   failed (ok 1 · failed 1)\n"),
            "{text}"
        );
        assert!(text.contains("took 3.2s"), "{text}");
        assert!(
            text.contains("web02  failed  1     3.1s      exit 1: boom\n"),
            "{text}"
        );
        assert!(
            text.ends_with("--- web01\nup^[[2J\n\n--- web02\n! boom\n"),
            "{text}"
        );
    }
}
