//! One check's loop: a round every `every` (a slow round delays the next, never overlaps
//! it), each host probed unless its breaker is open, the results turned into book
//! observations (`streak`) and published on the `CheckBoard`.
//!
//! The breaker is the engine's (`engine::breaker`), one per check, in memory, keyed by host,
//! with `[breaker]`'s `failures` and `cooldown`: every failed probe counts (a 500 as much as
//! a refused connection), a pass closes it. A host skipped by an open breaker keeps its
//! failing result, so its incident stays open until a probe passes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use super::Shared;
use super::action::ActionRunner;
use super::http::HttpProber;
use super::status::{CheckBoard, CheckStatus, HostCheck, HostResult};
use super::streak::{Probed, Streaks, clean};
use crate::engine::breaker::{Breaker, Outcome, Ticket};
use crate::engine::incidents::AlertRecorder;
use crate::incident::Observation;
use crate::incident::check::{Check, Probe, url};
use crate::inventory::Host;

/// HTTP probes in flight at once per check.
const HTTP_CONCURRENCY: usize = 32;

/// How a check's hosts are probed.
pub(crate) enum Prober {
    Http(HttpProber),
    Action(Box<ActionRunner>),
}

/// Runs `check` on `hosts` until `shared.stop`.
pub(crate) fn spawn(
    check: Check,
    hosts: Vec<Host>,
    prober: Prober,
    breaker: Breaker,
    shared: Shared,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut streaks = Streaks::default();
        let mut tick = tokio::time::interval(check.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shared.stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let round = tokio::select! {
                () = shared.stop.cancelled() => return,
                r = run_round(&check, &hosts, &prober, &breaker) => r,
            };
            let at = SystemTime::now();
            let observations = streaks.round(&check, &round.results, at);
            record(&shared.recorder, &check.name, observations).await;
            shared.board.set(
                &check.name,
                status(&check, &round, &streaks, &breaker, at, &shared.board),
            );
        }
    })
}

/// One round's outcome.
struct Round {
    results: BTreeMap<String, Probed>,
    /// Why nothing could be probed (an action that cannot be built or queued).
    problem: Option<String>,
}

async fn run_round(check: &Check, hosts: &[Host], prober: &Prober, breaker: &Breaker) -> Round {
    let mut results = BTreeMap::new();
    let mut tickets: BTreeMap<String, Ticket> = BTreeMap::new();
    for host in hosts {
        match breaker.admit(&host.name) {
            Ok(ticket) => {
                tickets.insert(host.name.clone(), ticket);
            }
            Err(_skipped) => {
                results.insert(host.name.clone(), Probed::Skipped);
            }
        }
    }
    let admitted: Vec<&Host> = hosts
        .iter()
        .filter(|h| tickets.contains_key(&h.name))
        .collect();
    let (probed, problem) = match (prober, &check.probe) {
        (Prober::Http(client), Probe::Http(probe)) => {
            (http_round(client, probe, &admitted).await, None)
        }
        (Prober::Action(runner), Probe::Action(_)) if !admitted.is_empty() => {
            match runner.round(&admitted).await {
                Ok(r) => (r, None),
                Err(problem) => (BTreeMap::new(), Some(problem)),
            }
        }
        (Prober::Action(_), Probe::Action(_)) => (BTreeMap::new(), None),
        _ => (
            BTreeMap::new(),
            Some("internal: the check's probe and its runner disagree".to_string()),
        ),
    };
    for (host, outcome) in probed {
        if let Some(ticket) = tickets.remove(&host) {
            ticket.record(&match &outcome {
                Ok(()) => Outcome::Connected,
                Err(e) => Outcome::Failed(e.clone()),
            });
        }
        results.insert(
            host,
            match outcome {
                Ok(()) => Probed::Passed,
                Err(e) => Probed::Failed(e),
            },
        );
    }
    // Admitted hosts without a result (the round could not run): no verdict, and a probe's
    // ticket dropped unrecorded lets the next round probe again.
    Round { results, problem }
}

async fn http_round(
    client: &HttpProber,
    probe: &crate::incident::check::HttpProbe,
    hosts: &[&Host],
) -> BTreeMap<String, Result<(), String>> {
    let permits = Arc::new(Semaphore::new(HTTP_CONCURRENCY));
    let mut set = JoinSet::new();
    for host in hosts {
        let target = url::for_host(&probe.url, &host.name, host.address.as_deref());
        let (client, probe, name, permits) = (
            client.clone(),
            probe.clone(),
            host.name.clone(),
            Arc::clone(&permits),
        );
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result = client.probe(&probe, &target).await;
            (name, result)
        });
    }
    let mut out = BTreeMap::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((name, result)) => {
                out.insert(name, result);
            }
            Err(e) => tracing::warn!(error = %e, "an HTTP check probe stopped unexpectedly"),
        }
    }
    out
}

/// Writes `observations` into the book, logging what it could not take.
async fn record(recorder: &AlertRecorder, check: &str, observations: Vec<Observation>) {
    let failed = recorder.record_batch(observations).await.failures;
    for e in failed {
        tracing::warn!(check, error = %e, "check result not in the incident book");
    }
}

/// The board's entry after a round: hosts probed now take their new result; skipped ones
/// keep the older one with their breaker's state refreshed.
fn status(
    check: &Check,
    round: &Round,
    streaks: &Streaks,
    breaker: &Breaker,
    at: SystemTime,
    board: &CheckBoard,
) -> CheckStatus {
    let mut hosts = board.get(&check.name).map(|s| s.hosts).unwrap_or_default();
    for (host, probed) in &round.results {
        let (state, failures) = breaker.state(host);
        let previous = hosts.get(host);
        let result = match probed {
            Probed::Passed => HostResult::Passed,
            Probed::Failed(e) => HostResult::Failed(clean(e)),
            Probed::Skipped => match previous {
                Some(p) => p.result.clone(),
                None => continue,
            },
        };
        let since = match (&result, previous) {
            (HostResult::Failed(_), _) => streaks.failing_since(host).unwrap_or(at),
            (HostResult::Passed, Some(p)) if p.result == HostResult::Passed => p.since,
            (HostResult::Passed, _) => at,
        };
        let probed_at = match probed {
            Probed::Skipped => previous.map_or(at, |p| p.probed),
            _ => at,
        };
        hosts.insert(
            host.clone(),
            HostCheck {
                result,
                since,
                probed: probed_at,
                breaker: state,
                failures,
            },
        );
    }
    CheckStatus {
        kind: check.probe.kind(),
        last_round: Some(at),
        problem: round.problem.clone(),
        hosts,
    }
}
