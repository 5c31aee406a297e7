//! The one way into the model: `update(model, msg)` takes a key, tick, resize or the result
//! of an effect, hands it to whoever it concerns (the open popup, the view on screen through
//! its keys.rs, or the shell's own keys: views, help, `:`, quit), and returns the effects
//! (I/O) the event loop must perform. It performs none itself and draws nothing.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use ratatui::layout::Rect;

use super::fleet::{Facts, SortColumn};
use super::layout::ScreenLayout;
use super::model::{Model, View};
use super::popup::Popup;
use super::{actions, commands, confirm, fleet, history, incidents, metrics, runs};
use crate::engine::EngineEvent;
use crate::ui::keymap::{Action, Lookup};

pub use super::msg::{ActionsLoad, Effect, Msg};

pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    let mut effects = handle(model, msg);
    // Whatever moved the Metrics view's focus, window or frame: its charts' series, once.
    effects.extend(metrics::keys::series_wanted(model));
    effects.extend(metrics::keys::stats_wanted(model));
    effects
}

fn handle(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(model, key),
        Msg::Resize(cols, rows) => {
            model.shell.layout = ScreenLayout::new(Rect::new(0, 0, cols, rows));
            Vec::new()
        }
        Msg::Tick { clock, now } => {
            model.shell.clock = clock;
            model.shell.now = now;
            runs::keys::on_tick(&mut model.runs, model.shell.view);
            Vec::new()
        }
        Msg::ThemeLoaded(Ok(theme)) => {
            model.shell.info(format!("theme {}", theme.name()));
            model.shell.theme = theme;
            Vec::new()
        }
        Msg::ThemeLoaded(Err(e)) => {
            model.shell.error(e);
            Vec::new()
        }
        Msg::Engine { run, event } => {
            runs::control::on_engine_event(&mut model.runs, &mut model.shell, &run, &event);
            if let EngineEvent::RunFinished { result } = &event {
                metrics::keys::after_run_finished(&mut model.metrics);
                let mut effects = history::keys::after_run_finished(&mut model.history);
                effects.extend(incidents::fix::after_run_finished(model, result));
                effects
            } else {
                Vec::new()
            }
        }
        Msg::HistoryLoaded { request, result } => {
            history::keys::on_loaded(&mut model.history, &mut model.shell, request, result);
            Vec::new()
        }
        Msg::RunOutputLoaded { id, output } => {
            history::keys::on_output_loaded(&mut model.history, &mut model.shell, &id, output);
            Vec::new()
        }
        Msg::StatsLoaded(result) => {
            metrics::keys::on_stats(&mut model.metrics, result);
            Vec::new()
        }
        Msg::Incidents(frame) => {
            incidents::keys::on_frame(&mut model.incidents, frame);
            Vec::new()
        }
        Msg::NotifyStatus(status) => {
            model.incidents.notify = status;
            Vec::new()
        }
        Msg::Runbooks(runbooks) => {
            model.incidents.runbooks = runbooks;
            Vec::new()
        }
        Msg::IncidentWritten(result) => {
            incidents::keys::on_written(&mut model.shell, result);
            Vec::new()
        }
        Msg::ActionsLoaded(load) => {
            actions::keys::on_loaded(model, load);
            Vec::new()
        }
        Msg::Connections(connections) => {
            model.connections = connections;
            if model
                .fleet
                .sort
                .is_some_and(|s| s.column == SortColumn::Connection)
            {
                let facts = Facts {
                    metrics: &model.metrics_frame,
                    connections: &model.connections,
                    now: model.shell.now,
                };
                fleet::sort::resort(&mut model.fleet, &model.inventory, &facts);
            }
            Vec::new()
        }
        Msg::Metrics(frame) => {
            metrics::keys::on_frame(model, frame);
            Vec::new()
        }
        Msg::Series {
            host,
            window,
            points,
            at,
        } => {
            metrics::keys::on_series(model, &host, window, &points, at);
            Vec::new()
        }
        Msg::Queue(queue) => {
            runs::control::on_queue(&mut model.runs, &mut model.shell, &queue);
            Vec::new()
        }
        Msg::TransportsUnavailable(error) => {
            model.shell.error(format!(
                "ssh is unavailable, runs on ssh hosts will not start: {error}"
            ));
            Vec::new()
        }
        Msg::PassphraseWanted(key) => {
            super::passphrase::open(&mut model.shell, key);
            Vec::new()
        }
        Msg::RunNotStarted { run, error } => {
            runs::control::on_not_started(&mut model.runs, &mut model.shell, &run, &error);
            incidents::fix::after_not_started(model, &run, &error)
                .into_iter()
                .collect()
        }
    }
}

