//! What status.json holds, and how it is counted from a fleet snapshot. Pure: no clock, no file.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::engine::FleetSnapshot;
use crate::metrics::{Availability, HostNow};
use crate::transport::ConnState;

/// The `"v"` of status.json.
pub const STATUS_VERSION: u32 = 1;

/// Which front end wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriterKind {
    Console,
    Watch,
    Wallboard,
    /// A writer a newer fleetdeck added: still shown, by its counts.
    #[serde(other)]
    Other,
}

impl WriterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WriterKind::Console => "console",
            WriterKind::Watch => "watch",
            WriterKind::Wallboard => "wallboard",
            WriterKind::Other => "other",
        }
    }
}

/// Active incidents by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IncidentCounts {
    pub crit: usize,
    pub warn: usize,
    pub info: usize,
}

/// Hosts of the inventory by [`HostHealth`]; `up + down + unknown == total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostCounts {
    pub up: usize,
    pub down: usize,
    pub unknown: usize,
    pub total: usize,
}

/// Runs of the writer's queue (a wallboard runs nothing: zeros).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunCounts {
    pub running: usize,
    pub queued: usize,
    pub paused: usize,
}

/// One status.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusDoc {
    pub v: u32,
    #[serde(with = "crate::store::rfc3339")]
    pub ts: SystemTime,
    pub writer: WriterKind,
    /// The writer's process: gone means the counts are no longer being kept.
    pub pid: u32,
    #[serde(default)]
    pub incidents: IncidentCounts,
    #[serde(default)]
    pub hosts: HostCounts,
    #[serde(default)]
    pub runs: RunCounts,
}

impl StatusDoc {
    /// The counts of `snapshot` for the inventory `hosts`, as `writer` (process `pid`) sees
    /// them at `now`.
    pub fn of<'a>(
        snapshot: &FleetSnapshot,
        hosts: impl IntoIterator<Item = &'a str>,
        writer: WriterKind,
        pid: u32,
        now: SystemTime,
    ) -> StatusDoc {
        let [crit, warn, info] = snapshot.incidents.active_by_severity();
        let mut counts = HostCounts::default();
        for name in hosts {
            counts.total += 1;
            let health = host_health(
                snapshot.connections.get(name),
                snapshot.metrics.host(name),
                now,
            );
            match health {
                HostHealth::Up => counts.up += 1,
                HostHealth::Down => counts.down += 1,
                HostHealth::Unknown => counts.unknown += 1,
            }
        }
        let queue = snapshot.queue.counts();
        StatusDoc {
            v: STATUS_VERSION,
            ts: now,
            writer,
            pid,
            incidents: IncidentCounts { crit, warn, info },
            hosts: counts,
            runs: RunCounts {
                running: queue.running,
                queued: queue.queued,
                paused: queue.paused,
            },
        }
    }

    /// The same counts from the same writer (the time aside): nothing worth rewriting.
    pub fn same_content(&self, other: &StatusDoc) -> bool {
        self.writer == other.writer
            && self.pid == other.pid
            && self.incidents == other.incidents
            && self.hosts == other.hosts
            && self.runs == other.runs
    }
}

/// What one host counts as in "N/M up".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostHealth {
    Up,
    Down,
    /// Nothing heard yet (just started, or a host with no metrics and no open link).
    Unknown,
}

