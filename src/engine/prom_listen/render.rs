//! The fleet's gauges in Prometheus text, from a reader's snapshot: hosts by link state, each
//! host's newest fresh sample (a stale one is left out, with its age still given), runs
//! running and queued, and the recent runs by status. Names follow Prometheus conventions:
//! `fleetdeck_` prefix, base units in names, ratios for percentages.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::engine::session::FleetSnapshot;
use crate::metrics::Metric;
use crate::metrics::prom_text::{MetricKind, PromError, PromText};
use crate::transport::ConnState;

/// A link state as a label value.
fn state_label(state: &ConnState) -> &'static str {
    match state {
        ConnState::NotTracked => "not_tracked",
        ConnState::Local => "local",
        ConnState::Closed => "closed",
        ConnState::Connecting => "connecting",
        ConnState::Connected => "connected",
        ConnState::Failed { .. } => "failed",
        ConnState::Unwatched { .. } => "unwatched",
    }
}

/// Per-host sample gauges: (family, help, metric, scale to base units).
const HOST_GAUGES: [(&str, &str, Metric, f64); 6] = [
    (
        "fleetdeck_host_cpu_usage_ratio",
        "CPU busy share of all CPUs, 0..1.",
        Metric::Cpu,
        0.01,
    ),
    (
        "fleetdeck_host_memory_usage_ratio",
        "Memory in use (all but MemAvailable), 0..1.",
        Metric::Mem,
        0.01,
    ),
    (
        "fleetdeck_host_disk_usage_ratio",
        "Use of the fullest real filesystem, 0..1.",
        Metric::Disk,
        0.01,
    ),
    (
        "fleetdeck_host_load1",
        "Load average over one minute.",
        Metric::Load,
        1.0,
    ),
    (
        "fleetdeck_host_network_receive_bytes_per_second",
        "Bytes received per second.",
        Metric::NetRx,
        1.0,
    ),
    (
        "fleetdeck_host_network_transmit_bytes_per_second",
        "Bytes sent per second.",
        Metric::NetTx,
        1.0,
    ),
];

/// The exposition text for `snap` at `now`.
pub fn render(snap: &FleetSnapshot, now: SystemTime) -> Result<String, PromError> {
    let mut out = PromText::new();
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for state in snap.connections.values() {
        *by_state.entry(state_label(state)).or_default() += 1;
    }
    out.family(
        "fleetdeck_hosts",
        MetricKind::Gauge,
        "Hosts by the state of their link.",
    )?;
    for (state, n) in &by_state {
        out.sample(&[("state", state)], *n as f64)?;
    }

    let mut hosts: Vec<(&String, &crate::metrics::HostNow)> = snap.metrics.hosts.iter().collect();
    hosts.sort_by(|a, b| a.0.cmp(b.0));
    for (family, help, metric, scale) in HOST_GAUGES {
        out.family(family, MetricKind::Gauge, help)?;
        for (name, now_of) in &hosts {
            let (Some(v), Some(s)) = (now_of.fresh(metric, now), now_of.latest.as_ref()) else {
                continue;
            };
            out.sample(
                &[("host", name.as_str()), ("source", s.source.as_str())],
                v * scale,
            )?;
        }
    }
    out.family(
        "fleetdeck_host_sample_age_seconds",
        MetricKind::Gauge,
        "Age of each host's newest sample (stale past three of its source's intervals).",
    )?;
    for (name, now_of) in &hosts {
        if let Some(s) = &now_of.latest {
            out.sample(&[("host", name.as_str())], s.age(now).as_secs_f64())?;
        }
    }

    out.family(
        "fleetdeck_runs",
        MetricKind::Gauge,
        "Runs of this console running or waiting now.",
    )?;
    out.sample(&[("state", "running")], snap.queue.running.len() as f64)?;
    out.sample(&[("state", "queued")], snap.queue.queued.len() as f64)?;
    out.family(
        "fleetdeck_queue_depth",
        MetricKind::Gauge,
        "Runs waiting in this console's queue.",
    )?;
    out.sample(&[], snap.queue.queued.len() as f64)?;
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for run in &snap.recent {
        *by_status.entry(run.status.as_str()).or_default() += 1;
    }
    out.family(
        "fleetdeck_recent_runs",
        MetricKind::Gauge,
        "The console's most recent finished runs (up to 50) by status.",
    )?;
    for (status, n) in &by_status {
        out.sample(&[("status", status)], *n as f64)?;
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Availability, HostNow, MetricsFrame, Sample, Source};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn gauges_carry_fresh_samples_only() {
        let now = SystemTime::now();
        let mut fresh = Sample::empty(Source::Ssh, now);
        fresh.cpu_pct = Some(50.0);
        fresh.load1 = Some(1.5);
        let stale = Sample {
            ts: now - Duration::from_secs(3600),
            ..fresh.clone()
        };
        let host = |s: Sample| HostNow {
            latest: Some(s),
            availability: Availability::Sampled,
            interval: Some(Duration::from_secs(15)),
            trend: Vec::new(),
        };
        let mut snap = FleetSnapshot::default();
        snap.connections.insert("web1".into(), ConnState::Connected);
        snap.connections.insert("web2".into(), ConnState::Connected);
        snap.connections.insert("lab".into(), ConnState::Local);
        snap.metrics = Arc::new(MetricsFrame {
            at: Some(now),
            hosts: [
                ("web1".to_string(), host(fresh)),
                ("web2".to_string(), host(stale)),
            ]
            .into_iter()
            .collect(),
        });
        let text = render(&snap, now).expect("render");
        assert!(
            text.contains("fleetdeck_hosts{state=\"connected\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("fleetdeck_hosts{state=\"local\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("fleetdeck_host_cpu_usage_ratio{host=\"web1\",source=\"ssh\"} 0.5\n"),
            "{text}"
        );
        assert!(
            !text.contains("fleetdeck_host_cpu_usage_ratio{host=\"web2\""),
            "{text}"
        );
        assert!(
            text.contains("fleetdeck_host_sample_age_seconds{host=\"web2\"} 3600"),
            "{text}"
        );
        assert!(text.contains("fleetdeck_queue_depth 0\n"), "{text}");
    }
}
