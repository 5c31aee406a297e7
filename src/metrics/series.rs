//! A host's history in three tiers, after netdata's: raw samples for about 15 minutes,
//! 1-minute averages for 24 hours, 1-hour averages for 30 days. Every tier is a ring with a
//! fixed capacity, so memory is fixed by the host count, never by how long the process runs
//! (`HostSeries::MAX_BYTES`). A point is 28 bytes: seconds since the epoch and six `f32`s
//! (NaN where the source gave nothing).

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::sample::{Metric, Sample};

/// One point of a tier: a sample, or the average of the samples of a minute or an hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Seconds since the Unix epoch (for an average, the start of its minute or hour).
    pub ts: u32,
    values: [f32; 6],
}

impl Point {
    pub fn from_sample(s: &Sample) -> Point {
        let mut values = [f32::NAN; 6];
        for (i, m) in Metric::ALL.into_iter().enumerate() {
            if let Some(v) = s.get(m) {
                values[i] = v as f32;
            }
        }
        Point {
            ts: epoch_secs(s.ts),
            values,
        }
    }

    /// A point from stored values (a metrics/*.jsonl line), in `Metric::ALL` order.
    pub fn from_values(ts: u32, values: [Option<f64>; 6]) -> Point {
        Point {
            ts,
            values: values.map(|v| v.filter(|v| v.is_finite()).map_or(f32::NAN, |v| v as f32)),
        }
    }

    pub fn get(&self, metric: Metric) -> Option<f64> {
        let v = self.values[index(metric)];
        (!v.is_nan()).then_some(f64::from(v))
    }

    /// Every value, `Metric::ALL` order.
    pub fn values(&self) -> [Option<f64>; 6] {
        Metric::ALL.map(|m| self.get(m))
    }

    pub fn time(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(self.ts))
    }
}

fn index(metric: Metric) -> usize {
    Metric::ALL.iter().position(|m| *m == metric).unwrap_or(0)
}

/// Seconds since the epoch, saturating (a clock before 1970 reads as 0).
pub fn epoch_secs(t: SystemTime) -> u32 {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    u32::try_from(secs).unwrap_or(u32::MAX)
}

/// The three tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Raw,
    Minute,
    Hour,
}

impl Tier {
    /// How long the tier reaches back.
    pub fn span(self) -> Duration {
        match self {
            Tier::Raw => Duration::from_secs(15 * 60),
            Tier::Minute => Duration::from_secs(24 * 3600),
            Tier::Hour => Duration::from_secs(30 * 24 * 3600),
        }
    }

    /// Points the ring holds at most (raw: one a second for 15 minutes).
    pub fn capacity(self) -> usize {
        match self {
            Tier::Raw => 900,
            Tier::Minute => 1440,
            Tier::Hour => 720,
        }
    }

    /// Seconds one averaged point covers (raw: none).
    fn step(self) -> u32 {
        match self {
            Tier::Raw => 0,
            Tier::Minute => 60,
            Tier::Hour => 3600,
        }
    }
}

/// A chart's time window; each reads the finest tier that covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Window {
    #[default]
    Min15,
    Hour1,
    Hour24,
    Day7,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::Min15, Window::Hour1, Window::Hour24, Window::Day7];

    pub fn span(self) -> Duration {
        Duration::from_secs(match self {
            Window::Min15 => 15 * 60,
            Window::Hour1 => 3600,
            Window::Hour24 => 24 * 3600,
            Window::Day7 => 7 * 24 * 3600,
        })
    }

    pub fn tier(self) -> Tier {
        match self {
            Window::Min15 => Tier::Raw,
            Window::Hour1 | Window::Hour24 => Tier::Minute,
            Window::Day7 => Tier::Hour,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Window::Min15 => "15m",
            Window::Hour1 => "1h",
            Window::Hour24 => "24h",
            Window::Day7 => "7d",
        }
    }

    /// The next wider window (zoom out), wrapping.
    pub fn wider(self) -> Window {
        match self {
            Window::Min15 => Window::Hour1,
            Window::Hour1 => Window::Hour24,
            Window::Hour24 => Window::Day7,
            Window::Day7 => Window::Min15,
        }
    }

    /// The next narrower window (zoom in), wrapping.
    pub fn narrower(self) -> Window {
        match self {
            Window::Min15 => Window::Day7,
            Window::Hour1 => Window::Min15,
            Window::Hour24 => Window::Hour1,
            Window::Day7 => Window::Hour24,
        }
    }
}

/// Sums for one average in the making.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    /// Start of the bucket; 0 when empty.
    start: u32,
    sums: [f32; 6],
    counts: [u16; 6],
}

impl Acc {
    fn add(&mut self, p: &Point) {
        for (i, v) in p.values.iter().enumerate() {
            if !v.is_nan() {
                self.sums[i] += v;
                self.counts[i] = self.counts[i].saturating_add(1);
            }
        }
    }

