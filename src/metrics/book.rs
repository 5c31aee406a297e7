//! The fleet's metrics in one place: each host's tiers, newest sample and availability, and
//! the frame views read (`MetricsFrame`: the newest of each host and a short trend, rebuilt
//! when something changed, shared by `Arc` so a snapshot never copies series). Pure data: the
//! engine's collectors write it, readers copy frames and windows out of it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::sample::{Availability, Metric, Sample, Source};
use super::series::{Closed, HostSeries, Point, Tier, Window};

/// Raw points a frame carries per host for the table's trend glyphs.
pub const TREND_POINTS: usize = 8;

/// A sample older than this many of its source's intervals is stale.
pub const STALE_INTERVALS: u32 = 3;

/// What a view knows of one host's metrics at a frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostNow {
    pub latest: Option<Sample>,
    pub availability: Availability,
    /// How often its source reports (staleness is measured in these).
    pub interval: Option<Duration>,
    /// The last raw points, oldest first (at most `TREND_POINTS`).
    pub trend: Vec<Point>,
}

impl HostNow {
    /// No sample, or one older than `STALE_INTERVALS` intervals at `now`.
    pub fn is_stale(&self, now: SystemTime) -> bool {
        match (&self.latest, self.interval) {
            (None, _) => true,
            (Some(s), Some(every)) => s.age(now) > every * STALE_INTERVALS,
            // A source with no known interval: a minute, the slowest default.
            (Some(s), None) => s.age(now) > Duration::from_secs(60) * STALE_INTERVALS,
        }
    }

    /// The newest value of `metric` if fresh at `now`.
    pub fn fresh(&self, metric: Metric, now: SystemTime) -> Option<f64> {
        if self.is_stale(now) {
            return None;
        }
        self.latest.as_ref().and_then(|s| s.get(metric))
    }
}

/// Every host's metrics at one moment. Cheap to share.
#[derive(Debug, Clone, Default)]
pub struct MetricsFrame {
    /// When it was built.
    pub at: Option<SystemTime>,
    pub hosts: HashMap<String, HostNow>,
}

impl MetricsFrame {
    pub fn host(&self, name: &str) -> Option<&HostNow> {
        self.hosts.get(name)
    }
}

#[derive(Debug, Default)]
struct Entry {
    series: HostSeries,
    latest: Option<Sample>,
    availability: Availability,
    interval: Option<Duration>,
}

/// Each host's tiers and state; see the module doc.
#[derive(Debug, Default)]
pub struct FleetMetrics {
    hosts: HashMap<String, Entry>,
    /// Something changed since the last frame.
    dirty: bool,
}

