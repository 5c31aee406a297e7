//! The focused host's charts as data ratatui's `Chart` takes: per metric, points as (seconds
//! before the end, value), cut into segments where samples are missing (a gap is drawn as a
//! gap, never as a line across it), with the highest value for the y axis and the newest for
//! the title. Built once when a series arrives, so a frame only borrows it.

use std::ops::Range;
use std::time::SystemTime;

use crate::metrics::series::epoch_secs;
use crate::metrics::{Metric, Point, Window};

/// A gap longer than this many usual steps between two points breaks the line.
const GAP_STEPS: u32 = 3;

/// One metric's line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartLine {
    /// (seconds before the end, value), oldest first; only points with a value.
    pub data: Vec<(f64, f64)>,
    /// Runs of `data` without a gap.
    pub segments: Vec<Range<usize>>,
    /// The highest value (0 without points).
    pub max: f64,
    /// The newest value.
    pub latest: Option<f64>,
}

impl ChartLine {
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Every metric's line for one host and window.
#[derive(Debug, Clone, PartialEq)]
pub struct Charts {
    pub host: String,
    pub window: Window,
    /// Points in the series (with or without values).
    pub points: usize,
    /// In `Metric::ALL` order.
    lines: Vec<ChartLine>,
}

impl Charts {
    /// The lines of `points` (oldest first) over `window`, ending at `at`.
    pub fn build(host: &str, window: Window, points: &[Point], at: SystemTime) -> Charts {
        let end = f64::from(epoch_secs(at));
        let gap = usual_step(points).saturating_mul(GAP_STEPS);
        let lines = Metric::ALL
            .iter()
            .map(|&metric| {
                let mut line = ChartLine::default();
                let mut start = 0;
                let mut last_ts: Option<u32> = None;
                for p in points {
                    let Some(v) = p.get(metric) else {
                        // A point without this metric ends the segment.
                        last_ts = None;
                        continue;
                    };
                    let broken = last_ts.is_none_or(|t| gap > 0 && p.ts.saturating_sub(t) > gap);
                    if broken && start < line.data.len() {
                        line.segments.push(start..line.data.len());
                        start = line.data.len();
                    }
                    line.data.push((f64::from(p.ts) - end, v));
                    line.max = line.max.max(v);
                    line.latest = Some(v);
                    last_ts = Some(p.ts);
                }
                if start < line.data.len() {
                    line.segments.push(start..line.data.len());
                }
                line
            })
            .collect();
        Charts {
            host: host.to_string(),
            window,
            points: points.len(),
            lines,
        }
    }

    pub fn line(&self, metric: Metric) -> Option<&ChartLine> {
        let at = Metric::ALL.iter().position(|m| *m == metric)?;
        self.lines.get(at)
    }
}

/// The median time between two points (0 with fewer than two): raw samples come every few
/// seconds, averages every minute or hour.
fn usual_step(points: &[Point]) -> u32 {
    let mut steps: Vec<u32> = points
        .windows(2)
        .map(|w| w[1].ts.saturating_sub(w[0].ts))
        .collect();
    if steps.is_empty() {
        return 0;
    }
    let mid = steps.len() / 2;
    *steps.select_nth_unstable(mid).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Sample, Source};
    use std::time::Duration;

    fn point(secs: u64, cpu: Option<f64>) -> Point {
        let mut s = Sample::empty(
            Source::Agent,
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        );
        s.cpu_pct = cpu;
        s.mem_pct = Some(50.0);
        Point::from_sample(&s)
    }

    #[test]
    fn gaps_and_missing_values_cut_the_line() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let points = [
            point(900, Some(10.0)),
            point(905, Some(20.0)),
            point(910, None),
            point(915, Some(30.0)),
            point(920, Some(40.0)),
            // 60 s of nothing: more than three steps of 5 s.
            point(980, Some(90.0)),
        ];
        let charts = Charts::build("web01", Window::Min15, &points, at);
        let cpu = charts.line(Metric::Cpu).expect("cpu");
        assert_eq!(cpu.data.first(), Some(&(-100.0, 10.0)));
        assert_eq!(cpu.segments, [0..2, 2..4, 4..5]);
        assert_eq!(cpu.max, 90.0);
        assert_eq!(cpu.latest, Some(90.0));
        let mem = charts.line(Metric::Mem).expect("mem");
        assert_eq!(mem.segments, [0..5, 5..6]);
        assert!(charts.line(Metric::Load).expect("load").is_empty());
        assert_eq!(charts.points, 6);
    }
}
