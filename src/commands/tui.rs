//! `fleetdeck tui`: loads the inventory, keymap and theme (every error reported before the
//! screen is taken over), then runs the console until the user quits.

use std::collections::HashMap;
use std::process::ExitCode;

use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::{HostState, Records, RunResult};
use crate::inventory::load;
use crate::store::read_newest_as;
use crate::ui::app::event_loop::{self, load_theme};
use crate::ui::app::model::{Message, Model};
use crate::ui::app::terminal::TerminalGuard;
use crate::ui::{keymap, theme};

pub fn run(home: &Home, settings: &Settings) -> Result<ExitCode, Error> {
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let (keymap, _warnings) = keymap::load(home, &settings.ui.keymap).map_err(Error::Config)?;
    let theme = load_theme(home, &settings.ui.theme).map_err(|e| {
        Error::Invalid(format!(
            "{e}\nfix the theme or set [ui] theme in {} to a built-in one (dark, light, high-contrast)",
            home.config_file().display()
        ))
    })?;
    let mut model = Model::new(inventory, keymap, theme, theme::available(home));
    model.protected_envs = settings.safety.protected_envs.clone();
    match last_results(home, settings) {
        Ok(last) => model.last_result = last,
        // The console is still useful without the last results: say so and go on.
        Err(e) => model.message = Some(Message::Error(e)),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    let mut guard = TerminalGuard::enter();
    let result = runtime.block_on(event_loop::run(
        &mut guard.terminal,
        &mut model,
        home,
        settings,
    ));
    drop(guard);
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
