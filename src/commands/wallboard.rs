//! `fleetdeck wallboard`: resolves the hosts (`-t`, no metric terms: nothing is sampled to
//! choose them) and the theme before the screen is taken, opens a standalone `FleetReader`
//! (agents over read tokens, SSH hosts through the fixed probe, history.jsonl and
//! incidents.jsonl followed) and runs the wallboard on it, with the status.json writer of
//! `fleetdeck status` on the same reader. No `FleetSession` is made: nothing in this process
//! can run, cancel or lock anything, and status.json is the only file it writes.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use super::hosts::resolve_targets;
use crate::cli::WallboardArgs;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::FleetReader;
use crate::engine::launch::SshFlags;
use crate::inventory::load;
use crate::inventory::selector::Selector;
use crate::ui::app::event_loop::load_theme;
use crate::ui::app::terminal::TerminalGuard;
use crate::ui::theme::Graphics;
use crate::ui::wallboard::{Wallboard, event_loop};

pub fn run(home: &Home, settings: &Settings, args: &WallboardArgs) -> Result<ExitCode, Error> {
    // Metric terms would need a sample taken through an exec-capable session to choose hosts.
    for text in &args.targets {
        if Selector::parse(text).is_ok_and(|s| s.has_metric_terms()) {
            return Err(Error::Invalid(format!(
                "invalid selector `{text}`: the wallboard does not take metric terms (cpu>90, \
                 stale): it shows a fixed set of hosts, worst first"
            )));
        }
    }
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let hosts = resolve_targets(&inventory, &args.targets)?;
    // After the selector and hosts.toml: their errors are worth more than this one.
    if !std::io::stdout().is_terminal() {
        return Err(Error::Invalid(
            "the wallboard needs a terminal, and stdout is not one; for a status line use \
             `fleetdeck incidents` or `fleetdeck history`"
                .to_string(),
        ));
    }
    let theme = load_theme(home, &settings.ui.theme).map_err(|e| {
        Error::Invalid(format!(
            "{e}\nfix the theme or set [ui] theme in {} to a built-in one (dark, light, high-contrast)",
            home.config_file().display()
        ))
    })?;
    let mut wb = Wallboard::new(
        args.pages.0.clone(),
        args.rotate,
        args.lock,
        Arc::from(hosts.clone()),
        theme,
        SystemTime::now(),
    );
    wb.graphics = Graphics::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    let ssh = SshFlags {
        ssh_config: args.ssh_config.clone(),
        known_hosts: args.known_hosts.clone(),
        accept_new: false,
    };
    let reader = {
        let _entered = runtime.enter();
        FleetReader::open_with_ssh(home, settings, hosts, &ssh)
    };
    // status.json for `fleetdeck status` (tmux's status bar): the one file a wallboard writes.
    let stop = tokio_util::sync::CancellationToken::new();
    let status = {
        let _entered = runtime.enter();
        crate::engine::status::spawn_status_writer(
            reader.clone(),
            home.status_file(),
            crate::engine::status::WriterKind::Wallboard,
            stop.clone(),
        )
    };
    let mut guard = TerminalGuard::enter();
    let result = runtime.block_on(event_loop::run(
        &mut guard.terminal,
        &mut wb,
        reader,
        settings.ui.max_fps,
    ));
    drop(guard);
    stop.cancel();
    status.abort();
    // The reader's links close with the runtime's tasks.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result.map_err(|e| Error::Invalid(format!("the wallboard's terminal failed: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
