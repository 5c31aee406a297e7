//! `[[checks]]` run while a console holds a session (`FleetSession::start_checks`): one task
//! per check (runner.rs), HTTP probes (http.rs) or action runs through the session's queue
//! (action.rs), each (check, host) behind a circuit breaker, failures and passes into the
//! incident book as `check` observations (streak.rs: one incident per check and host), and
//! the latest state of everything on a `CheckBoard` (status.rs) that front ends read through
//! `FleetSession::checks`. Nothing here touches a terminal.

mod action;
mod http;
mod runner;
pub mod status;
mod streak;

use crate::config::{Home, Settings};
use crate::engine::breaker::Breaker;
use crate::incident::check::{Check, Probe};
use crate::inventory::selector::Selector;
use crate::inventory::{Host, Inventory};

pub(crate) use action::Submit;
pub use http::MAX_BODY;
pub use status::{CheckBoard, CheckStatus, HostCheck, HostResult};
pub use streak::observation;

/// Starts a runner per check over `hosts` (the session's inventory). A check whose target
/// cannot be resolved (an unknown group) or whose client cannot be built is logged and put
/// on the board with that problem; the others run.
pub(crate) fn start(
    home: &Home,
    settings: &Settings,
    hosts: &[Host],
    submit: &Submit,
    shared: &Shared,
) -> Vec<tokio::task::JoinHandle<()>> {
    let inventory = Inventory::new(hosts.to_vec());
    let mut tasks = Vec::new();
    for check in &settings.checks {
        match prepare(check, home, settings, &inventory, submit) {
            Ok((targets, prober)) => tasks.push(runner::spawn(
                check.clone(),
                targets,
                prober,
                Breaker::new(&settings.breaker),
                shared.clone(),
            )),
            Err(problem) => {
                tracing::warn!(check = %check.name, error = %problem, "check not started");
                shared.board.set(
                    &check.name,
                    CheckStatus {
                        kind: check.probe.kind(),
                        last_round: None,
                        problem: Some(problem),
                        hosts: Default::default(),
                    },
                );
            }
        }
    }
    tasks
}

/// What `start` shares with every runner.
#[derive(Clone)]
pub(crate) struct Shared {
    pub board: CheckBoard,
    pub recorder: crate::engine::incidents::AlertRecorder,
    pub stop: tokio_util::sync::CancellationToken,
}

fn prepare(
    check: &Check,
    home: &Home,
    settings: &Settings,
    inventory: &Inventory,
    submit: &Submit,
) -> Result<(Vec<Host>, runner::Prober), String> {
    let targets = Selector::parse(&check.target)
        .and_then(|s| s.resolve(inventory))
        .map_err(|e| format!("target `{}`: {}", check.target, e.message))?;
    let prober = match &check.probe {
        Probe::Http(_) => runner::Prober::Http(http::HttpProber::new()?),
        Probe::Action(a) => runner::Prober::Action(Box::new(action::ActionRunner {
            check: check.name.clone(),
            probe: a.clone(),
            target: check.target.clone(),
            home: home.clone(),
            settings: settings.clone(),
            submit: submit.clone(),
        })),
    };
    Ok((targets, prober))
}
