//! The Metrics view's state: the metric the heatmap shows, the charts' window, the series
//! asked for and the charts built from the one that came back, and the run statistics panel's
//! last answer. The hosts, the cursor and the marks are the Fleet view's (the heatmap shows the
//! same hosts). No I/O.

use std::time::{Duration, SystemTime};

use crate::metrics::stats::RunStats;
use crate::metrics::{Metric, Window};

use super::series::Charts;

/// Which series was asked for: at most one request per host, window and metrics frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesKey {
    pub host: String,
    pub window: Window,
    /// The metrics frame it was asked at (a new frame brings new points).
    pub frame: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricsState {
    /// The metric the heatmap is coloured by (one of `Metric::LEVELS`).
    pub metric: Metric,
    /// The charts' time window.
    pub window: Window,
    /// Metrics frames received so far.
    pub frames: u64,
    /// The series last asked for.
    pub requested: Option<SeriesKey>,
    /// The focused host's charts, from the series that came back.
    pub charts: Option<Charts>,
    /// The run statistics panel.
    pub stats: StatsPanel,
}

/// The run statistics panel covers the runs started this long ago or since.
pub const STATS_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Reading statistics walks the whole history: at most once per this long.
pub const STATS_INTERVAL: Duration = Duration::from_secs(5);

/// What the panel shows and when it was asked for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsPanel {
    /// The newest answer: statistics and how many warnings reading them gave (damaged
    /// lines), or why they could not be read. `None` before the first.
    pub result: Option<Result<(RunStats, usize), String>>,
    /// When (the shell's clock) they were last asked for.
    pub asked_at: Option<SystemTime>,
    /// Records may have changed since: a run finished, or the view was away.
    pub stale: bool,
}

impl Default for MetricsState {
    fn default() -> Self {
        MetricsState {
            metric: Metric::Cpu,
            window: Window::default(),
            frames: 0,
            requested: None,
            charts: None,
            stats: StatsPanel::default(),
        }
    }
}

impl MetricsState {
    /// The next of the four levels the heatmap can show.
    pub fn cycle_metric(&mut self) {
        let levels = Metric::LEVELS;
        let at = levels.iter().position(|m| *m == self.metric).unwrap_or(0);
        self.metric = levels[(at + 1) % levels.len()];
    }
}
