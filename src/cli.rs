//! Command-line definitions (clap). Dispatch lives in `commands`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::config::units::parse_duration;
use crate::engine::Limit;

/// A terminal operations console for on-call engineers: run commands across a fleet over SSH
/// or fleetdeck's agent, watch the output, keep an audit trail. Without a command, opens the
/// console (`fleetdeck tui`).
#[derive(Debug, Parser)]
#[command(name = "fleetdeck", version, about)]
pub struct Cli {
    /// Keep config, data, state and logs under this one folder instead of the XDG folders.
    #[arg(long, global = true, env = "FLEETDECK_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// More detail in the log files (-v debug, -vv trace). FLEETDECK_LOG (a tracing filter)
    /// overrides it; nothing is ever logged to the terminal (`fleetdeck watch` logs to stderr).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show where every file fleetdeck reads or writes lives.
    Paths(PathsArgs),
    /// List the hosts a selector resolves to, or import an inventory.
    Hosts(HostsArgs),
    /// Sample the selected hosts now (agent heartbeat, SSH probe of /proc, or node_exporter)
    /// and print CPU, memory, fullest disk, load and network; exit 3 if some host could not be
    /// sampled.
    Metrics(MetricsArgs),
    /// Run a shell command on the hosts a selector picks, with live output and a record.
    Run(RunArgs),
    /// Past runs: list them, show one with its output, or rerun it where it failed.
    History(HistoryArgs),
    /// The incident book (agent alerts and other sources): list open and acknowledged
    /// incidents newest first (after collecting agents' undelivered alerts for a few
    /// seconds), show one with its timeline, acknowledge, resolve or add a note.
    Incidents(IncidentsArgs),
    /// Action templates (actions/*.toml): list them, or show one's parameters and command.
    Actions(ActionsArgs),
    /// Write history as one row per host per run (CSV or a JSON array), oldest first.
    Export(ExportArgs),
    /// Run statistics from history, per command or action: runs, host executions, success
    /// rate, average and p95 duration, failures by kind; as a table, JSON or Prometheus text.
    Stats(StatsArgs),
    /// Host locks: list this console's, take hosts for manual work, release (or break) them.
    Locks(LocksArgs),
    /// The console's collection without a screen, for a server or a systemd unit: samples
    /// metrics, follows agents' alerts, Alertmanager and `[[checks]]`, writes incidents and
    /// notifications, serves `[metrics] listen`; logs JSON to stderr; one per home (a second
    /// one names the holder and exits 1); SIGTERM or SIGINT stops it (exit 0).
    Watch(WatchArgs),
    /// One line from the newest status a console, watcher or wallboard wrote in this home
    /// (`✖2 ▲5 · 498/500 up · 1 running`), for tmux's status-right; never contacts a host.
    Status(StatusArgs),
    /// Open the full-screen console on the inventory (fleet view, filter, marks, `:` commands);
    /// also what `fleetdeck` alone does.
    Tui(TuiArgs),
    /// A read-only team screen for a tmux pane: fleet, metrics, incidents and runs pages that
    /// rotate; agents are read with read tokens only and nothing can be run from it.
    Wallboard(WallboardArgs),
    /// Start N local agents on 127.0.0.1 (temporary home, TLS, generated inventory and sample
    /// actions) and open the console on them; everything is stopped and removed on exit.
    Demo(DemoArgs),
    /// The agent for target hosts: `agent init` makes its certificate, tokens and policy,
    /// `agent run --listen ADDR` serves consoles over WebSocket/TLS.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Validate every configuration file; print each problem as file:line:column: message.
    Check,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `fleetdeck demo`: how big a demo fleet.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// How many agents to start (1..=64).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub hosts: u32,

    /// Do not open the console: print the temporary home and each agent (name, pid, url),
    /// then keep them running until stdin closes or a signal comes (for scripts and tests).
    #[arg(long)]
    pub print_home: bool,
}

/// `fleetdeck wallboard`: which hosts and pages, how fast they rotate, whether `q` quits.
#[derive(Debug, Args)]
pub struct WallboardArgs {
    /// Which hosts (e.g. 'env:prod', 'web[01-20]'); several -t are joined as a union.
    /// Default: all hosts in hosts.toml. Metric terms (cpu>90, stale) are not accepted: the
    /// fleet page lists the worst hosts first anyway.
    #[arg(short = 't', long = "target", value_name = "SELECTOR")]
    pub targets: Vec<String>,