/// A key goes to whatever has it: the open popup or prompt, the Actions form, else the keymap.
fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let shell = &mut model.shell;
    match &mut shell.popup {
        // The Actions view's parameter form takes every key while it is open.
        Popup::None if shell.view == View::Actions && model.actions.form.is_some() => {
            actions::form_keys::on_form_key(&mut model.actions, shell, &model.protected_envs, key)
        }
        Popup::None => on_normal_key(model, key),
        Popup::Filter => {
            match shell.view {
                View::History => history::keys::on_filter_key(&mut model.history, shell, &key),
                View::Actions => actions::keys::on_filter_key(&mut model.actions, shell, &key),
                View::Incidents => {
                    incidents::keys::on_filter_key(&mut model.incidents, shell, &key);
                }
                _ => {
                    let facts = Facts {
                        metrics: &model.metrics_frame,
                        connections: &model.connections,
                        now: shell.now,
                    };
                    fleet::keys::on_filter_key(
                        &mut model.fleet,
                        &model.inventory,
                        &facts,
                        shell,
                        &key,
                    );
                }
            }
            Vec::new()
        }
        Popup::Search(_) => {
            runs::search::on_key(&mut model.runs, shell, &key);
            Vec::new()
        }
        Popup::Command => commands::on_key(model, key),
        Popup::Confirm(_) => confirm::on_key(model, key),
        Popup::Passphrase { .. } => super::passphrase::on_key(shell, key),
        Popup::Prompt(_) => incidents::keys::on_prompt_key(shell, &key),
        Popup::Help { scroll } => {
            // Any of the keys that open or close things closes help; others are ignored so a
            // stray key does not act on the view hidden behind it.
            let closes =
                matches!(key.code, KeyCode::Esc | KeyCode::Char('q' | '?')) || is_ctrl_c(&key);
            match key.code {
                _ if closes => {
                    shell.close();
                }
                KeyCode::Char('j') | KeyCode::Down => *scroll = scroll.saturating_add(1),
                KeyCode::Char('k') | KeyCode::Up => *scroll = scroll.saturating_sub(1),
                _ => {}
            }
            Vec::new()
        }
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL)
}

fn on_normal_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let context = model.context();
    let shell = &mut model.shell;
    match shell.dispatcher.feed(&shell.keymap, context, &key) {
        Some(Lookup::Matched(action)) => {
            shell.clear_message();
            apply(model, action)
        }
        Some(Lookup::NotFound) => {
            let text = format!(
                "no key `{}` in the {} view; ? lists the keys",
                crate::ui::keymap::key::display_sequence(
                    &crate::ui::keymap::Key::from_event(&key)
                        .into_iter()
                        .collect::<Vec<_>>()
                ),
                shell.view.title()
            );
            shell.error(text);
            Vec::new()
        }
        Some(Lookup::Pending | Lookup::Cancelled) | None => Vec::new(),
    }
}

/// Performs one keymap action: the view on screen first, then the shell's own.
pub fn apply(model: &mut Model, action: Action) -> Vec<Effect> {
    let before = model.shell.view;
    let handled = match before {
        View::Fleet => {
            let facts = Facts {
                metrics: &model.metrics_frame,
                connections: &model.connections,
                now: model.shell.now,
            };
            fleet::keys::apply(
                &mut model.fleet,
                &model.inventory,
                &facts,
                &mut model.shell,
                action,
            )
            .then(Vec::new)
        }
        View::History => history::keys::apply(model, action),
        View::Runs => runs::keys::apply(model, action),
        View::Actions => actions::keys::apply(model, action),
        View::Metrics => metrics::keys::apply(model, action),
        View::Incidents => incidents::keys::apply(model, action),
    };
    if let Some(effects) = handled {
        return effects;
    }
    let facts = Facts {
        metrics: &model.metrics_frame,
        connections: &model.connections,
        now: model.shell.now,
    };
    let shell = &mut model.shell;
    match action {
        Action::ClearMarks => model.fleet.marked.clear(),
        Action::CommandLine => commands::open(shell, ""),
        Action::Help => shell.open(Popup::Help { scroll: 0 }),
        // Esc in a view that does not take it drops the fleet's filter, then its target.
        Action::Back => fleet::keys::back(&mut model.fleet, &model.inventory, &facts, shell),
        Action::NextView => shell.view = shell.view.shifted(1),
        Action::PrevView => shell.view = shell.view.shifted(-1),
        Action::ViewFleet => shell.view = View::Fleet,
        Action::ViewRuns => shell.view = View::Runs,
        Action::ViewMetrics => shell.view = View::Metrics,
        Action::ViewIncidents => shell.view = View::Incidents,
        Action::ViewHistory => shell.view = View::History,
        Action::ViewActions => shell.view = View::Actions,
        Action::Quit => return confirm::ask_quit(model),
        Action::RunCommand => commands::open(shell, "run "),
        Action::RerunFailed => shell.info(
            "rerun_failed: rerunning from the console is not built yet; use `fleetdeck history rerun ID --failed`",
        ),
        other => {
            let text = format!(
                "{} does nothing in the {} view yet",
                other.name(),
                shell.view.title()
            );
            shell.info(text);
        }
    }
    if model.shell.view == View::History && before != View::History {
        return history::keys::on_view_shown(&mut model.history);
    }
    Vec::new()
}
