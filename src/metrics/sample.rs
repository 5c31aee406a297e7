//! One host's sample in the units every view, selector and `--json` uses, whichever source it
//! came from (an agent's heartbeat, the SSH probe, a node_exporter scrape), and what is known
//! about a host that has none.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::rates::HostSample;
use crate::protocol;

/// Where a sample came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A `fleetdeck agent` heartbeat.
    Agent,
    /// The fixed /proc probe over the pooled SSH connection.
    Ssh,
    /// A Prometheus node_exporter scrape.
    NodeExporter,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Agent => "agent",
            Source::Ssh => "ssh",
            Source::NodeExporter => "node_exporter",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host's state over one interval. A field is `None` when the source could not say (the
/// first reading of a counter, a counter that went backwards, a host with no real disk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When it was taken (this machine's clock).
    #[serde(with = "crate::store::rfc3339")]
    pub ts: SystemTime,
    pub source: Source,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_pct: Option<f64>,
    /// The fullest real filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load1: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_rx_bps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_tx_bps: Option<f64>,
}

/// Keeps a value only if it is a finite number (an exporter may send NaN or Inf).
fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Keeps a percentage only if finite, clamped into 0..=100.
fn pct(v: f64) -> Option<f64> {
    finite(v).map(|v| v.clamp(0.0, 100.0))
}

impl Sample {
    /// A sample with nothing in it yet.
    pub fn empty(source: Source, ts: SystemTime) -> Sample {
        Sample {
            ts,
            source,
            cpu_pct: None,
            mem_pct: None,
            disk_pct: None,
            load1: None,
            net_rx_bps: None,
            net_tx_bps: None,
        }
    }

    /// From two readings of Linux's counters (the SSH probe; also what an exporter maps to).
    pub fn from_rates(source: Source, ts: SystemTime, s: &HostSample) -> Sample {
        Sample {
            ts,
            source,
            cpu_pct: s.cpu_pct.and_then(pct),
            mem_pct: pct(s.mem_pct),
            disk_pct: s.disk_pct.and_then(pct),
            load1: finite(s.load1).map(|v| v.max(0.0)),
            net_rx_bps: s.net_rx_bps.and_then(finite),
            net_tx_bps: s.net_tx_bps.and_then(finite),
        }
    }

    /// From an agent's heartbeat, received at `ts`.
    pub fn from_agent(ts: SystemTime, m: &protocol::Metrics) -> Sample {
        let mem_pct = (m.mem_total_bytes > 0)
            .then(|| m.mem_used_bytes as f64 * 100.0 / m.mem_total_bytes as f64)
            .and_then(pct);
        let disk_pct = m
            .disks
            .iter()
            .filter(|d| d.total_bytes > 0)
            .map(|d| d.used_bytes as f64 * 100.0 / d.total_bytes as f64)
            .max_by(f64::total_cmp)
            .and_then(pct);
        Sample {
            ts,
            source: Source::Agent,
            cpu_pct: pct(f64::from(m.cpu_pct)),
            mem_pct,
            disk_pct,
            load1: finite(m.load1).map(|v| v.max(0.0)),
            net_rx_bps: Some(m.net_rx_bytes_per_s as f64),
            net_tx_bps: Some(m.net_tx_bytes_per_s as f64),
        }
    }

    /// The value of `metric`, if the source gave it.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Cpu => self.cpu_pct,
            Metric::Mem => self.mem_pct,
            Metric::Disk => self.disk_pct,
            Metric::Load => self.load1,
            Metric::NetRx => self.net_rx_bps,
            Metric::NetTx => self.net_tx_bps,
        }
    }

    /// How old it is at `now` (zero if the clock went back).
    pub fn age(&self, now: SystemTime) -> Duration {
        now.duration_since(self.ts).unwrap_or_default()
    }
}

/// A quantity a sample holds; the names are the ones selectors and `--json` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    Cpu,
    Mem,
    Disk,
    Load,
    NetRx,
    NetTx,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Cpu,
        Metric::Mem,
        Metric::Disk,
        Metric::Load,
        Metric::NetRx,
        Metric::NetTx,
    ];

    /// The four a selector and the fleet table use.
    pub const LEVELS: [Metric; 4] = [Metric::Cpu, Metric::Mem, Metric::Disk, Metric::Load];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::Mem => "mem",
            Metric::Disk => "disk",
            Metric::Load => "load",
            Metric::NetRx => "net_rx",
            Metric::NetTx => "net_tx",
        }
    }

    /// Percentages (0..=100) as opposed to open-ended values (load, bytes per second).
    pub fn is_percent(self) -> bool {
        matches!(self, Metric::Cpu | Metric::Mem | Metric::Disk)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("unknown metric `{s}`"))
    }
}

/// What is known about a host's metrics besides its samples.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Availability {
    /// No source has reported yet (or none is configured).
    #[default]
    Waiting,
    /// Samples arrive.
    Sampled,
    /// The host cannot give metrics from any configured source (not Linux, a local host
    /// without an exporter, sampling off); said once, not retried every tick.
    NoMetrics(String),
    /// The last attempt failed (exporter refused, link down); retried next tick.
    Failing(String),
}

impl Availability {
    /// Short words for a table cell or a JSON `error`.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Availability::NoMetrics(why) | Availability::Failing(why) => Some(why),
            Availability::Waiting | Availability::Sampled => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::DiskUsage;

    #[test]
    fn agent_heartbeat_maps_to_the_same_units() {
        let m = protocol::Metrics {
            cpu_pct: 42.5,
            mem_used_bytes: 3 << 30,
            mem_total_bytes: 4 << 30,
            load1: 1.25,
            disks: vec![
                DiskUsage {
                    mount: "/".into(),
                    used_bytes: 10,
                    total_bytes: 100,
                },
                DiskUsage {
                    mount: "/var".into(),
                    used_bytes: 90,
                    total_bytes: 100,
                },
            ],
            net_rx_bytes_per_s: 1000,
            net_tx_bytes_per_s: 10,
            ..Default::default()
        };
        let s = Sample::from_agent(SystemTime::UNIX_EPOCH, &m);
        assert_eq!(s.cpu_pct, Some(42.5));
        assert_eq!(s.mem_pct, Some(75.0));
        assert_eq!(s.disk_pct, Some(90.0));
        assert_eq!(s.get(Metric::Load), Some(1.25));
        assert_eq!(s.net_rx_bps, Some(1000.0));
    }

    #[test]
    fn non_finite_values_are_dropped_and_percentages_clamped() {
        let hs = HostSample {
            cpu_pct: Some(f64::NAN),
            mem_pct: 140.0,
            disk_pct: Some(f64::INFINITY),
            load1: f64::NEG_INFINITY,
            net_rx_bps: Some(f64::NAN),
            net_tx_bps: Some(5.0),
        };
        let s = Sample::from_rates(Source::NodeExporter, SystemTime::UNIX_EPOCH, &hs);
        assert_eq!(s.cpu_pct, None);
        assert_eq!(s.mem_pct, Some(100.0));
        assert_eq!(s.disk_pct, None);
        assert_eq!(s.load1, None);
        assert_eq!(s.net_rx_bps, None);
        assert_eq!(s.net_tx_bps, Some(5.0));
    }

    #[test]
    fn metric_names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>(), Ok(m));
        }
        assert!("cpux".parse::<Metric>().is_err());
    }
}