    /// The pages to show, in this order (fleet, metrics, incidents, runs).
    #[arg(long, value_name = "PAGE,…", default_value = "fleet,metrics,incidents,runs",
          value_parser = crate::ui::wallboard::Pages::parse)]
    pub pages: crate::ui::wallboard::Pages,

    /// How long each page stays before the next (0s: no rotation).
    #[arg(long, value_name = "DUR", default_value = "20s", value_parser = parse_duration)]
    pub rotate: Duration,

    /// `q` does not quit: only typing `unlock` then enter does (for a shared screen).
    #[arg(long)]
    pub lock: bool,

    /// For SSH hosts' probe: the ssh config and known_hosts files (never --accept-new).
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// Also trust the host keys in this known_hosts file (repeatable).
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,
}

/// `fleetdeck tui`: the SSH client choices `fleetdeck run` has.
#[derive(Debug, Clone, Default, Args)]
pub struct TuiArgs {
    /// Use this OpenSSH client config instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// Also trust the host keys in this known_hosts file (repeatable).
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,

    /// Trust and record the key of a host seen for the first time (a changed key is still
    /// refused).
    #[arg(long)]
    pub accept_new: bool,
}

impl TuiArgs {
    pub fn ssh_flags(&self) -> crate::engine::launch::SshFlags {
        crate::engine::launch::SshFlags {
            ssh_config: self.ssh_config.clone(),
            known_hosts: self.known_hosts.clone(),
            accept_new: self.accept_new,
        }
    }
}

/// `fleetdeck watch`: the console's SSH choices, and where logs go.
#[derive(Debug, Clone, Default, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub ssh: TuiArgs,

    /// Log into the daily files of the logs folder (`fleetdeck paths`) instead of stderr.
    #[arg(long)]
    pub log_file: bool,
}

/// `fleetdeck status`.
#[derive(Debug, Clone, Default, Args)]
#[command(
    after_help = "Reads only status.json in the data folder (written every few seconds by a running \
        console, `fleetdeck watch` or wallboard). Exit 0 whenever a line is printed, also for \
        `no status` and `stale`; 1 when the file cannot be read. Example for ~/.tmux.conf: \
        set -g status-right '#(fleetdeck status --tmux)'"
)]
pub struct StatusArgs {
    /// tmux colour markup (`#[fg=red]…#[default]`) for status-left/status-right.
    #[arg(long, conflicts_with = "json")]
    pub tmux: bool,

    /// The file's object with `state` (live, stale) and `age_s`; `{"state":"none"}` without one.
    #[arg(long)]
    pub json: bool,
}

/// `fleetdeck agent …` (docs/agent.md).
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Create the agent folder: self-signed certificate and key, agent.toml with the default
    /// (conservative) policy, a read and an exec token (stored hashed; the tokens themselves
    /// are written once to read.token and exec.token). Prints the hosts.toml entry to paste.
    Init(AgentInitArgs),
    /// Serve consoles: WebSocket over TLS (plain only with --insecure-plaintext, loopback only).
    Run(AgentRunArgs),
}

#[derive(Debug, Args)]
pub struct AgentInitArgs {
    /// The agent folder (default: `agent` under fleetdeck's data folder; see `fleetdeck paths`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The agent's name in consoles and in the printed hosts.toml entry (default: host name).
    #[arg(long)]
    pub name: Option<String>,
    /// A DNS name or IP address for the certificate (repeatable); the first one is the
    /// printed URL's host. The name, localhost, 127.0.0.1 and ::1 are always included.
    #[arg(long = "san", value_name = "NAME_OR_IP")]
    pub sans: Vec<String>,
    /// Add a glob to the policy's allowlist of programs (repeatable), e.g. /bin/sh.
    #[arg(long = "allow", value_name = "GLOB")]
    pub allow: Vec<String>,
    /// Replace an existing agent folder's certificate, tokens and agent.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AgentRunArgs {
    /// The agent folder `agent init` made (default: `agent` under fleetdeck's data folder).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Address and port to listen on, e.g. 0.0.0.0:7443 or 127.0.0.1:0 (any free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Plain WebSocket without TLS, for loopback demos only (refused on other addresses).
    #[arg(long)]
    pub insecure_plaintext: bool,
    /// Once listening, write the URL (`wss://127.0.0.1:PORT`) to this file.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
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

    /// For selectors with metric terms (`cpu>90`), which are evaluated on one fresh sample.
    #[command(flatten)]
    pub ssh: TuiArgs,

    #[command(subcommand)]
    pub command: Option<HostsCommand>,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Which hosts (e.g. 'env:prod&disk>90'); several -t are joined as a union. Default: all
    /// hosts in hosts.toml.
    #[arg(short = 't', long = "target", value_name = "SELECTOR")]
    pub targets: Vec<String>,

