//! `fleetdeck history`: list past runs (newest first, read from the end of history.jsonl),
//! show one with its output, or rerun one on the hosts that did not end ok (a run of an
//! action is planned again from its template, its secrets given again).

use std::path::Path;
use std::process::ExitCode;

use super::actions::{Launch, ask_missing_secrets, launch, parse_params, plan_on, with_problems};
use super::run::{CommandRun, check_known_hosts_files, execute};
use crate::action::plan::Inputs;
use crate::action::{Catalog, Template};
use crate::cli::{HistoryArgs, HistoryCommand, RerunArgs};
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::types::ActionUse;
use crate::engine::{AuditRecord, HostState, OutputRecord, Records, RunResult, SECRET_MASK};
use crate::inventory::nodeset::fold;
use crate::inventory::{Host, load};
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
    if run.action.is_none() && (!args.params.is_empty() || args.confirm.is_some()) {
        return Err(Error::Invalid(format!(
            "run {} ran a command, not an action: -p and --confirm apply to reruns of actions; \
             nothing was run",
            short_id(&run.id)
        )));
    }
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let hosts = run.rerun_targets(&inventory);
    if let Some(used) = &run.action {
        // The recorded command cannot simply be replayed: its secrets came on stdin, and an
        // agent-only action records an operation, not a shell command. Plan it again.
        return rerun_action(home, settings, records, &run, used, hosts, args);
    }
    let plan = CommandRun {
        selector: fold(hosts.iter().map(|h| h.name.as_str())),
        hosts,
        command: run.command.clone(),
    };
    eprintln!(
        "rerunning run {} on the {} host(s) that did not end ok",
        short_id(&run.id),
        plan.hosts.len()
    );
    audit_rerun(
        records,
        &run,
        &run.command,
        &plan.selector,
        plan.hosts.len(),
    );
    execute(home, settings, plan, &args.options)
}

/// A run of an action, again: today's template with the recorded plain values (a `-p`
/// replaces one), the secrets given again, the same checks and confirmation as
/// `run --action`.
fn rerun_action(
    home: &Home,
    settings: &Settings,
    records: &Records,
    run: &RunResult,
    used: &ActionUse,
    hosts: Vec<Host>,
    args: &RerunArgs,
) -> Result<ExitCode, Error> {
    let selector = fold(hosts.iter().map(|h| h.name.as_str()));
    let (catalog, problems) = Catalog::load_partial(home);
    let template = catalog.find(&used.name).map_err(|e| {
        let gone = format!(
            "run {} ran action `{}`, which is not in {} any more: {e}; nothing was run\n{}",
            short_id(&run.id),
            used.name,
            home.actions_dir().display(),
            by_hand(run, used, &selector)
        );
        with_problems(gone, &problems)
    })?;
    check_known_hosts_files(&args.options)?;
    let mut inputs = parse_params(template, &args.params)?;
    recorded_values(template, used, &mut inputs).map_err(|changes| {
        Error::Invalid(format!(
            "action `{}` has changed since run {} was recorded:\n{}\nnothing was run \
             (fleetdeck actions show {} lists its parameters now)",
            template.name,
            short_id(&run.id),
            changes.join("\n"),
            template.name
        ))
    })?;
    ask_missing_secrets(template, &mut inputs)?;
    let how = Launch {
        options: &args.options,
        priority: None,
        confirm: args.confirm.as_deref(),
    };
    let plan = plan_on(template, &inputs, hosts, &selector, settings, &how)?;
    eprintln!(
        "rerunning run {} (action {}) on the {} host(s) that did not end ok",
        short_id(&run.id),
        template.name,
        plan.request.targets.len()
    );
    if !args.options.dry_run {
        let params: Vec<String> = plan
            .request
            .action
            .iter()
            .flat_map(|a| a.params.iter().map(|(k, v)| format!("{k}={v}")))
            .collect();
        let what = format!("action {} {}", template.name, params.join(" "));
        audit_rerun(
            records,
            run,
            what.trim_end(),
            &selector,
            plan.request.targets.len(),
        );
    }
    launch(home, settings, template, plan, &how)
}

