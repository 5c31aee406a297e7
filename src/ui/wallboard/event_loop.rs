//! The wallboard's loop: keys and resizes (from a reader thread), the reader's change notices,
//! a 1 s clock tick, SIGTERM and SIGHUP become `Msg`s for `update`; the screen is redrawn only
//! after something shown changed or a second passed (ages and the clock move), at most
//! `max_fps` times a second, each frame a synchronized update. It owns a `FleetReader` and
//! nothing else of the engine: there is no session, queue or transport here to misuse.

use std::time::{Duration, SystemTime};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::state::Wallboard;
use super::update::{Msg, Outcome, update};
use super::view;
use crate::engine::FleetReader;
use crate::ui::app::terminal::draw_synchronized;

/// Ages are shown to the second.
const CLOCK_TICK: Duration = Duration::from_secs(1);

/// Runs until quit (a key, SIGTERM, SIGHUP: the terminal went away) or until the terminal
/// fails. The reader (and its agent links) ends with it.
pub async fn run(
    terminal: &mut DefaultTerminal,
    wb: &mut Wallboard,
    reader: FleetReader,
    max_fps: u32,
) -> std::io::Result<()> {
    let frame_gap = Duration::from_secs(1) / max_fps.clamp(1, 240);
    let mut changes = reader.changes();
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    // crossterm's reads block; a thread keeps them off the runtime (it ends with the process).
    std::thread::spawn(move || {
        while let Ok(ev) = event::read() {
            if tx.send(ev).is_err() {
                break;
            }
        }
    });
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut clock = tokio::time::interval(CLOCK_TICK);
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
    update(wb, tick());
    update(wb, Msg::Snapshot(Box::new(reader.snapshot())));
    let mut dirty = true;
    let mut next_frame = Instant::now();
    loop {
        if dirty && Instant::now() >= next_frame {
            draw_synchronized(terminal, |frame| view::render(frame, wb))?;
            dirty = false;
            next_frame = Instant::now() + frame_gap;
        }
        let msg = tokio::select! {
            ev = rx.recv() => match ev {
                Some(Event::Key(key)) => Msg::Key(key),
                Some(Event::Resize(..)) => Msg::Resize,
                Some(_) => continue,
                // The reader thread ended: the terminal is gone.
                None => return Ok(()),
            },
            Ok(()) = changes.changed() => Msg::Snapshot(Box::new(reader.snapshot())),
            _ = clock.tick() => tick(),
            _ = sigterm.recv() => return Ok(()),
            _ = sighup.recv() => return Ok(()),
            // Only armed while a frame waits for the fps cap.
            _ = tokio::time::sleep_until(next_frame), if dirty => continue,
        };
        match update(wb, msg) {
            Outcome::Quit => return Ok(()),
            Outcome::Redraw => dirty = true,
            Outcome::Unchanged => {}
        }
    }
}

fn tick() -> Msg {
    Msg::Tick {
        now: SystemTime::now(),
        clock: crate::ui::app::event_loop::now_text(),
    }
}
