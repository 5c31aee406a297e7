//! The Metrics view's state: the metric the heatmap shows, the charts' window, the series
//! asked for and the charts built from the one that came back. The hosts, the cursor and the
//! marks are the Fleet view's (the heatmap shows the same hosts). No I/O.

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
}

impl Default for MetricsState {
    fn default() -> Self {
        MetricsState {
            metric: Metric::Cpu,
            window: Window::default(),
            frames: 0,
            requested: None,
            charts: None,
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
