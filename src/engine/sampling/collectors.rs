//! Starting a session's metric collection: the averages of the last day read back, each
//! host's plan applied (hosts nothing samples are marked once), the SSH sampler, and the
//! publisher that makes new samples visible to readers about once a second and appends
//! finished averages to the metrics log.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::exporter;
use super::log::{MetricsLog, read_back};
use super::plan::{Plan, plan_for};
use super::probe_only::ProbeOnly;
use super::ssh::{self, SshSampling};
use crate::config::{Home, Settings};
use crate::engine::session::view::SharedView;
use crate::inventory::Host;
use crate::metrics::Availability;
use crate::store::Rotation;

/// How often new samples become visible (one change for readers, however many arrived).
pub const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Starts collection for `hosts`; the tasks end on `stop`.
pub(crate) fn start(
    view: &Arc<SharedView>,
    home: &Home,
    settings: &Settings,
    hosts: &[Host],
    ssh_transport: impl Fn() -> Option<ProbeOnly> + Send + Sync + 'static,
    stop: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    let mut tasks = vec![publisher(view, home, settings, stop.clone())];
    tasks.extend(samplers(view, settings, hosts, ssh_transport, stop));
    tasks
}

/// A read-only front end's collection (`FleetReader`): the last day read back for its charts,
/// then the same samplers, SSH hosts through `probe` only. Nothing is written: the metrics log
/// is the sessions' (a console or watcher of the same home), and the reader publishes frames
/// itself.
pub(crate) fn start_readonly(
    view: &Arc<SharedView>,
    home: &Home,
    settings: &Settings,
    hosts: &[Host],
    probe: Option<ProbeOnly>,
    stop: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    let back = Arc::clone(view);
    let home = home.clone();
    let mut tasks = vec![tokio::spawn(async move {
        if let Ok(points) =
            tokio::task::spawn_blocking(move || read_back(&home, SystemTime::now())).await
        {
            back.restore_metrics(points);
        }
    })];
    tasks.extend(samplers(view, settings, hosts, move || probe.clone(), stop));
    tasks
}

/// Applies each host's plan (hosts nothing samples are marked once) and starts the SSH probe
/// sampler and the exporter scraper for the hosts that need them.
fn samplers(
    view: &Arc<SharedView>,
    settings: &Settings,
    hosts: &[Host],
    ssh_transport: impl Fn() -> Option<ProbeOnly> + Send + Sync + 'static,
    stop: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    let metrics = &settings.metrics;
    let mut probe_hosts = Vec::new();
    let mut exporters = Vec::new();
    for host in hosts {
        let plan = plan_for(host, metrics);
        if let Some(every) = plan.interval(metrics) {
            view.set_metrics_interval(&host.name, every);
        }
        match plan {
            Plan::SshProbe => probe_hosts.push(host.clone()),
            Plan::None(why) => view.set_availability(&host.name, Availability::NoMetrics(why)),
            Plan::Exporter(url) => exporters.push((host.name.clone(), url)),
            // Their heartbeats (session::collect).
            Plan::Agent => {}
        }
    }
    let mut tasks = Vec::new();
    if let Some(every) = metrics.ssh_interval()
        && !probe_hosts.is_empty()
    {
        let cfg = SshSampling {
            hosts: probe_hosts,
            every,
            connect_timeout: settings.run.connect_timeout.0,
        };
        tasks.push(ssh::spawn(
            cfg,
            ssh_transport,
            Arc::clone(view),
            stop.clone(),
        ));
    }
    if let Some(every) = metrics.exporter_interval()
        && !exporters.is_empty()
    {
        tasks.push(exporter::spawn(
            exporters,
            every,
            Arc::clone(view),
            stop.clone(),
        ));
    }
    tasks
}

/// Reads the last day back, then publishes frames and flushes averages until `stop`.
fn publisher(
    view: &Arc<SharedView>,
    home: &Home,
    settings: &Settings,
    stop: CancellationToken,
) -> JoinHandle<()> {
    let view = Arc::clone(view);
    let home = home.clone();
    let rotation = Rotation {
        max_bytes: settings.store.rotate_at.0,
        keep: usize::try_from(settings.store.keep).unwrap_or(usize::MAX),
    };
    tokio::spawn(async move {
        let back_home = home.clone();
        if let Ok(points) =
            tokio::task::spawn_blocking(move || read_back(&back_home, SystemTime::now())).await
        {
            view.restore_metrics(points);
        }
        let log = Arc::new(Mutex::new(MetricsLog::new(&home, rotation)));
        let mut tick = tokio::time::interval(PUBLISH_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            view.publish_metrics();
            flush(&view, &log).await;
        }
        // Averages finished since the last tick are not lost on a clean stop.
        flush(&view, &log).await;
    })
}

async fn flush(view: &SharedView, log: &Arc<Mutex<MetricsLog>>) {
    let closed = view.take_closed();
    if closed.is_empty() {
        return;
    }
    let log = Arc::clone(log);
    let written = tokio::task::spawn_blocking(move || {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .append(&closed)
    })
    .await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics log not written"),
        Err(e) => tracing::warn!(error = %e, "metrics log writer stopped"),
    }
}