/// Fills `inputs` with the recorded plain values the operator did not give again. Returns
/// what changed in the template since (each as a line) if the recorded values no longer fit.
fn recorded_values(
    template: &Template,
    used: &ActionUse,
    inputs: &mut Inputs,
) -> Result<(), Vec<String>> {
    let mut changes = Vec::new();
    for (name, value) in &used.params {
        match template.param(name) {
            None => changes.push(format!("  parameter `{name}` is no longer in the template")),
            // Secrets are never recorded: they are given again (or asked for).
            Some(p) if p.secret => {}
            Some(_) if value == SECRET_MASK => {
                if !inputs.values.contains_key(name) {
                    changes.push(format!(
                        "  parameter `{name}` was a secret and is not one now: give its value \
                         with -p {name}=VALUE"
                    ));
                }
            }
            Some(_) => {
                inputs
                    .values
                    .entry(name.clone())
                    .or_insert_with(|| value.clone());
            }
        }
    }
    for p in &template.params {
        let needed = (p.required || p.secret) && p.default.is_none();
        let given = inputs.values.contains_key(&p.name) || inputs.secrets.contains_key(&p.name);
        if needed && !given && !used.params.contains_key(&p.name) {
            let how = if p.secret { "env:VAR" } else { "VALUE" };
            changes.push(format!(
                "  parameter `{}` is required and has no recorded value: give it with -p {}={how}",
                p.name, p.name
            ));
        }
    }
    if changes.is_empty() {
        Ok(())
    } else {
        Err(changes)
    }
}

/// How to rerun an action whose template is gone: its recorded command, when that is a
/// shell command that needs nothing on stdin.
fn by_hand(run: &RunResult, used: &ActionUse, selector: &str) -> String {
    let restore = format!(
        "put actions/{}.toml back and rerun, or run it afresh with fleetdeck run --action",
        used.name
    );
    if used.params.values().any(|v| v == SECRET_MASK) {
        return format!(
            "to rerun it: {restore} (its recorded command reads its secrets on stdin, so it \
             cannot be replayed as is)"
        );
    }
    if run.command.starts_with("agent {") {
        return format!(
            "to rerun it: {restore} (it ran an agent operation, recorded as `{}`)",
            run.command
        );
    }
    let quote = |s: &str| shlex::try_quote(s).map_or_else(|_| s.to_string(), |q| q.into_owned());
    format!(
        "to rerun its recorded command by hand: fleetdeck run -t {} -- {}\nor {restore}",
        quote(selector),
        quote(&run.command)
    )
}

/// The rerun as an operator action; the new run then records its own `run` lines.
fn audit_rerun(records: &Records, run: &RunResult, what: &str, targets: &str, count: usize) {
    records.audit(&AuditRecord::rerun(
        &run.id,
        &format!(": {what}"),
        targets,
        count,
    ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::template;

    fn used(params: &[(&str, &str)]) -> ActionUse {
        ActionUse {
            name: "x".to_string(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn recorded_values_fill_in_and_report_what_changed() {
        let t = template::parse(
            std::path::Path::new("/h/actions/x.toml"),
            "command = \"echo {a} {b} {pw}\"\n[[params]]\nname = \"a\"\n[[params]]\nname = \"b\"\ndefault = \"d\"\n\
             [[params]]\nname = \"pw\"\nsecret = true\n",
        )
        .unwrap();
        // A recorded value fills in; one given again wins; the secret is left to be given.
        let mut inputs = Inputs::default();
        inputs.values.insert("b".into(), "new".into());
        recorded_values(
            &t,
            &used(&[("a", "1"), ("b", "old"), ("pw", SECRET_MASK)]),
            &mut inputs,
        )
        .unwrap();
        assert_eq!(inputs.values.get("a").map(String::as_str), Some("1"));
        assert_eq!(inputs.values.get("b").map(String::as_str), Some("new"));
        assert!(!inputs.values.contains_key("pw") && inputs.secrets.is_empty());

        // Gone, no longer secret, and a secret never recorded: each named.
        let changes = recorded_values(
            &t,
            &used(&[("a", SECRET_MASK), ("gone", "1")]),
            &mut Inputs::default(),
        )
        .unwrap_err();
        assert_eq!(
            changes,
            [
                "  parameter `a` was a secret and is not one now: give its value with -p a=VALUE",
                "  parameter `gone` is no longer in the template",
                "  parameter `pw` is required and has no recorded value: give it with -p pw=env:VAR",
            ]
        );
    }
}
