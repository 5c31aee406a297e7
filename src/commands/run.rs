//! `fleetdeck run`: validate everything first (selector, options, config: exit 2 with nothing
//! run or recorded), show the targets, confirm protected environments, then drive the engine
//! and print its events in the chosen output mode. Ctrl-C cancels the run (exit 130); a second
//! Ctrl-C quits at once.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::ProgressBar;
use tokio::sync::mpsc;

use super::hosts::resolve_targets_sampled;
use super::metric_targets::Sampler;
use super::prompt::{confirm_protected, read_passphrase};
use crate::action::TargetEnvs;
use crate::cli::{OutputMode, RunArgs, RunOptions};
use crate::config::units::format_duration;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::launch::{self, LimitFlags, Shape, SshFlags};
use crate::engine::session::passphrase::Passphrases;
use crate::engine::{
    ENGINE_CHANNEL, EngineEvent, FleetSession, PassphraseFn, RunId, RunRequest, RunResult,
    SessionOptions,
};
use crate::inventory::nodeset::fold;
use crate::inventory::{Host, TransportKind, load};
use crate::transport::ExecSpec;
use crate::transport::ssh::config::SshConfigSource;
use crate::ui::printers::run_dry::{DryRunLimits, render_dry_run};
use crate::ui::printers::run_gather::GatherPrinter;
use crate::ui::printers::run_json::JsonPrinter;
use crate::ui::printers::run_progress::{Tally, progress_bar, show};
use crate::ui::printers::run_stream::StreamPrinter;
use crate::ui::printers::run_summary::render_summary;
use crate::ui::printers::sanitize::colour_allowed;

/// Events printed in one write at most.
const PRINT_BATCH: usize = 256;

/// An ad-hoc command and where to run it, already resolved (not an action's `Plan`).
pub struct CommandRun {
    pub hosts: Vec<Host>,
    /// The selector(s) as typed (or the folded host set, for a rerun), for the record.
    pub selector: String,
    pub command: String,
}

/// The hosts `-t` picks from hosts.toml, and the selector as recorded; none is invalid input.
pub(super) fn targets(
    home: &Home,
    settings: &Settings,
    options: &RunOptions,
    targets: &[String],
) -> Result<(Vec<Host>, String), Error> {
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let sampler = Sampler {
        home,
        settings,
        ssh: SshFlags {
            ssh_config: options.ssh_config.clone(),
            known_hosts: options.known_hosts.clone(),
            accept_new: options.accept_new,
        },
    };
    let hosts = resolve_targets_sampled(&inventory, targets, Some(&sampler))?;
    let selector = targets.join(" -t ");
    if hosts.is_empty() {
        return Err(Error::Invalid(format!(
            "no hosts matched `{selector}`; nothing was run (fleetdeck hosts -t SELECTOR shows \
             what a selector picks)"
        )));
    }
    Ok((hosts, selector))
}

/// `fleetdeck run -t SELECTOR -- COMMAND` (`--action` runs go to `actions::run_action`).
pub fn run(home: &Home, settings: &Settings, args: &RunArgs) -> Result<ExitCode, Error> {
    let command = join_command(&args.command)?;
    let (hosts, selector) = targets(home, settings, &args.options, &args.targets)?;
    execute(
        home,
        settings,
        CommandRun {
            hosts,
            selector,
            command,
        },
        &args.options,
    )
}

/// The command words after `--`, joined by spaces like ssh does.
fn join_command(words: &[String]) -> Result<String, Error> {
    let command = words.join(" ");
    if command.trim().is_empty() {
        return Err(Error::Invalid(
            "missing command: put it after `--`, e.g. fleetdeck run -t web01 -- uptime, or run \
             an action template with --action NAME (fleetdeck actions lists them)"
                .to_string(),
        ));
    }
    Ok(command)
}

