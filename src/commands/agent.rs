//! `fleetdeck agent init` and `fleetdeck agent run`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::agent::init::{InitOptions, init};
use crate::agent::server::{self, RunOptions};
use crate::cli::{AgentCommand, AgentInitArgs, AgentRunArgs};
use crate::config::Home;
use crate::diag::Error;

pub fn run(home: &Home, verbose: u8, cmd: &AgentCommand) -> Result<ExitCode, Error> {
    match cmd {
        AgentCommand::Init(args) => run_init(home, args),
        AgentCommand::Run(args) => run_server(home, verbose, args),
    }
}

fn dir_or_default(home: &Home, dir: Option<&PathBuf>) -> PathBuf {
    dir.cloned().unwrap_or_else(|| home.agent_dir())
}

fn run_init(home: &Home, args: &AgentInitArgs) -> Result<ExitCode, Error> {
    let report = init(&InitOptions {
        dir: dir_or_default(home, args.dir.as_ref()),
        name: args.name.clone(),
        sans: args.sans.clone(),
        allow: args.allow.clone(),
        force: args.force,
    })
    .map_err(Error::Invalid)?;
    // The tokens themselves are never printed: they are in the two files, for copying.
    println!("agent folder: {}", report.dir.display());
    println!("certificate fingerprint: {}", report.fingerprint);
    println!("tokens (copy to the console's machine, keep private):");
    println!("  read: {}", report.read_token_file.display());
    println!("  exec: {}", report.exec_token_file.display());
    println!();
    println!("Paste into the console's hosts.toml (fix the URL's host and port, and token_file");
    println!("to where you copied the token):");
    println!();
    print!("{}", report.snippet);
    println!();
    println!(
        "Then start the agent: fleetdeck agent run --dir {} --listen 0.0.0.0:{}",
        report.dir.display(),
        crate::agent::init::DEFAULT_PORT
    );
    Ok(ExitCode::SUCCESS)
}

fn run_server(home: &Home, verbose: u8, args: &AgentRunArgs) -> Result<ExitCode, Error> {
    let opts = RunOptions {
        dir: dir_or_default(home, args.dir.as_ref()),
        listen: args.listen,
        insecure_plaintext: args.insecure_plaintext,
        ready_file: args.ready_file.clone(),
    };
    // Configuration problems (policy, tokens, certificate) stop it before it listens: exit 2.
    let prepared = server::prepare(&opts).map_err(Error::Invalid)?;
    let settings = super::load_settings(home).unwrap_or_default();
    let _log = super::start_logging(home, verbose, &settings);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("fleetdeck-agent")
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(server::serve(opts, prepared))
        .map_err(Error::Invalid)?;
    // Jobs' blocking waits end with their killed processes; do not wait on stragglers.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(ExitCode::SUCCESS)
}