    /// One JSON object per host per line: host, source, ts, cpu_pct, mem_pct, disk_pct,
    /// load1, net_rx_bps, net_tx_bps, or error.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub ssh: TuiArgs,
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

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Which hosts (e.g. 'web[01-20]&env:prod!web07'); several -t are joined as a union.
    #[arg(short = 't', long = "target", value_name = "SELECTOR", required = true)]
    pub targets: Vec<String>,

    #[command(flatten)]
    pub options: RunOptions,

    /// The command, after `--`; its words are joined by spaces and run by the remote shell
    /// (like ssh): `fleetdeck run -t web01 -- 'df -h /var | tail -1'`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    /// Run this action template (actions/NAME.toml) instead of a command.
    #[arg(long, value_name = "NAME")]
    pub action: Option<String>,

    /// A parameter of the action (repeatable); a secret one as `name=env:VAR` or
    /// `name=file:PATH`, or left out to be asked for it.
    #[arg(
        short = 'p',
        long = "param",
        value_name = "KEY=VALUE",
        requires = "action"
    )]
    pub params: Vec<String>,

    /// The action's queue priority: high, normal or low (default: the template's).
    #[arg(long, value_name = "PRIORITY", value_parser = crate::engine::types::Priority::parse, requires = "action")]
    pub priority: Option<crate::engine::types::Priority>,

    /// With --yes, confirms an action whose template asks for its name to be typed.
    #[arg(long, value_name = "NAME", requires = "action")]
    pub confirm: Option<String>,
}

/// `fleetdeck actions`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ActionsArgs {
    /// One JSON object per action (name, category, description, file).
    #[arg(long)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<ActionsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// One action: parameters, command template, agent operation, guards, where it applies.
    Show {
        /// The action's name.
        name: String,
    },
}

/// How a run behaves; shared by `run` and `history rerun`. Unset values come from config.toml.
#[derive(Debug, Clone, Default, Args)]
#[command(group(ArgGroup::new("output").args(["stream", "gather", "json"]).multiple(false)))]
pub struct RunOptions {
    /// Hosts worked on at once (default: [run] fanout).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub fanout: Option<u32>,

    /// Longest a command may run per host; 0s = no limit (default: [run] command_timeout).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// TCP connect + handshake + auth per host (default: [run] connect_timeout).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// Longest silence before a command counts as hung; 0s = off (default: [run] idle_timeout).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,

    /// Work in batches of N hosts or P% of them; a batch starts when the previous one ended.
    #[arg(long, value_name = "N|P%", value_parser = Limit::parse)]
    pub batch: Option<Limit>,

    /// After N (or P%) hosts failed, skip the hosts not started yet.
    #[arg(long, value_name = "N|P%", value_parser = Limit::parse)]
    pub max_fail: Option<Limit>,

    /// Print output as it arrives, `host: line`, stderr lines as `host!: line` (the default).
    #[arg(long)]
    pub stream: bool,

    /// Print output after the run, hosts with identical output once under their node set.
    #[arg(long)]
    pub gather: bool,

    /// Print one JSON event per line (schema in README.md, "JSON events").
    #[arg(long)]
    pub json: bool,

    /// Show the hosts and the exact command per host, run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation in protected environments ([safety] protected_envs).
    #[arg(long)]
    pub yes: bool,

    /// Use this OpenSSH client config instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// Also trust the host keys in this known_hosts file (repeatable).
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,

    /// Trust and record the key of a host seen for the first time (a changed key is still
    /// refused).
    #[arg(long)]
    pub accept_new: bool,
}

/// The three output modes of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Stream,
    Gather,
    Json,
}