/// Runs a resolved command with `options` (shared by `run` and `history rerun`).
pub fn execute(
    home: &Home,
    settings: &Settings,
    plan: CommandRun,
    options: &RunOptions,
) -> Result<ExitCode, Error> {
    let spec = exec_spec(&plan.command, settings, options)?;
    let fanout = options.fanout.unwrap_or(settings.run.fanout) as usize;
    let envs = TargetEnvs::of(&plan.hosts, &settings.safety.protected_envs).protected;

    check_known_hosts_files(options)?;
    check_jump_chains(&plan.hosts, options)?;
    if options.dry_run {
        let limits = dry_run_limits(&spec, fanout, options);
        let (destinations, notes) = ssh_destinations(&plan.hosts, options)?;
        let mut text = render_dry_run(&plan.hosts, &destinations, &plan.command, &limits, &envs);
        // What the ssh config has that fleetdeck does not apply (`Match final`, `exec`, …):
        // said where the run is previewed, not only in the log.
        if !notes.is_empty() {
            text.push_str("\nssh config notes:\n");
            for note in &notes {
                text.push_str(&format!("  {note}\n"));
            }
        }
        crate::ui::printers::write_stdout(&text)?;
        return Ok(ExitCode::SUCCESS);
    }

    let shape = Shape {
        fanout: options.fanout,
        batch: options.batch,
        max_fail: options.max_fail,
    };
    let request = launch::request(
        None,
        plan.hosts,
        plan.selector,
        plan.command,
        spec,
        settings,
        shape,
    );
    run_request(home, settings, request, options)
}

/// Runs a request that passed every check (an ad-hoc command's or an action's): shows the
/// targets, confirms protected environments, then drives it through a `FleetSession` (the
/// same queue, transports and records as the console) and prints its events.
pub fn run_request(
    home: &Home,
    settings: &Settings,
    request: RunRequest,
    options: &RunOptions,
) -> Result<ExitCode, Error> {
    let output_cap = launch::output_cap(settings);
    let envs = TargetEnvs::of(&request.targets, &settings.safety.protected_envs).protected;
    let folded = request.folded_targets();
    let mode = options.output_mode();
    let progress = (mode != OutputMode::Json && std::io::stderr().is_terminal())
        .then(|| progress_bar(request.targets.len()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    let session = {
        // The session starts its queue and watchers on this runtime.
        let _entered = runtime.enter();
        FleetSession::open(
            home,
            settings,
            session_options(&request, options, progress.clone()),
        )?
    };
    let noun = if request.targets.len() == 1 {
        "host"
    } else {
        "hosts"
    };
    eprintln!("running on {} {noun}: {folded}", request.targets.len());
    confirm_protected(&request.targets, &envs, options.yes)?;
    if let Some(bar) = &progress {
        show(bar);
    }

    if let Err(e) = home.ensure_writable_dirs() {
        eprintln!("fleetdeck: warning: this run may not be recorded: {e}");
    }
    tracing::info!(run = %request.id, targets = %folded, count = request.targets.len(), "run starting");
    let result = drive(&runtime, &session, request, progress, mode, output_cap)?;
    tracing::info!(run = %result.id, status = %result.status, "run finished");
    Ok(ExitCode::from(result.exit_code()))
}

/// The command and its limits: flags win over config.toml; `0s` turns a limit off.
fn exec_spec(command: &str, settings: &Settings, options: &RunOptions) -> Result<ExecSpec, Error> {
    let flags = LimitFlags {
        connect_timeout: options.connect_timeout,
        timeout: options.timeout,
        idle_timeout: options.idle_timeout,
    };
    launch::exec_spec(command, settings, flags)
}

fn dry_run_limits(spec: &ExecSpec, fanout: usize, options: &RunOptions) -> DryRunLimits {
    let or_off = |d: Option<Duration>| d.map_or_else(|| "off".to_string(), format_duration);
    DryRunLimits {
        fanout,
        connect_timeout: format_duration(spec.connect_timeout),
        timeout: or_off(spec.timeout),
        idle_timeout: or_off(spec.idle_timeout),
        batch: options
            .batch
            .map_or_else(|| "-".to_string(), |b| b.to_string()),
        max_fail: options
            .max_fail
            .map_or_else(|| "-".to_string(), |m| m.to_string()),
    }
}

/// A `--known-hosts FILE` that does not exist is a typo, not an empty trust list.
pub(super) fn check_known_hosts_files(options: &RunOptions) -> Result<(), Error> {
    for file in &options.known_hosts {
        if !file.is_file() {
            return Err(Error::Invalid(format!(
                "--known-hosts {}: no such file",
                file.display()
            )));
        }
    }
    Ok(())
}

/// For `--dry-run`: where the ssh config sends each ssh host (`user@host:port via jumps`).
/// A ProxyJump chain that loops or runs too deep is invalid input, found before anything runs
/// (exit 2, naming the hosts), not a failure of every host at run time.
pub(super) fn check_jump_chains(hosts: &[Host], options: &RunOptions) -> Result<(), Error> {
    let jumping = |h: &&Host| h.transport == TransportKind::Ssh;
    if !hosts.iter().any(|h| jumping(&h)) {
        return Ok(());
    }
    let config = SshConfigSource::load(options.ssh_config.as_deref())?;
    let mut problems: Vec<String> = Vec::new();
    for host in hosts.iter().filter(jumping) {
        // Other resolution problems are each host's own, reported when it runs.
        let Ok(resolved) = config.resolve(host) else {
            continue;
        };
        if resolved.proxy_jump.is_empty() {
            continue;
        }
        if let Err(e) = config.jump_chain(&resolved) {
            problems.push(e.to_string());
        }
    }
    match problems.as_slice() {
        [] => Ok(()),
        [one] => Err(Error::Invalid(format!("{one}; nothing was run"))),
        [first, rest @ ..] => Err(Error::Invalid(format!(
            "{first} (and {} more host(s) with a broken ProxyJump chain); nothing was run",
            rest.len()
        ))),
    }
}

/// Each SSH host's destination as ssh would reach it, and the config's warnings.
fn ssh_destinations(
    hosts: &[Host],
    options: &RunOptions,
) -> Result<(Vec<Option<String>>, Vec<String>), Error> {
    if !hosts.iter().any(|h| h.transport == TransportKind::Ssh) {
        return Ok((vec![None; hosts.len()], Vec::new()));
    }
    let config = SshConfigSource::load(options.ssh_config.as_deref())?;
    let notes = config.warnings().to_vec();
    let destinations = hosts
        .iter()
        .map(|h| {
            if h.transport != TransportKind::Ssh {
                return None;
            }
            Some(match config.resolve(h) {
                Ok(r) if r.proxy_jump.is_empty() => r.destination(),
                Ok(r) => {
                    let hops: Vec<String> = r.proxy_jump.iter().map(ToString::to_string).collect();
                    format!("{} via {}", r.destination(), hops.join(","))
                }
                Err(e) => format!("(cannot resolve: {e})"),
            })
        })
        .collect();
    Ok((destinations, notes))
}

/// One run's session: its targets, its `--fanout` as the fan-out budget (not the console's
/// shared one), the ssh flags, and passphrases asked for only when someone is at the
/// terminal (otherwise an encrypted key gives a clear error instead of a hang).
fn session_options(
    request: &RunRequest,
    options: &RunOptions,
    progress: Option<ProgressBar>,
) -> SessionOptions {
    let passphrases = if std::io::stdin().is_terminal() {
        let ask: PassphraseFn = Arc::new(move |key: &Path| match &progress {
            Some(bar) => bar.suspend(|| read_passphrase(key)),
            None => read_passphrase(key),
        });
        Passphrases::Callback(ask)
    } else {
        Passphrases::Never
    };
    SessionOptions {
        ssh: SshFlags {
            ssh_config: options.ssh_config.clone(),
            known_hosts: options.known_hosts.clone(),
            accept_new: options.accept_new,
        },
        passphrases,
        budget_at_least: Some(request.fanout),
        ..SessionOptions::new(request.targets.clone())
    }
}

/// Where printed text goes: stdout, around the progress bar. A closed stdout (`| head`) stops
/// the printing, not the run, which still completes and is recorded.
struct Terminal {
    progress: Option<ProgressBar>,
    open: bool,
}

impl Terminal {
    fn print(&mut self, text: &str) {
        if text.is_empty() || !self.open {
            return;
        }
        let write = || {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        };
        let written = match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        };
        if let Err(e) = written {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::warn!(error = %e, "cannot write to stdout; output printing stopped");
            }
            self.open = false;
        }
    }
}

