//! `fleetdeck paths`: where every file lives (like `k9s info`).

use std::process::ExitCode;

use crate::cli::PathsArgs;
use crate::config::Home;
use crate::diag::Error;
use crate::ui::printers::paths::{PathRow, print_paths};

pub fn run(home: &Home, args: &PathsArgs) -> Result<ExitCode, Error> {
    // `fleetdeck agent init|run` default to this folder; `--dir` puts an agent elsewhere.
    let agent = home.agent_dir();
    let rows = vec![
        PathRow::new("config", "settings", home.config_file()),
        PathRow::new("hosts", "inventory", home.hosts_file()),
        PathRow::new("actions", "action templates (*.toml)", home.actions_dir()),
        PathRow::new(
            "runbooks",
            "incident hints and actions to prefill",
            home.runbooks_file(),
        ),
        PathRow::new("themes", "user themes (*.toml)", home.themes_dir()),
        PathRow::new("keymaps", "user keymaps (*.toml)", home.keymaps_dir()),
        PathRow::new("history", "runs, newest last (JSONL)", home.history_file()),
        PathRow::new("audit", "who did what (JSONL)", home.audit_file()),
        PathRow::new("incidents", "incident book (JSONL)", home.incidents_file()),
        PathRow::new("runs", "output of each run (JSONL)", home.runs_dir()),
        PathRow::new("metrics", "metric samples (JSONL)", home.metrics_dir()),
        PathRow::new(
            "known_hosts",
            "host keys fleetdeck accepted",
            home.known_hosts_file(),
        ),
        PathRow::new(
            "locks",
            "host locks this machine holds (JSON per host)",
            home.state_dir.join("locks"),
        ),
        PathRow::new(
            "breakers",
            "hosts skipped after connection failures",
            crate::engine::launch::breaker_file(home),
        ),
        PathRow::new("logs", "daily JSON logs", home.log_dir.clone()),
        PathRow::new(
            "agent",
            "`fleetdeck agent` folder (certificate, key)",
            agent.clone(),
        ),
        PathRow::new(
            "agent_config",
            "agent name, policy, watchers",
            agent.join("agent.toml"),
        ),
        PathRow::new(
            "agent_tokens",
            "token hashes the agent accepts",
            agent.join("tokens.toml"),
        ),
        PathRow::new(
            "agent_journal",
            "agent's alert journal (JSONL)",
            agent.join("journal"),
        ),
    ];
    print_paths(home, &rows, args.json)?;
    Ok(ExitCode::SUCCESS)
}
