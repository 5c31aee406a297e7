//! The one place the model changes: `update(model, msg)` handles a key, tick, resize or the
//! result of an effect, and returns the effects (I/O) the event loop must perform.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::commands;
use super::confirm;
use super::filter;
use super::history::{HistoryPage, RunOutput};
use super::model::{Message, Mode, Model, View};
use super::runs::RunStart;
use crate::engine::{EngineEvent, RunId};
use crate::ui::keymap::{Action, Lookup};
use crate::ui::theme::Theme;

/// Everything that can happen to the console.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// A clock tick, with the time to show.
    Tick(String),
    /// The result of [`Effect::LoadTheme`]: the theme, or the error text (file:line:column).
    ThemeLoaded(Result<Theme, String>),
    /// An event of a run the loop started.
    Engine {
        run: RunId,
        event: EngineEvent,
    },
    /// [`Effect::StartRun`] failed before the engine ran anything (the error says why).
    RunNotStarted {
        run: RunId,
        error: String,
    },
    /// The transports' connection states now (taken by the loop on ticks).
    Connections(super::connections::Connections),
    /// The run queue now (taken by the loop whenever it changes).
    Queue(crate::engine::QueueSnapshot),
    /// The transports could not be set up (a broken ssh config): SSH runs will not start.
    TransportsUnavailable(String),
    /// The SSH transport needs this key file's passphrase: open the masked popup.
    PassphraseWanted(std::path::PathBuf),
    /// The answer to [`Effect::LoadHistory`]: the newest runs, or why history.jsonl could
    /// not be read.
    HistoryLoaded {
        request: u64,
        result: Result<HistoryPage, String>,
    },
    /// The answer to [`Effect::LoadRunOutput`]: the run's recorded output, per host.
    RunOutputLoaded {
        id: RunId,
        output: Result<Arc<RunOutput>, String>,
    },
    /// The action catalog as read (`Catalog::load_partial`), its problems, and its folder.
    ActionsLoaded(ActionsLoad),
}

/// What reading the actions folder found.
#[derive(Debug, Clone)]
pub struct ActionsLoad {
    pub catalog: crate::action::Catalog,
    pub problems: Vec<crate::diag::Diagnostic>,
    pub dir: std::path::PathBuf,
}

/// I/O `update` asks for; the event loop performs it and may answer with a [`Msg`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Quit, cancelling runs in flight first (the user confirmed).
    Quit,
    /// Start the engine on a confirmed run; its events come back as `Msg::Engine`.
    StartRun(RunStart),
    /// Cancel a run in flight: a queued one leaves the queue, a running one is stopped.
    CancelRun(RunId),
    /// Pause a running run before its next host starts.
    PauseRun(RunId),
    /// Resume a paused run.
    ResumeRun(RunId),
    /// Load theme NAME (user file or built-in) and answer with `Msg::ThemeLoaded`.
    LoadTheme(String),
    /// Answer the oldest passphrase question (`None`: declined).
    AnswerPassphrase(Option<super::passphrase::Secret>),
    /// Read the newest runs of history.jsonl (off the runtime) and answer with
    /// `Msg::HistoryLoaded` carrying `request`.
    LoadHistory { request: u64 },
    /// Read runs/<id>.jsonl (bounded per host) and answer with `Msg::RunOutputLoaded`.
    LoadRunOutput(RunId),
    /// Read the action templates again (`R` in the Actions view): `Msg::ActionsLoaded`.
    LoadActions,
}

/// Rows around the body: tabs, status bar and message line.
const CHROME_ROWS: u16 = 3;
/// Rows inside the fleet table that are not hosts: borders and header.
const TABLE_CHROME_ROWS: u16 = 3;

pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(model, key),
        Msg::Resize(cols, rows) => {
            super::history_keys::on_resize(model, cols, rows);
            model.page_rows = rows.saturating_sub(CHROME_ROWS + TABLE_CHROME_ROWS).max(1) as usize;
            model.run_body =
                super::views::runs::body_area(ratatui::layout::Rect::new(0, 0, cols, rows));
            Vec::new()
        }
        Msg::Tick(clock) => {
            model.clock = clock;
            super::runs_keys::on_tick(model);
            Vec::new()
        }
        Msg::ThemeLoaded(Ok(theme)) => {
            model.message = Some(Message::Info(format!("theme {}", theme.name())));
            model.theme = theme;
            Vec::new()
        }
        Msg::ThemeLoaded(Err(e)) => {
            model.message = Some(Message::Error(e));
            Vec::new()
        }
        Msg::Engine { run, event } => {
            on_engine_event(model, &run, &event);
            if matches!(event, EngineEvent::RunFinished { .. }) {
                super::history_keys::after_run_finished(model)
            } else {
                Vec::new()
            }
        }
        Msg::HistoryLoaded { request, result } => {
            super::history_keys::on_loaded(model, request, result);
            Vec::new()
        }
        Msg::RunOutputLoaded { id, output } => {
            super::history_keys::on_output_loaded(model, &id, output);
            Vec::new()
        }
        Msg::ActionsLoaded(load) => {
            super::action_keys::on_loaded(model, load);
            Vec::new()
        }
        Msg::Connections(connections) => {
            model.connections = connections;
            Vec::new()
        }
        Msg::Queue(queue) => {
            super::runs_keys::on_queue(model, &queue);
            Vec::new()
        }
        Msg::TransportsUnavailable(error) => {
            model.message = Some(Message::Error(format!(
                "ssh is unavailable, runs on ssh hosts will not start: {error}"
            )));
            Vec::new()
        }
        Msg::PassphraseWanted(key) => {
            super::passphrase::open(model, key);
            Vec::new()
        }
        Msg::RunNotStarted { run, error } => {
            if let Some(r) = model.runs.iter_mut().find(|r| r.id == run) {
                r.start_error = Some(error.clone());
            }
            model.message = Some(Message::Error(format!("run {run} did not start: {error}")));
            Vec::new()
        }
    }
}

fn on_engine_event(model: &mut Model, run: &str, event: &EngineEvent) {
    let Some(r) = model.runs.iter_mut().find(|r| r.id == run) else {
        return;
    };
    r.apply(event);
    if let EngineEvent::RunFinished { result } = event {
        let c = r.counts();
        // Finished runs hold their output: keep the console's memory within its budget.
        super::runs::prune_finished(&mut model.runs, &mut model.run_selected);
        let text = format!(
            "run {} {}: {} ok, {} failed",
            result.id, result.status, c.ok, c.failed
        );
        model.message = Some(if c.failed > 0 {
            Message::Error(text)
        } else {
            Message::Info(text)
        });
    }
}

