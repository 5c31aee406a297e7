//! The Metrics view (view 3): a heatmap of the hosts the Fleet view shows (same target, filter,
//! order, cursor and marks), one cell per host with a digit for its level and a colour, the
//! top hosts by cpu, mem, disk and load, the focused host's charts over a window `+`/`-` zoom,
//! and the panel where run statistics go. State in state.rs, the charts' data in series.rs
//! (built when a series arrives, not per frame), where things sit in areas.rs and grid.rs
//! (keys and drawing use the same), keys in keys.rs, drawing in view.rs and its panels'
//! files. It reads no file and reaches no host: the frame and the series come in as `Msg`s;
//! the series of the focused host is asked for with `Effect::LoadSeries`, the run statistics
//! of the last 24 h with `Effect::LoadStats` (`engine::read_stats`, as `fleetdeck stats`).

pub mod areas;
pub mod grid;
pub mod keys;
pub mod series;
pub mod state;
pub mod view;

mod charts_view;
mod focus_view;
pub(crate) mod heatmap_view;
mod stats_view;
mod top_view;

#[cfg(test)]
pub(crate) mod tests;

pub use state::MetricsState;