impl RunOptions {
    pub fn output_mode(&self) -> OutputMode {
        if self.json {
            OutputMode::Json
        } else if self.gather {
            OutputMode::Gather
        } else {
            OutputMode::Stream
        }
    }
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct IncidentsArgs {
    /// Resolved incidents too (those still in incidents.jsonl and its rotated files).
    #[arg(long)]
    pub all: bool,

    /// One JSON object per incident per line: id, state, severity, source, title, hosts,
    /// count, first_seen, last_seen, labels.
    #[arg(long)]
    pub json: bool,

    /// Read only the book: do not contact the agents for alerts not yet delivered.
    #[arg(long)]
    pub offline: bool,

    #[command(subcommand)]
    pub command: Option<IncidentsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// One incident with its labels, annotations and timeline.
    Show {
        /// The incident id, or a unique prefix of it.
        id: String,
        /// One JSON object: the incident and its timeline.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an incident (someone is on it); audited.
    Ack {
        /// The incident id, or a unique prefix of it.
        id: String,
        /// Why, or what is being done.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Resolve an incident by hand; audited. A new firing from its source reopens it.
    Resolve {
        /// The incident id, or a unique prefix of it.
        id: String,
        /// What fixed it.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Add a note to an incident's timeline; audited.
    Note {
        /// The incident id, or a unique prefix of it.
        id: String,
        /// The note.
        text: String,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    /// One JSON object (a run) per line, newest first.
    #[arg(long)]
    pub json: bool,

    /// How many runs to list, newest first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,

    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// One run: per-host results and the recorded output, grouped per host.
    Show {
        /// The run id, or a unique prefix of it.
        id: String,
        /// One JSON object: the run and its output records.
        #[arg(long)]
        json: bool,
    },
    /// Run a past run's command again on the hosts that did not end ok (a run of an action
    /// is planned again from its template, with its recorded values).
    Rerun(RerunArgs),
}

#[derive(Debug, Args)]
pub struct RerunArgs {
    /// The run id, or a unique prefix of it.
    pub id: String,

    /// Only the hosts that did not end ok (failed, timeout, error, unreachable, cancelled,
    /// skipped).
    #[arg(long, required = true)]
    pub failed: bool,

    #[command(flatten)]
    pub options: RunOptions,

    /// For a run of an action: a parameter (repeatable). Secrets are never recorded, so give
    /// them again as `name=env:VAR` or `name=file:PATH` (or be asked); a plain value here
    /// replaces the recorded one.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// For a run of an action whose template asks for its name to be typed: with --yes,
    /// confirms it.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}

/// `fleetdeck export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv (a header row, then one row per host per run) or json (an array of those rows).
    #[arg(long, value_enum)]
    pub format: ExportFormat,

    /// Only runs started within this long before now (e.g. 24h, 7d).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub since: Option<Duration>,

    /// Write to this file (whole or not at all) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `fleetdeck stats`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("format").args(["json", "prometheus"]).multiple(false)),
    after_help = "Counts come from history.jsonl and its rotated files (runs that ended). \
        A run of an action is grouped under the action's name, any other run under its \
        command. A host execution is one host of one run, skipped and cancelled hosts \
        included; the success rate is hosts ok / host executions. Durations are from a run's \
        start to its end; p95 is the nearest-rank 95th percentile.\n\n\
        Running and queued runs: a queue lives inside the process that runs it, so this \
        command cannot see another process's queue and reports none. It reports as \
        `unfinished` the runs audit.jsonl says started with no end in audit or history: \
        running in another fleetdeck process now, or cut off by a crash (the records cannot \
        tell which)."
)]
pub struct StatsArgs {
    /// Only runs started within this long before now (e.g. 24h, 7d, 1h30m).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub since: Option<Duration>,

    /// One JSON object (groups, totals, unfinished runs; shape in README.md, "Run statistics").
    #[arg(long)]
    pub json: bool,

    /// Prometheus text exposition format, e.g. for node_exporter's textfile collector
    /// (counters over all of history unless --since is given).
    #[arg(long)]
    pub prometheus: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// `fleetdeck locks` (README, "Locks").
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LocksArgs {
    /// One JSON object per lock file.
    #[arg(long)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<LocksCommand>,
}

#[derive(Debug, Subcommand)]
pub enum LocksCommand {
    /// Lock hosts for manual work (here and on each host); exit 1 if any host is held by
    /// someone else.
    Take(LockTakeArgs),
    /// Release the locks this console holds on the hosts, or with --force any lock (audited).
    Release(LockReleaseArgs),
}

/// How `locks take|release` reach the hosts.
#[derive(Debug, Clone, Default, Args)]
pub struct LockReachArgs {
    /// The hosts (repeatable; the union).
    #[arg(short = 't', long = "target", value_name = "SELECTOR", required = true)]
    pub targets: Vec<String>,

    /// TCP connect + handshake + auth per host (default: [run] connect_timeout).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// Use this OpenSSH client config instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,

    /// Also trust the host keys in this known_hosts file (repeatable).
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,

    /// Trust and record the key of a host seen for the first time.
    #[arg(long)]
    pub accept_new: bool,
}

#[derive(Debug, Args)]
pub struct LockTakeArgs {
    #[command(flatten)]
    pub reach: LockReachArgs,

    /// How long the locks last unless released (default: [locks] ttl).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub ttl: Option<Duration>,

    /// Why, shown to whoever is refused.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct LockReleaseArgs {
    #[command(flatten)]
    pub reach: LockReachArgs,

    /// Break the lock whoever holds it (recorded in audit.jsonl).
    #[arg(long)]
    pub force: bool,
}