fn on_key(model: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // The Runs view's `/` prompt (a pane search) takes the keys while it is open.
    if model.run_search.is_some() && model.mode == Mode::Normal {
        return super::run_search::on_key(model, key);
    }
    // The Actions view's parameter form takes every key while it is open.
    if model.mode == Mode::Normal && model.view == View::Actions && model.actions.form.is_some() {
        return super::action_keys::on_form_key(model, key);
    }
    match model.mode {
        Mode::Normal => on_normal_key(model, key),
        Mode::Filter if model.view == View::History => {
            super::history_keys::on_filter_key(model, key);
            Vec::new()
        }
        Mode::Filter if model.view == View::Actions => {
            super::action_keys::on_filter_key(model, key);
            Vec::new()
        }
        Mode::Filter => {
            on_filter_key(model, key);
            Vec::new()
        }
        Mode::Command => commands::on_key(model, key),
        Mode::Confirm => confirm::on_key(model, key),
        Mode::Passphrase => super::passphrase::on_key(model, key),
        Mode::Help => {
            // Any of the keys that open or close things closes help; others are ignored so a
            // stray key does not act on the view hidden behind it.
            let closes =
                matches!(key.code, KeyCode::Esc | KeyCode::Char('q' | '?')) || is_ctrl_c(&key);
            match key.code {
                _ if closes => model.mode = Mode::Normal,
                KeyCode::Char('j') | KeyCode::Down => {
                    model.help_scroll = model.help_scroll.saturating_add(1);
                }
                KeyCode::Char('k') | KeyCode::Up => {
                    model.help_scroll = model.help_scroll.saturating_sub(1);
                }
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
    match model.dispatcher.feed(&model.keymap, context, &key) {
        Some(Lookup::Matched(action)) => {
            model.message = None;
            apply(model, action)
        }
        Some(Lookup::NotFound) => {
            model.message = Some(Message::Error(format!(
                "no key `{}` in the {} view; ? lists the keys",
                crate::ui::keymap::key::display_sequence(
                    &crate::ui::keymap::Key::from_event(&key)
                        .into_iter()
                        .collect::<Vec<_>>()
                ),
                model.view.title()
            )));
            Vec::new()
        }
        Some(Lookup::Pending | Lookup::Cancelled) | None => Vec::new(),
    }
}

/// Performs one keymap action.
pub fn apply(model: &mut Model, action: Action) -> Vec<Effect> {
    let last = model.shown.len().saturating_sub(1);
    let half = (model.page_rows / 2).max(1);
    let fleet = model.view == View::Fleet;
    let before = model.view;
    if model.view == View::History
        && let Some(effects) = super::history_keys::apply(model, action)
    {
        return effects;
    }
    if model.view == View::Runs
        && let Some(effects) = super::runs_keys::apply(model, action)
    {
        return effects;
    }
    if model.view == View::Actions
        && let Some(effects) = super::action_keys::apply(model, action)
    {
        return effects;
    }
    match action {
        Action::MoveDown if fleet => model.cursor = (model.cursor + 1).min(last),
        Action::MoveUp if fleet => model.cursor = model.cursor.saturating_sub(1),
        Action::Top if fleet => model.cursor = 0,
        Action::Bottom if fleet => model.cursor = last,
        Action::HalfPageDown if fleet => model.cursor = (model.cursor + half).min(last),
        Action::HalfPageUp if fleet => model.cursor = model.cursor.saturating_sub(half),
        Action::Filter if fleet => {
            model.dispatcher.reset();
            model.mode = Mode::Filter;
        }
        Action::Mark if fleet => {
            if let Some(name) = model.current_host().map(|h| h.name.clone()) {
                if !model.marked.remove(&name) {
                    model.marked.insert(name);
                }
                // Like mutt and ranger: marking moves on, so space space space marks a run.
                model.cursor = (model.cursor + 1).min(last);
            }
        }
        Action::MarkAllShown if fleet => {
            let names: Vec<String> = model.shown_hosts().map(|h| h.name.clone()).collect();
            model.marked.extend(names);
        }
        Action::ClearMarks => model.marked.clear(),
        Action::CommandLine => {
            model.dispatcher.reset();
            model.command.input.clear();
            model.command.history_pos = None;
            model.command.candidates.clear();
            model.mode = Mode::Command;
        }
        Action::Help => {
            model.dispatcher.reset();
            model.help_scroll = 0;
            model.mode = Mode::Help;
        }
        Action::Back => back(model),
        Action::NextView => model.view = model.view.shifted(1),
        Action::PrevView => model.view = model.view.shifted(-1),
        Action::ViewFleet => model.view = View::Fleet,
        Action::ViewRuns => model.view = View::Runs,
        Action::ViewMetrics => model.view = View::Metrics,
        Action::ViewIncidents => model.view = View::Incidents,
        Action::ViewHistory => model.view = View::History,
        Action::ViewActions => model.view = View::Actions,
        Action::Quit => return confirm::ask_quit(model),
        Action::RunCommand => {
            model.dispatcher.reset();
            model.command.input = "run ".to_string();
            model.command.history_pos = None;
            model.command.candidates.clear();
            model.mode = Mode::Command;
        }
        Action::RerunFailed => {
            model.message = Some(Message::Info(
                "rerun_failed: rerunning from the console is not built yet; use `fleetdeck history rerun ID --failed`"
                    .to_string(),
            ));
        }
        other => {
            model.message = Some(Message::Info(format!(
                "{} does nothing in the {} view yet",
                other.name(),
                model.view.title()
            )));
        }
    }
    if model.view == View::History && before != View::History {
        return super::history_keys::on_view_shown(model);
    }
    Vec::new()
}

/// `esc`/`q`: drop the filter, then the target; with nothing to drop, say how to quit.
fn back(model: &mut Model) {
    if !model.filter.is_empty() {
        model.filter.clear();
        filter::refresh(model);
    } else if model.target.is_some() {
        model.target = None;
        filter::refresh(model);
        model.message = Some(Message::Info("target cleared: all hosts".to_string()));
    } else {
        model.message = Some(Message::Info("Q, C-c or :q quits".to_string()));
    }
}

fn on_filter_key(model: &mut Model, key: KeyEvent) {
    match key.code {
        KeyCode::Esc => {
            model.filter.clear();
            model.mode = Mode::Normal;
        }
        KeyCode::Enter => model.mode = Mode::Normal,
        KeyCode::Backspace => {
            model.filter.pop();
        }
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            model.filter.clear();
            model.mode = Mode::Normal;
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            model.filter.push(c);
        }
        _ => return,
    }
    model.cursor = 0;
    filter::refresh(model);
}
