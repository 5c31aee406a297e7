//! One file per subcommand: each loads what it needs, calls the engine/store layers, and hands
//! the result to a printer. Errors carry their exit code (`diag::Error::exit_code`).

mod actions;
mod agent;
mod check;
mod demo;
mod demo_story;
mod export;
mod history;
mod hosts;
mod incidents;
mod locks;
mod metric_targets;
mod metrics;
mod paths;
mod prompt;
mod run;
mod stats;
mod status;
mod tui;
mod wallboard;
mod watch;
mod watch_lock;

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, Command, TuiArgs};
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::logging;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    let home = Home::resolve(cli.home.as_deref())?;
    // Bare `fleetdeck` opens the console, like `fleetdeck tui`.
    let command = cli.command.unwrap_or(Command::Tui(TuiArgs::default()));
    match command {
        // Neither needs a valid config: they are how you find and fix a broken one.
        Command::Paths(args) => paths::run(&home, &args),
        Command::Check => check::run(&home),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut cmd, "fleetdeck", &mut out);
            out.flush()
                .map_err(|e| Error::Invalid(format!("cannot write to stdout: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hosts(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            hosts::run(&home, &settings, &args)
        }
        Command::Metrics(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            metrics::run(&home, &settings, &args)
        }
        Command::Run(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            // `run --action NAME` is an action's run; `run -- COMMAND` an ad-hoc one.
            if args.action.is_some() {
                actions::run_action(&home, &settings, &args)
            } else {
                run::run(&home, &settings, &args)
            }
        }
        Command::Actions(args) => {
            let (_settings, _log) = open_home(&home, cli.verbose)?;
            actions::run(&home, &args)
        }
        Command::Locks(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            locks::run(&home, &settings, &args)
        }
        Command::History(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            history::run(&home, &settings, &args)
        }
        Command::Incidents(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            incidents::run(&home, &settings, &args)
        }
        Command::Export(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            export::run(&home, &settings, &args)
        }
        Command::Stats(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            stats::run(&home, &settings, &args)
        }
        // Not `open_home`: recording others' interrupted runs is a write, and a wallboard
        // writes nothing.
        Command::Wallboard(args) => {
            // Recording a dead process's run as interrupted is bookkeeping of the home, not
            // something run on a host: the wallboard does it like every other front end.
            let (settings, _log) = open_home(&home, cli.verbose)?;
            wallboard::run(&home, &settings, &args)
        }
        // Reads one small file: no config, no logging, nothing that could slow a status bar.
        Command::Status(args) => status::run(&home, &args),
        Command::Watch(args) => {
            let settings = load_settings(&home)?;
            let _log = if args.log_file {
                start_logging(&home, cli.verbose, &settings)
            } else {
                start_stderr_logging(cli.verbose, &settings)
            };
            recover_interrupted(&home, &settings);
            watch::run(&home, &settings, &args)
        }
        Command::Agent(cmd) => agent::run(&home, cli.verbose, &cmd),
        // Its own temporary home, whatever --home says.
        Command::Demo(args) => demo::run(&args, cli.verbose),
        Command::Tui(args) => {
            let (settings, _log) = open_home(&home, cli.verbose)?;
            let options = tui::ConsoleOptions {
                ssh: args.ssh_flags(),
            };
            tui::run(&home, &settings, options)
        }
    }
}

/// What every command that works with the home does first: config.toml, logging, and the
/// runs whose process died mid-run recorded as interrupted (once, by whoever comes first).
fn open_home(home: &Home, verbose: u8) -> Result<(Settings, Option<logging::LogGuard>), Error> {
    let settings = load_settings(home)?;
    let log = start_logging(home, verbose, &settings);
    recover_interrupted(home, &settings);
    Ok((settings, log))
}

/// Records the runs whose process died mid-run, and says so on stderr.
fn recover_interrupted(home: &Home, settings: &Settings) {
    let records = crate::engine::Records::new(home, &settings.store);
    for id in crate::engine::interrupted::recover(&records) {
        eprintln!(
            "fleetdeck: run {id} was interrupted (its fleetdeck process died mid-run); recorded \
             in history as interrupted: fleetdeck history show {id}"
        );
    }
}

fn load_settings(home: &Home) -> Result<Settings, Error> {
    Settings::load(&home.config_file()).map_err(|d| Error::Config(vec![d]))
}

/// JSON lines to stderr (a systemd unit's journal), best effort like the file logs.
fn start_stderr_logging(verbose: u8, settings: &Settings) -> Option<logging::LogGuard> {
    let env = std::env::var("FLEETDECK_LOG").ok();
    let started =
        logging::filter(env.as_deref(), verbose, settings.log.level).and_then(logging::init_stderr);
    match started {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("fleetdeck: warning: logging is off: {e}");
            None
        }
    }
}

/// Logging is best effort: a read-only home must not stop an engineer from running a command.
fn start_logging(home: &Home, verbose: u8, settings: &Settings) -> Option<logging::LogGuard> {
    let env = std::env::var("FLEETDECK_LOG").ok();
    let started = logging::filter(env.as_deref(), verbose, settings.log.level)
        .and_then(|filter| logging::init(home, filter));
    match started {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("fleetdeck: warning: logging is off: {e}");
            None
        }
    }
}
