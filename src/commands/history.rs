//! `fleetdeck history`: list past runs (newest first, read from the end of history.jsonl),
//! show one with its output, or rerun one on the hosts that did not end ok.

use std::path::Path;
use std::process::ExitCode;

use super::run::{Plan, execute};
use crate::cli::{HistoryArgs, HistoryCommand, RerunArgs};
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::{HostState, OutputRecord, Records, RunResult};
use crate::inventory::load;
use crate::inventory::nodeset::fold;
use crate::store::{
    CorruptLine, LineNumbering, ReadReport, for_each_record, read_all_as, read_newest_as,
    rotated_path,
};
use crate::ui::printers::history::{render_list, render_list_json, render_show, render_show_json};
use crate::ui::printers::run_summary::short_id;
use crate::ui::printers::write_stdout;

/// Rotated history files looked at when searching for an id (far above any sane `keep`).
const MAX_ROTATED_FILES: usize = 1000;

pub fn run(home: &Home, settings: &Settings, args: &HistoryArgs) -> Result<ExitCode, Error> {
    let records = Records::new(home, &settings.store);
    match &args.command {
        None => list(&records, args.limit, args.json),
        Some(HistoryCommand::Show { id, json }) => show(&records, id, *json),
        Some(HistoryCommand::Rerun(rerun_args)) => rerun(home, settings, &records, rerun_args),
    }
}

fn list(records: &Records, limit: usize, json: bool) -> Result<ExitCode, Error> {
    let path = records.history_path();
    let report = read_newest_as::<RunResult>(&path, limit).map_err(store_error)?;
    for corrupt in &report.corrupt {
        match line_from_start(&path, corrupt) {
            Some(line) => eprintln!(
                "fleetdeck: warning: {}:{line}: skipped a damaged line: {}",
                corrupt.file.display(),
                corrupt.message
            ),
            None => eprintln!("fleetdeck: warning: skipped a damaged line: {corrupt}"),
        }
    }
    warn_torn(&path, &report);
    let runs: Vec<RunResult> = report.records.into_iter().map(|(_, r)| r).collect();
    let text = if json {
        render_list_json(&runs)?
    } else {
        render_list(&runs)
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn show(records: &Records, id: &str, json: bool) -> Result<ExitCode, Error> {
    let run = find_run(&records.history_path(), id)?;
    let output_path = records.run_output_path(&run.id);
    let report = read_all_as::<OutputRecord>(&output_path).map_err(store_error)?;
    warn_damage(&output_path, &report);
    let output: Vec<OutputRecord> = report.records.into_iter().map(|(_, r)| r).collect();
    let text = if json {
        render_show_json(&run, &output)?
    } else {
        render_show(&run, &output)
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn rerun(
    home: &Home,
    settings: &Settings,
    records: &Records,
    args: &RerunArgs,
) -> Result<ExitCode, Error> {
    let run = find_run(&records.history_path(), &args.id)?;
    if run.hosts.iter().all(|h| h.state == HostState::Ok) {
        write_stdout(&format!(
            "nothing to rerun: every host of run {} ended ok\n",
            short_id(&run.id)
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let hosts = run.rerun_targets(&inventory);
    let plan = Plan {
        selector: fold(hosts.iter().map(|h| h.name.as_str())),
        hosts,
        command: run.command.clone(),
    };
    eprintln!(
        "rerunning run {} on the {} host(s) that did not end ok",
        short_id(&run.id),
        plan.hosts.len()
    );
    execute(home, settings, plan, &args.options)
}

/// The run whose id starts with `prefix` (case-insensitive), searching history.jsonl and its
/// rotated files. Unknown or ambiguous prefixes are invalid input.
fn find_run(history: &Path, prefix: &str) -> Result<RunResult, Error> {
    let wanted = prefix.trim().to_ascii_uppercase();
    if wanted.is_empty() {
        return Err(Error::Invalid(
            "give a run id (fleetdeck history lists them)".to_string(),
        ));
    }
    let mut found: Vec<RunResult> = Vec::new();
    for index in 0..=MAX_ROTATED_FILES {
        let path = rotated_path(history, index);
        if index > 0 && !path.exists() {
            break;
        }
        let summary = for_each_record::<RunResult, _>(&path, |_, run| {
            if run.id.to_ascii_uppercase().starts_with(&wanted)
                && !found.iter().any(|f| f.id == run.id)
            {
                found.push(run);
            }
        })
        .map_err(store_error)?;
        for corrupt in &summary.corrupt {
            eprintln!("fleetdeck: warning: skipped a damaged line: {corrupt}");
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::Invalid(format!(
            "no run with id `{prefix}` in {} (fleetdeck history lists them)",
            history.display()
        ))),
        n => {
            let ids: Vec<&str> = found.iter().take(5).map(|r| r.id.as_str()).collect();
            let more = if n > 5 { ", …" } else { "" };
            Err(Error::Invalid(format!(
                "run id `{prefix}` is ambiguous: it matches {n} runs ({}{more}); type more of it",
                ids.join(", ")
            )))
        }
    }
}

/// Damaged lines are skipped with a warning naming the file and line; the listing goes on.
fn warn_damage<T>(path: &Path, report: &ReadReport<T>) {
    for corrupt in &report.corrupt {
        eprintln!("fleetdeck: warning: skipped a damaged line: {corrupt}");
    }
    warn_torn(path, report);
}

fn warn_torn<T>(path: &Path, report: &ReadReport<T>) {
    if report.torn_tail {
        eprintln!(
            "fleetdeck: warning: {}: the last line is incomplete (being written right now, or \
             cut by a crash); skipped",
            path.display()
        );
    }
}

/// The number from the start of its file of a damaged line that reading from the end found
/// (numbered back from the newest line, through the rotated files). Only runs when a line is
/// damaged, so the usual listing never scans the whole file.
fn line_from_start(history: &Path, corrupt: &CorruptLine) -> Option<u64> {
    if corrupt.numbering == LineNumbering::FromStart {
        return Some(corrupt.line);
    }
    let mut newer_lines = 0;
    for index in 0..=MAX_ROTATED_FILES {
        let path = rotated_path(history, index);
        let lines = count_lines(&path)?;
        if path == corrupt.file {
            let back = corrupt.line.checked_sub(newer_lines)?;
            return (1..=lines).contains(&back).then(|| lines - back + 1);
        }
        newer_lines += lines;
    }
    None
}

/// Lines in a file, a last line without `\n` included; a missing file has none.
fn count_lines(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(0),
        Err(_) => return None,
    };
    let mut buf = vec![0u8; 64 * 1024];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    Some(lines + u64::from(last != b'\n'))
}

fn store_error(e: crate::store::StoreError) -> Error {
    Error::Invalid(format!("cannot read history: {e}"))
}
