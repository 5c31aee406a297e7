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
mod tui;
mod wallboard;

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
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            hosts::run(&home, &settings, &args)
        }
        Command::Metrics(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            metrics::run(&home, &settings, &args)
        }
        Command::Run(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            // `run --action NAME` is an action's run; `run -- COMMAND` an ad-hoc one.
            if args.action.is_some() {
                actions::run_action(&home, &settings, &args)
            } else {
                run::run(&home, &settings, &args)
            }
        }
        Command::Actions(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            actions::run(&home, &args)
        }
        Command::Locks(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            locks::run(&home, &settings, &args)
        }
        Command::History(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            history::run(&home, &settings, &args)
        }
        Command::Incidents(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            incidents::run(&home, &settings, &args)
        }
        Command::Export(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            export::run(&home, &settings, &args)
        }
        Command::Stats(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            stats::run(&home, &settings, &args)
        }
        Command::Wallboard(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            wallboard::run(&home, &settings, &args)
        }
        Command::Agent(cmd) => agent::run(&home, cli.verbose, &cmd),
        // Its own temporary home, whatever --home says.
        Command::Demo(args) => demo::run(&args, cli.verbose),
        Command::Tui(args) => {
            let settings = load_settings(&home)?;
            let _log = start_logging(&home, cli.verbose, &settings);
            let options = tui::ConsoleOptions {
                ssh: args.ssh_flags(),
            };
            tui::run(&home, &settings, options)
        }
    }
}

fn load_settings(home: &Home) -> Result<Settings, Error> {
    Settings::load(&home.config_file()).map_err(|d| Error::Config(vec![d]))
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