impl FleetMetrics {
    /// Metrics for `hosts` (others are ignored: memory is fixed by the host list).
    pub fn new<'a>(hosts: impl IntoIterator<Item = &'a str>) -> FleetMetrics {
        FleetMetrics {
            hosts: hosts
                .into_iter()
                .map(|h| (h.to_string(), Entry::default()))
                .collect(),
            dirty: true,
        }
    }

    /// A new sample of `host`; returns the averages it finished (for metrics/*.jsonl).
    pub fn record(
        &mut self,
        host: &str,
        sample: Sample,
        interval: Option<Duration>,
    ) -> Vec<Closed> {
        let Some(e) = self.hosts.get_mut(host) else {
            return Vec::new();
        };
        let closed = e.series.push(&sample);
        e.latest = Some(sample);
        e.availability = Availability::Sampled;
        if interval.is_some() {
            e.interval = interval;
        }
        self.dirty = true;
        closed
    }

    /// Why `host` has no (new) samples; a change only when it differs.
    pub fn set_availability(&mut self, host: &str, availability: Availability) {
        if let Some(e) = self.hosts.get_mut(host)
            && e.availability != availability
        {
            e.availability = availability;
            self.dirty = true;
        }
    }

    /// The expected interval of `host`'s source, before any sample (so staleness is known).
    pub fn set_interval(&mut self, host: &str, interval: Duration) {
        if let Some(e) = self.hosts.get_mut(host) {
            e.interval = Some(interval);
        }
    }

    pub fn availability(&self, host: &str) -> Option<&Availability> {
        self.hosts.get(host).map(|e| &e.availability)
    }

    /// Puts back an average read from metrics/*.jsonl.
    pub fn restore(&mut self, host: &str, tier: Tier, point: Point) {
        if let Some(e) = self.hosts.get_mut(host) {
            e.series.restore(tier, point);
            self.dirty = true;
        }
    }

    /// The points of `host` over `window` ending at `now`, oldest first.
    pub fn window(&self, host: &str, window: Window, now: SystemTime) -> Vec<Point> {
        self.hosts
            .get(host)
            .map(|e| e.series.window(window, now))
            .unwrap_or_default()
    }

    /// A new frame if something changed since the last one.
    pub fn frame_if_changed(&mut self, now: SystemTime) -> Option<Arc<MetricsFrame>> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        Some(Arc::new(self.frame(now)))
    }

    pub fn frame(&self, now: SystemTime) -> MetricsFrame {
        let hosts = self
            .hosts
            .iter()
            .map(|(name, e)| {
                let trend = e.series.raw_tail(TREND_POINTS);
                (
                    name.clone(),
                    HostNow {
                        latest: e.latest.clone(),
                        availability: e.availability.clone(),
                        interval: e.interval,
                        trend,
                    },
                )
            })
            .collect();
        MetricsFrame {
            at: Some(now),
            hosts,
        }
    }

    /// Bytes of points held now (every host, every tier).
    pub fn points_bytes(&self) -> usize {
        self.hosts.values().map(|e| e.series.len()).sum::<usize>() * std::mem::size_of::<Point>()
    }

    /// The sources samples came from, per host (the newest only).
    pub fn sources(&self) -> impl Iterator<Item = (&str, Source)> {
        self.hosts
            .iter()
            .filter_map(|(h, e)| e.latest.as_ref().map(|s| (h.as_str(), s.source)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(secs: u64, cpu: f64) -> Sample {
        let mut s = Sample::empty(
            Source::Agent,
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        );
        s.cpu_pct = Some(cpu);
        s
    }

    #[test]
    fn frames_only_when_changed_and_only_known_hosts() {
        let mut book = FleetMetrics::new(["a", "b"]);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert!(book.frame_if_changed(now).is_some());
        assert!(book.frame_if_changed(now).is_none());
        book.record("zzz", sample(999, 1.0), None);
        assert!(book.frame_if_changed(now).is_none());
        book.record("a", sample(999, 12.0), Some(Duration::from_secs(5)));
        let frame = book.frame_if_changed(now).expect("changed");
        let a = frame.host("a").expect("a");
        assert_eq!(a.fresh(Metric::Cpu, now), Some(12.0));
        assert_eq!(a.availability, Availability::Sampled);
        assert_eq!(a.trend.len(), 1);
        assert!(frame.host("b").expect("b").is_stale(now));
    }

    #[test]
    fn staleness_is_three_intervals() {
        let mut book = FleetMetrics::new(["a"]);
        book.record("a", sample(1000, 50.0), Some(Duration::from_secs(5)));
        let frame = book.frame(SystemTime::UNIX_EPOCH + Duration::from_secs(1015));
        let a = frame.host("a").expect("a");
        assert!(!a.is_stale(SystemTime::UNIX_EPOCH + Duration::from_secs(1015)));
        assert!(a.is_stale(SystemTime::UNIX_EPOCH + Duration::from_secs(1016)));
        assert_eq!(
            a.fresh(
                Metric::Cpu,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1016)
            ),
            None
        );
    }

    #[test]
    fn availability_changes_mark_the_frame_dirty_once() {
        let mut book = FleetMetrics::new(["a"]);
        let now = SystemTime::UNIX_EPOCH;
        book.frame_if_changed(now);
        book.set_availability("a", Availability::NoMetrics("not Linux".into()));
        assert!(book.frame_if_changed(now).is_some());
        book.set_availability("a", Availability::NoMetrics("not Linux".into()));
        assert!(book.frame_if_changed(now).is_none());
    }
}
