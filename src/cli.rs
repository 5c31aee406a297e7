//! Command-line definitions (clap). Dispatch lives in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A terminal operations console for on-call engineers: run commands across a fleet over SSH
/// or fleetdeck's agent, watch the output, keep an audit trail.
#[derive(Debug, Parser)]
#[command(name = "fleetdeck", version, about, arg_required_else_help = true)]
pub struct Cli {
    /// Keep config, data, state and logs under this one folder instead of the XDG folders.
    #[arg(long, global = true, env = "FLEETDECK_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// More detail in the log files (-v debug, -vv trace). FLEETDECK_LOG (a tracing filter)
    /// overrides it; nothing is ever logged to the terminal.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show where every file fleetdeck reads or writes lives.
    Paths(PathsArgs),
    /// List the hosts a selector resolves to, or import an inventory.
    Hosts(HostsArgs),
    /// Validate every configuration file; print each problem as file:line:column: message.
    Check,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HostsArgs {
    /// Which hosts (e.g. 'web[01-20]&env:prod!web07'); several -t are joined as a union.
    /// Default: all hosts in hosts.toml.
    #[arg(short = 't', long = "target", value_name = "SELECTOR")]
    pub targets: Vec<String>,

    /// One JSON object (hosts, folded set, count) instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<HostsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Print hosts.toml text converted from an ssh config or an Ansible inventory.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ImportArgs {
    /// An OpenSSH client config (concrete Host entries become hosts).
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// An Ansible inventory, INI or YAML.
    #[arg(long, value_name = "FILE")]
    pub ansible: Option<PathBuf>,
}
