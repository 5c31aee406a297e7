//! The SSH sampler: every `[metrics] ssh_interval`, the fixed probe on each SSH host over its
//! pooled connection (a new channel, no new handshake once connected), CPU and network from
//! the delta with the host's previous reading. Probes run side by side (bounded), each with a
//! timeout, so a hung host delays nobody; a host that is not Linux is marked once and left
//! alone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::probe_only::ProbeOnly;
use super::probe_run::ProbeFailure;
use super::rounds;
use crate::engine::session::view::SharedView;
use crate::inventory::Host;
use crate::metrics::{Availability, Reading, Sample, Source, sample_between};

/// Probes in flight at once (each is one channel on an existing connection, or a handshake
/// the transport itself paces with `max_handshakes`).
const PROBES_AT_ONCE: usize = 64;
/// A probe that takes longer is given up for this tick.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// The share of the interval a round's probes are spread over; the rest leaves a probe that
/// runs to its timeout room to end before the next round.
const SPREAD: f64 = 0.3;
/// A host's first reading is followed by a second this soon, so CPU shows without waiting a
/// whole interval.
const FIRST_DELTA: Duration = Duration::from_secs(1);

/// One probe's outcome and when it ended (rates are over the time between two).
type Probed = (Result<Reading, ProbeFailure>, Instant);

/// Settings of one sampler.
#[derive(Clone)]
pub struct SshSampling {
    pub hosts: Vec<Host>,
    pub every: Duration,
    pub connect_timeout: Duration,
}

/// Samples `cfg.hosts` until `stop`, through the transport `transport()` gives (none yet:
/// the tick is skipped, e.g. while an ssh config does not parse). It can only probe.
pub(crate) fn spawn(
    cfg: SshSampling,
    transport: impl Fn() -> Option<ProbeOnly> + Send + Sync + 'static,
    view: Arc<SharedView>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut previous: HashMap<String, (Reading, Instant)> = HashMap::new();
        let permits = Arc::new(Semaphore::new(PROBES_AT_ONCE));
        let round = || {
            let Some(transport) = transport() else {
                return Vec::new();
            };
            let n = cfg.hosts.len().max(1);
            cfg.hosts
                .iter()
                .enumerate()
                .filter_map(|(i, host)| {
                    // A host not sampled yet (or failing) gets a second reading a moment
                    // after the first, so CPU shows without waiting a whole interval.
                    let first = match view.metrics_availability(&host.name) {
                        Some(Availability::NoMetrics(_)) => return None,
                        Some(Availability::Sampled) => false,
                        _ => true,
                    };
                    let (host, transport, permits) =
                        (host.clone(), transport.clone(), Arc::clone(&permits));
                    let connect_timeout = cfg.connect_timeout;
                    // Sampled hosts are spread over the first part of the interval (each at
                    // the same offset every round, so its samples stay `every` apart) rather
                    // than all probed in the same instant; hosts not sampled yet go at once.
                    let delay = if first {
                        Duration::ZERO
                    } else {
                        cfg.every.mul_f64(SPREAD * i as f64 / n as f64)
                    };
                    Some(async move {
                        tokio::time::sleep(delay).await;
                        let read = async |host: &Host| {
                            let _permit = permits.acquire().await;
                            let r = transport.probe(host, connect_timeout, PROBE_TIMEOUT).await;
                            (r, Instant::now())
                        };
                        let mut readings = vec![read(&host).await];
                        if first && readings[0].0.is_ok() {
                            tokio::time::sleep(FIRST_DELTA).await;
                            readings.push(read(&host).await);
                        }
                        (host.name, readings)
                    })
                })
                .collect()
        };
        let done = |(name, readings): (String, Vec<Probed>)| {
            for (result, at) in readings {
                match result {
                    Ok(reading) => {
                        let sample = match previous.get(&name) {
                            Some((before, then)) => sample_between(before, &reading, at - *then),
                            // Levels only: rates need a second reading.
                            None => sample_between(&reading, &reading, Duration::ZERO),
                        };
                        let sample = Sample::from_rates(Source::Ssh, SystemTime::now(), &sample);
                        view.record_sample(&name, sample, Some(cfg.every));
                        previous.insert(name.clone(), (reading, at));
                    }
                    Err(ProbeFailure::NotLinux) => view.set_availability(
                        &name,
                        Availability::NoMetrics(ProbeFailure::NotLinux.reason()),
                    ),
                    Err(failure @ ProbeFailure::Failed(_)) => {
                        view.set_availability(&name, Availability::Failing(failure.reason()));
                    }
                }
            }
        };
        rounds::every(cfg.every, &stop, round, done).await;
    })
}
