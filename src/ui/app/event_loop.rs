//! The console's loop: key and resize events (from a reader thread), engine events of the
//! runs it started (bounded channel), a clock tick and SIGTERM become `Msg`s for `update`; the
//! screen is redrawn only after something changed, and at most `max_fps` times a second.

use std::collections::VecDeque;
use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::model::Model;
use super::run_task::{ENGINE_CHANNEL, RunTask, spawn_run};
use super::update::{Effect, Msg, update};
use super::views;
use crate::config::{Home, Settings};
use crate::engine::{EngineEvent, RunId};
use crate::ui::theme::{ColorSupport, utf8_locale};

/// How often the status-bar clock is refreshed.
const CLOCK_TICK: Duration = Duration::from_secs(1);
/// How long quitting waits for cancelled runs to stop their commands and be recorded.
const QUIT_GRACE: Duration = Duration::from_secs(10);

/// Runs until the user quits or SIGTERM arrives. Drawing errors (a closed terminal) end it.
pub async fn run(
    terminal: &mut DefaultTerminal,
    model: &mut Model,
    home: &Home,
    settings: &Settings,
) -> std::io::Result<()> {
    let frame_gap = Duration::from_secs(1) / settings.ui.max_fps.clamp(1, 240);
    let (engine_tx, mut engine_rx) = mpsc::channel::<(RunId, EngineEvent)>(ENGINE_CHANNEL);
    let mut tasks: Vec<(RunId, RunTask)> = Vec::new();
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    // crossterm's reads block; a thread keeps them off the runtime. It ends with the process
    // (or when the channel closes after the loop returns and the next event arrives).
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut clock = tokio::time::interval(CLOCK_TICK);
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let size = terminal.size()?;
    update(model, Msg::Resize(size.width, size.height));
    update(model, Msg::Tick(now_text()));
    let mut dirty = true;
    let mut next_frame = Instant::now();
    loop {
        if dirty && Instant::now() >= next_frame {
            terminal.draw(|frame| views::render(frame, model))?;
            dirty = false;
            next_frame = Instant::now() + frame_gap;
        }
        let msg = tokio::select! {
            ev = rx.recv() => match ev {
                Some(Event::Key(key)) => Msg::Key(key),
                Some(Event::Resize(w, h)) => Msg::Resize(w, h),
                Some(_) => continue,
                // The reader thread ended: the terminal is gone.
                None => return Ok(()),
            },
            Some((run, event)) = engine_rx.recv() => Msg::Engine { run, event },
            _ = clock.tick() => Msg::Tick(now_text()),
            _ = sigterm.recv() => {
                stop_runs(tasks, engine_rx).await;
                return Ok(());
            }
            // Only armed while a frame waits for the fps cap.
            _ = tokio::time::sleep_until(next_frame), if dirty => continue,
        };
        dirty = true;
        // In order: an effect's answer may bring effects of its own, which come after.
        let mut effects: VecDeque<Effect> = update(model, msg).into();
        while let Some(effect) = effects.pop_front() {
            match effect {
                Effect::Quit => {
                    stop_runs(tasks, engine_rx).await;
                    return Ok(());
                }
                Effect::LoadTheme(name) => {
                    let loaded = load_theme(home, &name);
                    effects.extend(update(model, Msg::ThemeLoaded(loaded)));
                }
                Effect::StartRun(start) => {
                    let id = start.id.clone();
                    match spawn_run(home, settings, start, engine_tx.clone()) {
                        Ok(task) => tasks.push((id, task)),
                        Err(error) => {
                            effects.extend(update(model, Msg::RunNotStarted { run: id, error }));
                        }
                    }
                }
                Effect::CancelRun(id) => {
                    if let Some((_, task)) = tasks.iter().find(|(run, _)| *run == id) {
                        task.cancel.cancel();
                    }
                }
            }
        }
        // Finished runs need nothing more from the loop.
        tasks.retain(|(_, task)| !task.task.is_finished());
    }
}

/// Cancels every run still in flight and waits (up to `QUIT_GRACE`) for the engine to stop
/// their commands and record them. Closing the event channel first lets the runs finish
/// without anyone reading their events.
async fn stop_runs(tasks: Vec<(RunId, RunTask)>, engine_rx: mpsc::Receiver<(RunId, EngineEvent)>) {
    drop(engine_rx);
    for (_, task) in &tasks {
        task.cancel.cancel();
    }
    let all = async {
        for (id, task) in tasks {
            if let Err(e) = task.task.await {
                tracing::error!(run = %id, error = %e, "a console run task failed");
            }
        }
    };
    if tokio::time::timeout(QUIT_GRACE, all).await.is_err() {
        tracing::warn!("runs did not stop within {QUIT_GRACE:?}; quitting anyway");
    }
}

/// Loads a theme as the console shows it (colour support and symbols of this terminal); the
/// error lists every problem at file:line:column.
pub fn load_theme(home: &Home, name: &str) -> Result<crate::ui::theme::Theme, String> {
    match crate::ui::theme::load(home, name) {
        Ok((theme, _warnings)) => Ok(theme
            .adapt(ColorSupport::from_env())
            .with_ascii_symbols(!locale_is_utf8())),
        Err(diags) => Err(diags
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")),
    }
}

fn locale_is_utf8() -> bool {
    let var = |k: &str| std::env::var(k).ok();
    utf8_locale(
        var("LC_ALL").as_deref(),
        var("LC_CTYPE").as_deref(),
        var("LANG").as_deref(),
    )
}

/// Local wall-clock time, HH:MM:SS (UTC when the offset is unknown, as `time` requires in
/// multi-threaded programs).
fn now_text() -> String {
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let format = time::macros::format_description!("[hour]:[minute]:[second]");
    now.format(&format).unwrap_or_default()
}
