//! The Metrics view's keys: moving over the heatmap's cells (`h` `j` `k` `l`, the arrows,
//! `g g`, `G`, `C-d`, `C-u`; the cursor is the Fleet view's), `enter` shows the host in the
//! Fleet table, `/` filters the hosts (the fleet's filter), `space`/`V` mark (the fleet's
//! marks), `m` switches the metric, `+`/`-` zoom the charts. Also what the view needs from the
//! rest of the console: a new metrics frame, the focused host's series, asked for at most once
//! per host, window and frame, and the run statistics, asked for when the view is shown and
//! again after runs finish, at most once per `STATS_INTERVAL`.
//! `!`, `u`, esc and the view switches are the shell's (update.rs).

use std::sync::Arc;
use std::time::SystemTime;

use super::areas::MetricsAreas;
use super::series::Charts;
use super::state::{MetricsState, STATS_INTERVAL, STATS_WINDOW, SeriesKey};
use crate::metrics::stats::RunStats;
use crate::metrics::{MetricsFrame, Point, Window};
use crate::ui::app::fleet::{self, Facts};
use crate::ui::app::model::{Model, View};
use crate::ui::app::msg::Effect;
use crate::ui::app::popup::Popup;
use crate::ui::keymap::Action;

/// Handles `action` if the Metrics view gives it a meaning; `None` leaves it to the shell.
pub fn apply(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let shown = model.fleet.shown.len();
    let grid = MetricsAreas::new(model.shell.layout.body, shown).grid(shown);
    let last = shown.saturating_sub(1);
    let cursor = &mut model.fleet.cursor;
    let half = (grid.visible_rows() / 2).max(1) as isize;
    match action {
        Action::MoveLeft => *cursor = cursor.saturating_sub(1),
        Action::MoveRight => *cursor = (*cursor + 1).min(last),
        Action::MoveDown => *cursor = grid.vertical(*cursor, 1),
        Action::MoveUp => *cursor = grid.vertical(*cursor, -1),
        Action::HalfPageDown => *cursor = grid.vertical(*cursor, half),
        Action::HalfPageUp => *cursor = grid.vertical(*cursor, -half),
        Action::Top => *cursor = 0,
        Action::Bottom => *cursor = last,
        Action::Filter => model.shell.open(Popup::Filter),
        // The cursor is the fleet's: the table opens on the same host.
        Action::Open => model.shell.view = View::Fleet,
        Action::Mark => {
            if fleet::keys::toggle_mark(&mut model.fleet, &model.inventory) {
                // Marking moves on, as in the Fleet table.
                model.fleet.cursor = (model.fleet.cursor + 1).min(last);
            }
        }
        Action::MarkAllShown => fleet::keys::mark_all(&mut model.fleet, &model.inventory),
        Action::CycleMetric => {
            model.metrics.cycle_metric();
            let name = model.metrics.metric.name();
            model.shell.info(format!("heatmap: {name}"));
        }
        Action::ZoomIn => {
            let to = model.metrics.window.narrower();
            zoom(model, to, Window::Min15);
        }
        Action::ZoomOut => {
            let to = model.metrics.window.wider();
            zoom(model, to, Window::Day7);
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// Moves the charts' window to `to`, unless already at the `end` of the zoom.
fn zoom(model: &mut Model, to: Window, end: Window) {
    let state = &mut model.metrics;
    if state.window == end {
        model
            .shell
            .info(format!("the charts already show {}", end.label()));
        return;
    }
    state.window = to;
    model.shell.info(format!("charts: the last {}", to.label()));
}

/// A new frame: kept, and the fleet re-sorted when it is sorted by a metric.
pub fn on_frame(model: &mut Model, frame: Arc<MetricsFrame>) {
    model.metrics_frame = frame;
    model.metrics.frames = model.metrics.frames.wrapping_add(1);
    if model
        .fleet
        .sort
        .is_some_and(|s| s.column.metric().is_some())
    {
        let facts = Facts {
            metrics: &model.metrics_frame,
            connections: &model.connections,
            now: model.shell.now,
        };
        fleet::sort::resort(&mut model.fleet, &model.inventory, &facts);
    }
}

/// The series the Metrics view needs and has not asked for: the focused host's, over the
/// window shown, once per metrics frame. `None` off the Metrics view or when asked already.
pub fn series_wanted(model: &mut Model) -> Option<Effect> {
    if model.shell.view != View::Metrics {
        return None;
    }
    let host = model.current_host()?.name.clone();
    let key = SeriesKey {
        host,
        window: model.metrics.window,
        frame: model.metrics.frames,
    };
    if model.metrics.requested.as_ref() == Some(&key) {
        return None;
    }
    let effect = Effect::LoadSeries {
        host: key.host.clone(),
        window: key.window,
    };
    model.metrics.requested = Some(key);
    Some(effect)
}

/// The answer to `Effect::LoadSeries`: charts, if still the series wanted.
pub fn on_series(model: &mut Model, host: &str, window: Window, points: &[Point], at: SystemTime) {
    let wanted = model
        .metrics
        .requested
        .as_ref()
        .is_some_and(|k| k.host == host && k.window == window);
    if wanted {
        model.metrics.charts = Some(Charts::build(host, window, points, at));
    }
}

/// The run statistics the panel needs: on the Metrics view, the first time and whenever
/// records may have changed, no sooner than `STATS_INTERVAL` after the last time (ticks come
/// back to ask for a change held back). `None` otherwise.
pub fn stats_wanted(model: &mut Model) -> Option<Effect> {
    let panel = &mut model.metrics.stats;
    if model.shell.view != View::Metrics {
        // Runs end here and in other processes while the view is away: read again on return.
        panel.stale = true;
        return None;
    }
    let now = model.shell.now;
    let due = match panel.asked_at {
        None => true,
        // A clock that went back is no reason to wait.
        Some(at) => panel.stale && !matches!(now.duration_since(at), Ok(d) if d < STATS_INTERVAL),
    };
    if !due {
        return None;
    }
    panel.asked_at = Some(now);
    panel.stale = false;
    Some(Effect::LoadStats {
        since: STATS_WINDOW,
    })
}

/// A console run finished (and is recorded): the statistics are out of date.
pub fn after_run_finished(state: &mut MetricsState) {
    state.stats.stale = true;
}

/// The answer to `Effect::LoadStats`.
pub fn on_stats(state: &mut MetricsState, result: Result<(RunStats, Vec<String>), String>) {
    state.stats.result = Some(result.map(|(stats, warnings)| (stats, warnings.len())));
}
