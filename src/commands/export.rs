//! `fleetdeck export --format csv|json [--since DUR] [--output FILE]`: history.jsonl (and its
//! rotated files, oldest first) as one row per host per run. With --output the file appears
//! whole or not at all (written beside it, then renamed).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::{ExportArgs, ExportFormat};
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::{Records, RunResult};
use crate::store::{chain_oldest_first, for_each_record};
use crate::ui::printers::export::{CsvOut, JsonOut, rows};

pub fn run(home: &Home, settings: &Settings, args: &ExportArgs) -> Result<ExitCode, Error> {
    let history = Records::new(home, &settings.store).history_path();
    let cutoff = match args.since {
        Some(since) => {
            let since = time::Duration::try_from(since)
                .map_err(|_| Error::Invalid(format!("--since {since:?} is too long")))?;
            // A window reaching back before the earliest time there is covers every run.
            OffsetDateTime::now_utc().checked_sub(since)
        }
        None => None,
    };
    match &args.output {
        None => {
            let stdout = std::io::stdout().lock();
            match export(&history, cutoff, args.format, stdout) {
                Err(Error::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::BrokenPipe =>
                {
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(e),
                Ok(n) => {
                    eprintln!("exported {n} row(s)");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Some(path) => {
            let n = export_to_file(&history, cutoff, args.format, path)?;
            eprintln!("exported {n} row(s) to {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Writes beside `path` and renames over it, so a failure leaves no half-written export.
fn export_to_file(
    history: &Path,
    cutoff: Option<OffsetDateTime>,
    format: ExportFormat,
    path: &Path,
) -> Result<u64, Error> {
    let tmp = temp_beside(path);
    let file = File::create(&tmp).map_err(|e| Error::io(&tmp, "create", e))?;
    let result = export(history, cutoff, format, BufWriter::new(file)).and_then(|n| {
        std::fs::rename(&tmp, path)
            .map(|()| n)
            .map_err(|e| Error::io(path, "rename into place", e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Streams every run (oldest file first) whose start is at or after `cutoff` into `out`;
/// returns the rows written. Damaged lines are skipped with a warning naming file and line.
fn export<W: Write>(
    history: &Path,
    cutoff: Option<OffsetDateTime>,
    format: ExportFormat,
    out: W,
) -> Result<u64, Error> {
    let files = chain_oldest_first(history);

    let mut count = 0u64;
    let mut failure: Option<Error> = None;
    let out_path = Path::new("<output>");
    let mut sink = match format {
        ExportFormat::Csv => Sink::Csv(Box::new(CsvOut::new(out))),
        ExportFormat::Json => Sink::Json(JsonOut::new(out)),
    };
    for file in &files {
        let summary = for_each_record::<RunResult, _>(file, |line, run| {
            if failure.is_some() || !wanted(&run, cutoff, file, line) {
                return;
            }
            for row in rows(&run) {
                let written = match &mut sink {
                    Sink::Csv(csv) => csv.write(&row).map_err(csv_error),
                    Sink::Json(json) => json.write(&row),
                };
                if let Err(e) = written {
                    failure = Some(Error::io(out_path, "write", e));
                    return;
                }
                count += 1;
            }
        })
        .map_err(|e| Error::Invalid(e.to_string()))?;
        for corrupt in &summary.corrupt {
            eprintln!("fleetdeck: warning: skipped a damaged line: {corrupt}");
        }
        if summary.torn_tail {
            eprintln!(
                "fleetdeck: warning: {}: the last line is incomplete (being written right now, \
                 or cut by a crash); skipped",
                file.display()
            );
        }
        if let Some(e) = failure {
            return Err(e);
        }
    }
    match sink {
        Sink::Csv(csv) => {
            let mut w = csv
                .finish(count > 0)
                .map_err(|e| Error::io(out_path, "write", std::io::Error::other(e)))?;
            w.flush().map_err(|e| Error::io(out_path, "write", e))?;
        }
        Sink::Json(json) => {
            json.finish().map_err(|e| Error::io(out_path, "write", e))?;
        }
    }
    Ok(count)
}

enum Sink<W: Write> {
    Csv(Box<CsvOut<W>>),
    Json(JsonOut<W>),
}

fn csv_error(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// A run is exported when it started at or after the cutoff; one whose start time cannot be
/// read is kept without a cutoff and skipped (with a warning) with one.
fn wanted(run: &RunResult, cutoff: Option<OffsetDateTime>, file: &Path, line: u64) -> bool {
    let Some(cutoff) = cutoff else { return true };
    match OffsetDateTime::parse(&run.started, &Rfc3339) {
        Ok(started) => started >= cutoff,
        Err(e) => {
            eprintln!(
                "fleetdeck: warning: {}:{line}: run {} has an unreadable start time `{}` ({e}); \
                 left out of --since",
                file.display(),
                run.id,
                run.started
            );
            false
        }
    }
}