/// A host is **up** when it gave a fresh sample (younger than three of its source's
/// intervals), or, without one, when its link is open (agent connected, pooled SSH connection)
/// or it is a local host, and its sampling is not failing. It is **down** when its last
/// connection attempt failed, its sampling fails, or its newest sample went stale. Otherwise
/// nothing is known yet.
pub fn host_health(
    conn: Option<&ConnState>,
    metrics: Option<&HostNow>,
    now: SystemTime,
) -> HostHealth {
    let sampled = metrics.filter(|m| m.latest.is_some());
    if sampled.is_some_and(|m| !m.is_stale(now)) {
        return HostHealth::Up;
    }
    if matches!(conn, Some(ConnState::Failed { .. })) {
        return HostHealth::Down;
    }
    if metrics.is_some_and(|m| matches!(m.availability, Availability::Failing(_))) {
        return HostHealth::Down;
    }
    // A sample that stopped coming: the host (or its link) went quiet.
    if sampled.is_some() {
        return HostHealth::Down;
    }
    match conn {
        Some(ConnState::Connected | ConnState::Local) => HostHealth::Up,
        _ => HostHealth::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::engine::ErrorKind;
    use crate::metrics::{MetricsFrame, Sample, Source};

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn sampled(secs: u64) -> HostNow {
        HostNow {
            latest: Some(Sample::empty(Source::Agent, at(secs))),
            availability: Availability::Sampled,
            interval: Some(Duration::from_secs(5)),
            trend: Vec::new(),
        }
    }

    #[test]
    fn a_fresh_sample_is_up_whatever_the_link_says() {
        let now = at(1_000);
        let m = sampled(995);
        assert_eq!(host_health(None, Some(&m), now), HostHealth::Up);
        assert_eq!(
            host_health(Some(&ConnState::Closed), Some(&m), now),
            HostHealth::Up
        );
    }

    #[test]
    fn a_stale_sample_a_failed_link_or_failing_sampling_is_down() {
        let now = at(1_000);
        // Three 5 s intervals is the limit.
        let stale = sampled(984);
        assert_eq!(
            host_health(Some(&ConnState::Connected), Some(&stale), now),
            HostHealth::Down
        );
        let failed = ConnState::Failed {
            kind: ErrorKind::Connect,
            reason: "refused".into(),
        };
        assert_eq!(host_health(Some(&failed), None, now), HostHealth::Down);
        let failing = HostNow {
            availability: Availability::Failing("exporter refused".into()),
            ..HostNow::default()
        };
        assert_eq!(
            host_health(Some(&ConnState::Connected), Some(&failing), now),
            HostHealth::Down
        );
    }

    #[test]
    fn without_samples_an_open_link_or_a_local_host_is_up_else_unknown() {
        let now = at(1_000);
        let waiting = HostNow::default();
        let no_metrics = HostNow {
            availability: Availability::NoMetrics("not Linux".into()),
            ..HostNow::default()
        };
        assert_eq!(
            host_health(Some(&ConnState::Connected), Some(&no_metrics), now),
            HostHealth::Up
        );
        assert_eq!(
            host_health(Some(&ConnState::Local), Some(&waiting), now),
            HostHealth::Up
        );
        for conn in [
            None,
            Some(ConnState::Closed),
            Some(ConnState::Connecting),
            Some(ConnState::NotTracked),
        ] {
            assert_eq!(
                host_health(conn.as_ref(), Some(&waiting), now),
                HostHealth::Unknown,
                "{conn:?}"
            );
        }
    }

    #[test]
    fn counts_every_inventory_host_once() {
        let now = at(1_000);
        let mut snapshot = FleetSnapshot {
            connections: HashMap::from([
                ("a".to_string(), ConnState::Connected),
                (
                    "b".to_string(),
                    ConnState::Failed {
                        kind: ErrorKind::Dns,
                        reason: "no such host".into(),
                    },
                ),
            ]),
            ..FleetSnapshot::default()
        };
        snapshot.metrics = Arc::new(MetricsFrame {
            at: Some(now),
            hosts: HashMap::from([("c".to_string(), sampled(999))]),
        });
        let doc = StatusDoc::of(&snapshot, ["a", "b", "c", "d"], WriterKind::Watch, 7, now);
        assert_eq!(
            doc.hosts,
            HostCounts {
                up: 2,
                down: 1,
                unknown: 1,
                total: 4
            }
        );
        assert_eq!(doc.runs, RunCounts::default());
        let later = StatusDoc {
            ts: at(1_005),
            ..doc.clone()
        };
        assert!(doc.same_content(&later));
        let json = serde_json::to_string(&doc).unwrap();
        assert!(json.contains(r#""writer":"watch""#), "{json}");
        assert!(
            json.contains(r#""ts":"1970-01-01T00:16:40.000Z""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<StatusDoc>(&json).unwrap(), doc);
    }
}
