//! `fleetdeck export`: history flattened to one row per host per run, as CSV or JSON, for
//! spreadsheets, tickets and post-incident reviews.

use std::io::Write;

use serde::Serialize;

use crate::engine::{HostResult, HostState, RunResult, RunStatus};

/// One host in one run. Field order is the CSV column order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    pub run_id: String,
    pub started: String,
    pub finished: String,
    pub user: String,
    pub selector: String,
    pub command: String,
    /// The action template, when the run came from one ("" otherwise).
    pub action: String,
    /// The action's parameters as recorded (`k=v` joined by `; `; secrets are masked there).
    pub params: String,
    pub run_status: RunStatus,
    pub host: String,
    pub state: String,
    pub exit_code: Option<i32>,
    pub duration_ms: u64,
    pub attempts: u32,
    pub bytes_out: u64,
    pub bytes_err: u64,
    /// Why the host did not end ok: first error line, or the state's reason.
    pub reason: String,
}

/// The rows of `run`, in its host order.
pub fn rows(run: &RunResult) -> impl Iterator<Item = ExportRow> + '_ {
    let (action, params) = match &run.action {
        Some(a) => (
            a.name.clone(),
            a.params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        None => (String::new(), String::new()),
    };
    run.hosts.iter().map(move |h| ExportRow {
        run_id: run.id.clone(),
        started: run.started.clone(),
        finished: run.finished.clone(),
        user: run.user.clone(),
        selector: run.selector.clone(),
        command: run.command.clone(),
        action: action.clone(),
        params: params.clone(),
        run_status: run.status,
        host: h.host.clone(),
        state: h.state.label().to_string(),
        exit_code: h.exit_code,
        duration_ms: h.duration_ms,
        attempts: h.attempts,
        bytes_out: h.bytes_out,
        bytes_err: h.bytes_err,
        reason: reason(h),
    })
}

fn reason(h: &HostResult) -> String {
    if let Some(line) = &h.first_error_line {
        return line.clone();
    }
    match &h.state {
        HostState::Unreachable { message, .. } | HostState::Error { message, .. } => {
            message.clone()
        }
        HostState::Skipped { reason } => reason.clone(),
        _ => String::new(),
    }
}

/// Writes rows as CSV with a header. A text cell that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`, so opening an export
/// never executes what an operator typed as a command.
pub struct CsvOut<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> Self {
        Self {
            writer: csv::Writer::from_writer(out),
        }
    }

    pub fn write(&mut self, row: &ExportRow) -> Result<(), csv::Error> {
        let mut safe = row.clone();
        for cell in [
            &mut safe.selector,
            &mut safe.command,
            &mut safe.params,
            &mut safe.host,
            &mut safe.reason,
            &mut safe.user,
        ] {
            defuse_formula(cell);
        }
        self.writer.serialize(safe)
    }

    /// Writes the header when no row was written, then flushes.
    pub fn finish(mut self, wrote_any: bool) -> Result<W, String> {
        if !wrote_any {
            self.writer
                .write_record(HEADER)
                .map_err(|e| e.to_string())?;
        }
        self.writer.into_inner().map_err(|e| e.to_string())
    }
}

/// The CSV header (what serde writes before the first row).
pub const HEADER: [&str; 17] = [
    "run_id",
    "started",
    "finished",
    "user",
    "selector",
    "command",
    "action",
    "params",
    "run_status",
    "host",
    "state",
    "exit_code",
    "duration_ms",
    "attempts",
    "bytes_out",
    "bytes_err",
    "reason",
];

fn defuse_formula(cell: &mut String) {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        cell.insert(0, '\'');
    }
}

/// Writes rows as one JSON array, a row per line, streaming (no whole-history buffer).
pub struct JsonOut<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> JsonOut<W> {
    pub fn new(out: W) -> Self {
        Self { out, count: 0 }
    }

    pub fn write(&mut self, row: &ExportRow) -> std::io::Result<()> {
        let sep = if self.count == 0 { "[\n" } else { ",\n" };
        self.out.write_all(sep.as_bytes())?;
        serde_json::to_writer(&mut self.out, row)?;
        self.count += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        let end = if self.count == 0 { "[]\n" } else { "\n]\n" };
        self.out.write_all(end.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ActionUse;
    use crate::engine::{ErrorKind, ExitOutcome};

    fn run() -> RunResult {
        let host =
            |name: &str, state: HostState, code: Option<i32>, err: Option<&str>| HostResult {
                host: name.into(),
                state,
                exit_code: code,
                duration_ms: 12,
                bytes_out: 3,
                bytes_err: 0,
                first_error_line: err.map(Into::into),
                attempts: 1,
            };
        RunResult {
            id: "01JTEST".into(),
            user: "ann@laptop".into(),
            started: "2026-11-22T09:00:00.000Z".into(),
            finished: "2026-11-22T09:00:01.000Z".into(),
            selector: "web[1-2]".into(),
            targets: "web[1-2]".into(),
            command: "=HYPERLINK(\"x\"), echo \"hi\"".into(),
            status: RunStatus::Failed,
            hosts: vec![
                host("web1", HostState::Ok, Some(0), None),
                host(
                    "web2",
                    HostState::Failed {
                        outcome: ExitOutcome::Code { code: 3 },
                    },
                    Some(3),
                    Some("boom, \"quoted\""),
                ),
                host(
                    "web3",
                    HostState::Unreachable {
                        kind: ErrorKind::Connect,
                        message: "connection refused".into(),
                    },
                    None,
                    None,
                ),
            ],
            action: Some(ActionUse {
                name: "restart".into(),
                params: [
                    ("unit".to_string(), "nginx".to_string()),
                    ("token".to_string(), crate::engine::SECRET_MASK.to_string()),
                ]
                .into_iter()
                .collect(),
            }),
        }
    }

    #[test]
    fn csv_has_a_row_per_host_quotes_and_no_formulas() {
        let run = run();
        let mut out = CsvOut::new(Vec::new());
        for row in rows(&run) {
            out.write(&row).unwrap();
        }
        let text = String::from_utf8(out.finish(true).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(Into::into).collect();
        assert_eq!(header, HEADER);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(&records[1][9], "web2");
        assert_eq!(&records[1][10], "failed");
        assert_eq!(&records[1][11], "3");
        assert_eq!(&records[1][16], "boom, \"quoted\"");
        assert_eq!(&records[2][16], "connection refused");
        assert_eq!(&records[0][5], "'=HYPERLINK(\"x\"), echo \"hi\"");
        assert_eq!(&records[0][7], "token=<secret>; unit=nginx");
        assert_eq!(&records[2][11], "", "no exit code is an empty cell");
    }

    #[test]
    fn empty_csv_still_has_its_header_and_json_is_an_array() {
        let text = String::from_utf8(CsvOut::new(Vec::new()).finish(false).unwrap()).unwrap();
        assert_eq!(text.trim_end(), HEADER.join(","));
        let json = String::from_utf8(JsonOut::new(Vec::new()).finish().unwrap()).unwrap();
        assert_eq!(json, "[]\n");
        let run = run();
        let mut out = JsonOut::new(Vec::new());
        for row in rows(&run) {
            out.write(&row).unwrap();
        }
        let json = String::from_utf8(out.finish().unwrap()).unwrap();
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[1]["exit_code"], 3);
        assert_eq!(parsed[2]["exit_code"], serde_json::Value::Null);
        assert_eq!(
            parsed[0]["command"], run.command,
            "JSON keeps text as it is"
        );
    }
}