enum Printer {
    Stream(StreamPrinter),
    Gather(GatherPrinter),
    Json(JsonPrinter),
}

impl Printer {
    fn new(mode: OutputMode, request: &RunRequest, output_cap: usize) -> Self {
        let names: Vec<String> = request.targets.iter().map(|h| h.name.clone()).collect();
        let keep_sgr = colour_allowed(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        );
        match mode {
            OutputMode::Stream => Printer::Stream(StreamPrinter::new(names, keep_sgr)),
            OutputMode::Gather => Printer::Gather(GatherPrinter::new(names, keep_sgr, output_cap)),
            OutputMode::Json => {
                let targets = fold(names.iter().map(String::as_str));
                Printer::Json(JsonPrinter::new(
                    names,
                    targets,
                    request.display_command.clone(),
                ))
            }
        }
    }

    fn on_event(&mut self, event: &EngineEvent) -> String {
        match self {
            Printer::Stream(p) => p.on_event(event),
            Printer::Gather(p) => p.on_event(event),
            Printer::Json(p) => p.on_event(event),
        }
    }
}

/// How long the end waits for the SSH servers' goodbyes.
const GOODBYE_GRACE: Duration = Duration::from_secs(5);

/// Submits the run to `session` and prints its events as they come, until it ends; then
/// closes the session's connections.
fn drive(
    runtime: &tokio::runtime::Runtime,
    session: &FleetSession,
    request: RunRequest,
    progress: Option<ProgressBar>,
    mode: OutputMode,
    output_cap: usize,
) -> Result<RunResult, Error> {
    let mut printer = Printer::new(mode, &request, output_cap);
    let mut terminal = Terminal {
        progress: progress.clone(),
        open: true,
    };
    let run_id = request.id.clone();
    let outcome = runtime.block_on(async {
        let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
        let id = match session.submit(request, tx) {
            Ok(id) => id,
            Err(e) => return Err(Error::Invalid(format!("the run was not started: {e}"))),
        };
        let interrupts = tokio::spawn(watch_interrupts(
            session.clone(),
            id.clone(),
            progress.clone(),
        ));
        let bar = progress.clone();
        // Printing blocks on the terminal or a pipe: keep it off the runtime's workers.
        let printing = tokio::task::spawn_blocking(move || {
            let mut tally = Tally::default();
            let mut finished: Option<RunResult> = None;
            let mut handle = |event: EngineEvent| {
                if let Some(bar) = &bar
                    && let EngineEvent::State { .. } = &event
                {
                    if tally.on_event(&event) {
                        bar.inc(1);
                    }
                    bar.set_message(tally.message());
                }
                if let EngineEvent::RunFinished { result } = &event {
                    finished = Some((**result).clone());
                }
                printer.on_event(&event)
            };
            while let Some((_, first)) = rx.blocking_recv() {
                // What else is queued already goes out in the same write, so the progress bar
                // is cleared and redrawn once per batch, not once per line.
                let mut text = handle(first);
                for _ in 1..PRINT_BATCH {
                    match rx.try_recv() {
                        Ok((_, event)) => text.push_str(&handle(event)),
                        Err(_) => break,
                    }
                }
                terminal.print(&text);
            }
            finished
        });
        let printed = printing.await;
        interrupts.abort();
        session.shutdown(GOODBYE_GRACE).await;
        match printed {
            Ok(Some(result)) => Ok(result),
            // The session always ends a run with RunFinished; should it not, say so.
            Ok(None) => Err(Error::Invalid(format!(
                "run {run_id} ended without a result; see fleetdeck history"
            ))),
            Err(e) => Err(Error::Invalid(format!("the output printer stopped: {e}"))),
        }
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let result = outcome?;
    eprint!("{}", render_summary(&result));
    Ok(result)
}

/// First Ctrl-C: cancel the run (remote commands are killed, the run is recorded as
/// cancelled, the cancel audited). Second: quit at once.
async fn watch_interrupts(session: FleetSession, id: RunId, progress: Option<ProgressBar>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    let note = "fleetdeck: interrupted: cancelling the run and stopping remote commands \
                (Ctrl-C again to quit at once)";
    match &progress {
        Some(bar) => bar.suspend(|| eprintln!("{note}")),
        None => eprintln!("{note}"),
    }
    session.cancel_noting(&id, "requested (Ctrl-C)");
    if tokio::signal::ctrl_c().await.is_ok() {
        std::process::exit(130);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words_are_joined_like_ssh() {
        assert_eq!(
            join_command(&["echo".into(), "a b".into(), "c".into()]).unwrap(),
            "echo a b c"
        );
        assert!(join_command(&[]).is_err());
        assert!(join_command(&[" ".into()]).is_err());
    }

    #[test]
    fn flags_beat_config_and_zero_means_off() {
        let settings = Settings::default();
        let spec = exec_spec("true", &settings, &RunOptions::default()).unwrap();
        assert_eq!(spec.timeout, Some(Duration::from_secs(600)));
        assert_eq!(spec.idle_timeout, None);
        let options = RunOptions {
            timeout: Some(Duration::ZERO),
            idle_timeout: Some(Duration::from_secs(5)),
            ..Default::default()
        };
        let spec = exec_spec("true", &settings, &options).unwrap();
        assert_eq!(spec.timeout, None);
        assert_eq!(spec.idle_timeout, Some(Duration::from_secs(5)));
        let zero = RunOptions {
            connect_timeout: Some(Duration::ZERO),
            ..Default::default()
        };
        assert!(exec_spec("true", &settings, &zero).is_err());
    }
}
