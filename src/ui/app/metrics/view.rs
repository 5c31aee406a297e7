//! The Metrics view: each panel where areas.rs puts it (the heatmap always; the top lists,
//! the focused host's charts and the run statistics panel where there is room; on small
//! terminals the focused host's trends instead). Draws the
//! model only: the frame, the fleet's rows, cursor and marks, the charts built from the
//! series that came back.

use ratatui::Frame;

use super::areas::MetricsAreas;
use super::{charts_view, focus_view, heatmap_view, stats_view, top_view};
use crate::ui::app::layout::ScreenLayout;
use crate::ui::app::model::Model;

pub fn render(frame: &mut Frame, layout: &ScreenLayout, model: &Model) {
    let shown = model.fleet.shown.len();
    let areas = MetricsAreas::new(layout.body, shown);
    heatmap_view::render(frame, areas.heatmap, &areas.grid(shown), model);
    if let Some(area) = areas.top {
        top_view::render(frame, area, model);
    }
    if let Some(area) = areas.charts {
        charts_view::render(frame, area, model);
    }
    if let Some(area) = areas.stats {
        stats_view::render(frame, area, model);
    }
    if let Some(area) = areas.focus {
        focus_view::render(frame, area, model);
    }
}
