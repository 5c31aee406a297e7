//! `fleetdeck stats [--since DUR] [--json | --prometheus]`: run statistics counted from
//! history.jsonl (with its rotated files), and the runs audit.jsonl says started without an
//! end. Reads only; a damaged line is skipped with a warning naming its file and line. A
//! missing history is zero runs, not an error.

use std::path::Path;
use std::process::ExitCode;

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::StatsArgs;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::{AuditRecord, Records, RunResult};
use crate::metrics::stats::StatsBuilder;
use crate::store::{ReadSummary, StoreError, chain_oldest_first, for_each_record};
use crate::ui::printers::stats::{Window, render_json, render_table};
use crate::ui::printers::stats_prom::render_prometheus;
use crate::ui::printers::write_stdout;

/// An audit line with the time it was written (`AuditRecord` leaves out `"ts"`).
#[derive(Deserialize)]
struct AuditLine {
    #[serde(default)]
    ts: String,
    #[serde(flatten)]
    record: AuditRecord,
}

pub fn run(home: &Home, settings: &Settings, args: &StatsArgs) -> Result<ExitCode, Error> {
    let records = Records::new(home, &settings.store);
    let now = OffsetDateTime::now_utc();
    // A window longer than time itself (`--since 99999999d`) is every run.
    let from = args.since.and_then(|since| {
        time::Duration::try_from(since)
            .ok()
            .and_then(|d| now.checked_sub(d))
    });
    let window = Window {
        now,
        since: args.since.filter(|_| from.is_some()),
        from,
    };
    let mut builder = StatsBuilder::new(from);
    // Audit first: each history record then closes its run (StatsBuilder's order).
    read_audit(&records.audit_path(), &mut builder)?;
    read_history(&records.history_path(), &mut builder)?;
    let stats = builder.finish();

    let text = if args.json {
        render_json(&stats, &window)?
    } else if args.prometheus {
        let out = render_prometheus(&stats)?;
        for name in &out.left_out {
            eprintln!(
                "fleetdeck: warning: command `{name}` is left out of the Prometheus text: it \
                 looks like another one once its control characters are shown"
            );
        }
        out.text
    } else {
        render_table(&stats, &window)
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn read_history(history: &Path, builder: &mut StatsBuilder) -> Result<(), Error> {
    // Without --since an undated run still counts; with it, it cannot be placed.
    let counts_undated = builder.in_window(None);
    for file in chain_oldest_first(history) {
        let summary = for_each_record::<RunResult, _>(&file, |line, run| {
            let record = run.stats_record();
            if record.started.is_none() {
                let what = if counts_undated {
                    "counted without a duration"
                } else {
                    "left out of --since"
                };
                warn_at(
                    &file,
                    line,
                    &format!("run {} has an unreadable start time; {what}", run.id),
                );
            } else if record.duration_ms.is_none() && builder.in_window(record.started) {
                warn_at(
                    &file,
                    line,
                    &format!(
                        "run {} has an unreadable end time (or ends before it starts); counted \
                         without a duration",
                        run.id
                    ),
                );
            }
            builder.add(&record);
        })
        .map_err(|e| read_error("history", e))?;
        warn_damage(&file, &summary);
    }
    Ok(())
}

fn read_audit(audit: &Path, builder: &mut StatsBuilder) -> Result<(), Error> {
    for file in chain_oldest_first(audit) {
        let summary = for_each_record::<AuditLine, _>(&file, |_, line| {
            if line.record.is_run_start() {
                let at = OffsetDateTime::parse(&line.ts, &Rfc3339).ok();
                builder.audit_started(&line.record.run_id, at);
            } else if line.record.is_run_end() {
                builder.audit_ended(&line.record.run_id);
            }
        })
        .map_err(|e| read_error("the audit log", e))?;
        warn_damage(&file, &summary);
    }
    Ok(())
}

fn warn_at(file: &Path, line: u64, message: &str) {
    eprintln!("fleetdeck: warning: {}:{line}: {message}", file.display());
}

fn warn_damage(file: &Path, summary: &ReadSummary) {
    for corrupt in &summary.corrupt {
        eprintln!("fleetdeck: warning: skipped a damaged line: {corrupt}");
    }
    if summary.torn_tail {
        eprintln!(
            "fleetdeck: warning: {}: the last line is incomplete (being written right now, or \
             cut by a crash); skipped",
            file.display()
        );
    }
}

fn read_error(what: &str, e: StoreError) -> Error {
    Error::Invalid(format!("cannot read {what}: {e}"))
}