    fn point(&self) -> Point {
        let mut values = [f32::NAN; 6];
        for (i, v) in values.iter_mut().enumerate() {
            if self.counts[i] > 0 {
                *v = self.sums[i] / f32::from(self.counts[i]);
            }
        }
        Point {
            ts: self.start,
            values,
        }
    }

    fn is_empty(&self) -> bool {
        self.counts.iter().all(|c| *c == 0)
    }
}

/// One tier: a ring and the average being built for it.
#[derive(Debug, Clone)]
struct Ring {
    tier: Tier,
    points: VecDeque<Point>,
    acc: Acc,
}

impl Ring {
    fn new(tier: Tier) -> Ring {
        Ring {
            tier,
            points: VecDeque::new(),
            acc: Acc::default(),
        }
    }

    fn push(&mut self, p: Point) {
        // Out of order (a clock step back, a file read after live samples): keep order.
        if self.points.back().is_some_and(|last| last.ts >= p.ts) {
            if self.tier != Tier::Raw
                && let Some(last) = self.points.back_mut()
                && last.ts == p.ts
            {
                *last = p;
            }
            return;
        }
        if self.points.len() == self.tier.capacity() {
            self.points.pop_front();
        }
        self.points.push_back(p);
        let oldest = p.ts.saturating_sub(self.tier.span().as_secs() as u32);
        while self.points.front().is_some_and(|f| f.ts < oldest) {
            self.points.pop_front();
        }
    }

    /// Adds `p` to the average being built; returns the finished average when `p` starts a
    /// new bucket.
    fn accumulate(&mut self, p: &Point) -> Option<Point> {
        let step = self.tier.step();
        let bucket = p.ts - p.ts % step;
        let mut closed = None;
        if bucket != self.acc.start {
            if !self.acc.is_empty() && bucket > self.acc.start {
                let done = self.acc.point();
                self.push(done);
                closed = Some(done);
            }
            self.acc = Acc {
                start: bucket,
                ..Acc::default()
            };
        }
        self.acc.add(p);
        closed
    }

    fn since(&self, from: u32) -> impl Iterator<Item = &Point> {
        self.points.iter().filter(move |p| p.ts >= from)
    }
}

/// A host's three tiers.
#[derive(Debug, Clone)]
pub struct HostSeries {
    raw: Ring,
    minute: Ring,
    hour: Ring,
}

/// Averages a push finished, to be appended to metrics/*.jsonl.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closed {
    pub tier: Tier,
    pub point: Point,
}

impl Default for HostSeries {
    fn default() -> Self {
        Self::new()
    }
}

impl HostSeries {
    /// The most a host's series can hold, in bytes (points only; ring overhead aside).
    pub const MAX_BYTES: usize = (900 + 1440 + 720) * std::mem::size_of::<Point>();

    pub fn new() -> HostSeries {
        HostSeries {
            raw: Ring::new(Tier::Raw),
            minute: Ring::new(Tier::Minute),
            hour: Ring::new(Tier::Hour),
        }
    }

    /// Adds a sample to the raw tier and the averages; returns the averages it finished.
    pub fn push(&mut self, sample: &Sample) -> Vec<Closed> {
        let p = Point::from_sample(sample);
        self.raw.push(p);
        let mut closed = Vec::new();
        if let Some(m) = self.minute.accumulate(&p) {
            closed.push(Closed {
                tier: Tier::Minute,
                point: m,
            });
            if let Some(h) = self.hour.accumulate(&m) {
                closed.push(Closed {
                    tier: Tier::Hour,
                    point: h,
                });
            }
        }
        closed
    }

    /// Puts back an average read from metrics/*.jsonl (oldest first).
    pub fn restore(&mut self, tier: Tier, point: Point) {
        match tier {
            Tier::Raw => self.raw.push(point),
            Tier::Minute => {
                self.minute.push(point);
                // The hour average in the making picks restored minutes up too, so a
                // restart in the middle of an hour still closes it whole.
                if let Some(h) = self.hour.accumulate(&point) {
                    self.hour.push(h);
                }
            }
            Tier::Hour => self.hour.push(point),
        }
    }

    /// The points of `window` ending at `now`, oldest first: the finest tier that covers it
    /// (and, for averaged tiers, the average in the making as the newest point).
    pub fn window(&self, window: Window, now: SystemTime) -> Vec<Point> {
        let from = epoch_secs(now).saturating_sub(window.span().as_secs() as u32);
        let ring = match window.tier() {
            Tier::Raw => &self.raw,
            Tier::Minute => &self.minute,
            Tier::Hour => &self.hour,
        };
        let mut points: Vec<Point> = ring.since(from).copied().collect();
        if window.tier() != Tier::Raw && !ring.acc.is_empty() && ring.acc.start >= from {
            let building = ring.acc.point();
            if points.last().is_none_or(|l| l.ts < building.ts) {
                points.push(building);
            }
        }
        points
    }

