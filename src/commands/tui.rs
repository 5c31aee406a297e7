//! `fleetdeck tui` (and bare `fleetdeck`): loads the inventory, keymap and theme (every error
//! reported before the screen is taken over), then runs the console until the user quits, and
//! closes its pooled connections after giving the terminal back.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::launch::SshFlags;
use crate::engine::session::passphrase::Passphrases;
use crate::engine::{FleetSession, HostState, Records, RunResult, SessionOptions};
use crate::inventory::load;
use crate::store::read_newest_as;
use crate::ui::app::event_loop::{self, load_theme};
use crate::ui::app::model::Model;
use crate::ui::app::terminal::TerminalGuard;
use crate::ui::{keymap, theme};

/// How long quitting waits for the SSH servers to take their goodbyes.
const DISCONNECT_GRACE: Duration = Duration::from_secs(3);
/// A pooled connection unused this long is closed (it costs the host a session and us a file
/// descriptor); the next run reconnects.
pub const IDLE_CLOSE_AFTER: Duration = Duration::from_secs(5 * 60);

/// How the console is opened (`fleetdeck tui` flags; `fleetdeck demo` passes its own).
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// `--ssh-config`, `--known-hosts`, `--accept-new`, as `fleetdeck run` takes them.
    pub ssh: SshFlags,
}

pub fn run(home: &Home, settings: &Settings, options: ConsoleOptions) -> Result<ExitCode, Error> {
    // Full-screen drawing into a pipe or file would only garble it.
    if !std::io::stdout().is_terminal() {
        return Err(Error::Invalid(
            "the console needs a terminal, and stdout is not one; for scripts use \
             `fleetdeck run`, `fleetdeck hosts` or `fleetdeck history` (`fleetdeck --help` \
             lists every command)"
                .to_string(),
        ));
    }
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let (keymap, _warnings) = keymap::load(home, &settings.ui.keymap).map_err(Error::Config)?;
    let theme = load_theme(home, &settings.ui.theme).map_err(|e| {
        Error::Invalid(format!(
            "{e}\nfix the theme or set [ui] theme in {} to a built-in one (dark, light, high-contrast)",
            home.config_file().display()
        ))
    })?;
    let hosts = inventory.hosts().to_vec();
    let mut model = Model::new(inventory, keymap, theme, theme::available(home));
    model.protected_envs = settings.safety.protected_envs.clone();
    // Charts in braille, half blocks or ASCII, as the locale and TERM allow.
    model.shell.graphics = theme::Graphics::from_env();
    // Before the screen is taken: a broken template is named in the Actions view, never fatal.
    let (catalog, problems) = crate::action::Catalog::load_partial(home);
    if !problems.is_empty() {
        model.shell.error(format!(
            "{} problem(s) in action files; the Actions view (6) lists them",
            problems.len()
        ));
    }
    model.actions.settings = settings.clone();
    model
        .actions
        .set_catalog(catalog, problems, home.actions_dir());
    match last_results(home, settings) {
        Ok(last) => model.fleet.last_result = last,
        // The console is still useful without the last results: say so and go on.
        Err(e) => model.shell.error(e),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    // One session for the console's life: pooled connections and agent links outlive runs.
    let session = {
        let _entered = runtime.enter();
        FleetSession::open_tolerant(
            home,
            settings,
            SessionOptions {
                ssh: options.ssh,
                passphrases: Passphrases::Requests,
                idle_close_after: Some(IDLE_CLOSE_AFTER),
                // Heartbeats and link states show before any run.
                watch_agents: true,
                // The Fleet table's columns and the Metrics view.
                collect_metrics: true,
                // Alertmanager and thresholds into the incident book while it runs.
                record_incidents: true,
                ..SessionOptions::new(hosts)
            },
        )
    };
    // `[metrics] listen`: /metrics from a reader (it cannot run anything), for the console's life.
    let serving = tokio_util::sync::CancellationToken::new();
    if let Some(addr) = settings.metrics.listen() {
        match runtime.block_on(crate::engine::prom_listen::listen(
            addr,
            session.reader(),
            serving.clone(),
        )) {
            Ok(l) => model
                .shell
                .info(format!("serving /metrics on http://{}", l.addr)),
            Err(e) => model.shell.error(e),
        }
    }
    // status.json for `fleetdeck status` (tmux's status bar), for the console's life.
    let status = {
        let _entered = runtime.enter();
        crate::engine::status::spawn_status_writer(
            session.reader(),
            home.status_file(),
            crate::engine::status::WriterKind::Console,
            serving.clone(),
        )
    };
    let mut guard = TerminalGuard::enter();
    let result = runtime.block_on(event_loop::run(
        &mut guard.terminal,
        &mut model,
        home,
        settings,
        &session,
    ));
    drop(guard);
    serving.cancel();
    status.abort();
    // After the terminal is back: the goodbyes may take a moment on slow links.
    runtime.block_on(session.shutdown(DISCONNECT_GRACE));
    result.map_err(|e| Error::Invalid(format!("the console's terminal failed: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// How many recent runs are read for the Fleet view's "last run" column: enough to cover a
/// fleet's recent work, bounded so start-up stays quick on a long history.
const RECENT_RUNS: usize = 200;

/// Each host's state in the newest of the recent runs that included it.
fn last_results(home: &Home, settings: &Settings) -> Result<HashMap<String, HostState>, String> {
    let path = Records::new(home, &settings.store).history_path();
    let report = read_newest_as::<RunResult>(&path, RECENT_RUNS)
        .map_err(|e| format!("last results unavailable: cannot read history: {e}"))?;
    let mut last = HashMap::new();
    // Newest first: the first state seen for a host is its latest.
    for (_, run) in report.records {
        for host in run.hosts {
            last.entry(host.host).or_insert(host.state);
        }
    }
    Ok(last)
}
