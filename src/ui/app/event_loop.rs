//! The console's loop: key and resize events (from a reader thread), a clock tick and SIGTERM
//! become `Msg`s for `update`; the screen is redrawn only after something changed, and at
//! most `max_fps` times a second.

use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::model::Model;
use super::update::{Effect, Msg, update};
use super::views;
use crate::config::Home;
use crate::ui::theme::{ColorSupport, utf8_locale};

/// How often the status-bar clock is refreshed.
const CLOCK_TICK: Duration = Duration::from_secs(1);

/// Runs until the user quits or SIGTERM arrives. Drawing errors (a closed terminal) end it.
pub async fn run(
    terminal: &mut DefaultTerminal,
    model: &mut Model,
    home: &Home,
    max_fps: u32,
) -> std::io::Result<()> {
    let frame_gap = Duration::from_secs(1) / max_fps.clamp(1, 240);
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
            _ = clock.tick() => Msg::Tick(now_text()),
            _ = sigterm.recv() => return Ok(()),
            // Only armed while a frame waits for the fps cap.
            _ = tokio::time::sleep_until(next_frame), if dirty => continue,
        };
        dirty = true;
        for effect in update(model, msg) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::LoadTheme(name) => {
                    let loaded = load_theme(home, &name);
                    update(model, Msg::ThemeLoaded(loaded));
                }
            }
        }
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