    /// The last `n` raw values of `metric`, oldest first (a table's trend glyphs).
    pub fn trend(&self, metric: Metric, n: usize) -> Vec<Option<f64>> {
        let skip = self.raw.points.len().saturating_sub(n);
        self.raw
            .points
            .iter()
            .skip(skip)
            .map(|p| p.get(metric))
            .collect()
    }

    /// Points held now, every tier.
    pub fn len(&self) -> usize {
        self.raw.points.len() + self.minute.points.len() + self.hour.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sample::Source;

    /// A time (Unix seconds) on the hour: 500,000 hours after the epoch.
    const ON_THE_HOUR: u64 = 500_000 * 3600;

    fn sample_at(secs: u64, cpu: f64) -> Sample {
        let mut s = Sample::empty(
            Source::Ssh,
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        );
        s.cpu_pct = Some(cpu);
        s.mem_pct = Some(50.0);
        s
    }

    #[test]
    fn a_minute_closes_into_its_average() {
        let mut s = HostSeries::new();
        let base = ON_THE_HOUR;
        assert!(s.push(&sample_at(base, 10.0)).is_empty());
        assert!(s.push(&sample_at(base + 30, 30.0)).is_empty());
        let closed = s.push(&sample_at(base + 60, 90.0));
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].tier, Tier::Minute);
        assert_eq!(closed[0].point.ts, base as u32);
        assert_eq!(closed[0].point.get(Metric::Cpu), Some(20.0));
        assert_eq!(closed[0].point.get(Metric::Load), None);
    }

    #[test]
    fn an_hour_closes_from_its_minutes() {
        let mut s = HostSeries::new();
        let base = ON_THE_HOUR;
        let mut hours = Vec::new();
        for i in 0..=61 {
            for c in s.push(&sample_at(base + i * 60, i as f64)) {
                if c.tier == Tier::Hour {
                    hours.push(c.point);
                }
            }
        }
        assert_eq!(hours.len(), 1);
        assert_eq!(hours[0].ts, base as u32);
        // Minutes 0..=59, each the value of its one sample.
        assert_eq!(hours[0].get(Metric::Cpu), Some(29.5));
    }

    #[test]
    fn memory_is_bounded_by_capacity_not_time() {
        let mut s = HostSeries::new();
        // 40 days of one sample a second would be 3.4 million points.
        let base = 1_700_000_000u64;
        for i in (0..40 * 24 * 3600u64).step_by(7) {
            s.push(&sample_at(base + i, 1.0));
        }
        assert!(s.raw.points.len() <= Tier::Raw.capacity());
        assert!(s.minute.points.len() <= Tier::Minute.capacity());
        assert!(s.hour.points.len() <= Tier::Hour.capacity());
        assert_eq!(s.hour.points.len(), 720);
        assert!(s.len() * std::mem::size_of::<Point>() <= HostSeries::MAX_BYTES);
    }

    #[test]
    fn windows_read_the_finest_covering_tier() {
        let mut s = HostSeries::new();
        let base = ON_THE_HOUR;
        for i in 0..(3 * 3600u64) {
            s.push(&sample_at(base + i, 5.0));
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(base + 3 * 3600);
        let raw = s.window(Window::Min15, now);
        assert!(raw.len() >= 899 && raw.len() <= 900, "{}", raw.len());
        let hour = s.window(Window::Hour1, now);
        assert!((60..=61).contains(&hour.len()), "{}", hour.len());
        let week = s.window(Window::Day7, now);
        // Two closed hours and the third in the making.
        assert_eq!(week.len(), 3);
        assert!(week.windows(2).all(|w| w[0].ts < w[1].ts));
    }

    #[test]
    fn out_of_order_points_do_not_break_the_ring() {
        let mut s = HostSeries::new();
        s.push(&sample_at(1_000_100, 1.0));
        s.push(&sample_at(1_000_000, 2.0));
        assert_eq!(s.trend(Metric::Cpu, 10), vec![Some(1.0)]);
    }

    #[test]
    fn restored_minutes_fill_the_minute_and_hour_tiers() {
        let mut s = HostSeries::new();
        let base = ON_THE_HOUR;
        for i in 0..120u32 {
            let p = Point::from_values(
                base as u32 + i * 60,
                [Some(f64::from(i)), None, None, None, None, None],
            );
            s.restore(Tier::Minute, p);
        }
        assert_eq!(s.minute.points.len(), 120);
        assert_eq!(s.hour.points.len(), 1);
        assert_eq!(s.hour.points[0].get(Metric::Cpu), Some(29.5));
    }
}
