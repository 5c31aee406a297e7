//! The console's loop: key and resize events (from a reader thread), engine events of the
//! runs it submitted (bounded channel), the fleet session's changes (queue, link states,
//! metrics frames), a clock tick, passphrase questions of the SSH transport and SIGTERM become
//! `Msg`s for `update`; the screen is redrawn only after something changed, at most `max_fps`
//! times a second, each frame inside a synchronized update. The focused host's chart series
//! is copied out of the session only when the Metrics view asks (`Effect::LoadSeries`: at most
//! once per host, window and frame); run statistics are counted on a blocking thread
//! (`Effect::LoadStats`). Everything that reaches hosts is the session's; this loop
//! never names a transport.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use super::connections::Connections;
use super::history::load as history_load;
use super::incident_task;
use super::model::Model;
use super::run_task::submit_run;
use super::terminal::draw_synchronized;
use super::update::{Effect, Msg, update};
use super::views;
use crate::config::{Home, Settings};
use crate::engine::session::passphrase::PassphraseRequest;
use crate::engine::{ENGINE_CHANNEL, FleetSession, QueueSnapshot, SessionEvent};
use crate::ui::theme::{ColorSupport, utf8_locale};

/// How often the status-bar clock is refreshed.
const CLOCK_TICK: Duration = Duration::from_secs(1);
/// Runs until the user quits or SIGTERM arrives. Drawing errors (a closed terminal) end it.
/// Runs go through `session`, which outlives the loop: the caller shuts it down (which
/// cancels and records what is still queued or running).
pub async fn run(
    terminal: &mut DefaultTerminal,
    model: &mut Model,
    home: &Home,
    settings: &Settings,
    session: &FleetSession,
) -> std::io::Result<()> {
    let frame_gap = Duration::from_secs(1) / settings.ui.max_fps.clamp(1, 240);
    let (engine_tx, mut engine_rx) = mpsc::channel::<SessionEvent>(ENGINE_CHANNEL);
    let mut changes = session.changes();
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    // Answers of the History view's file reads (one per request a key or a run made).
    let (load_tx, mut load_rx) = mpsc::unbounded_channel::<Msg>();
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
    // Questions wait here, oldest first; the popup shows the first. Dropped with the loop,
    // which answers them "declined".
    let mut asks: VecDeque<PassphraseRequest> = VecDeque::new();
    let mut ask_rx = session.take_passphrase_requests();
    let size = terminal.size()?;
    update(model, Msg::Resize(size.width, size.height));
    update(model, tick());
    let snapshot = session.snapshot();
    if let Some(problem) = snapshot.problem {
        // Local hosts still run; SSH runs say why they cannot start.
        update(model, Msg::TransportsUnavailable(problem));
    }
    update(
        model,
        Msg::Connections(Connections {
            by_host: snapshot.connections,
        }),
    );
    update(model, Msg::Metrics(snapshot.metrics));
    update(model, Msg::Incidents(snapshot.incidents));
    // A few small files, read once like a theme: on the loop, before the first frame.
    let (catalog, _) = crate::action::Catalog::load_partial(home);
    match crate::incident::runbook::Runbooks::load(home, &catalog) {
        Ok(runbooks) => {
            update(model, Msg::Runbooks(Arc::new(runbooks)));
        }
        Err(diags) => {
            let first = diags.first().map(ToString::to_string).unwrap_or_default();
            model
                .shell
                .error(format!("runbooks.toml is not used: {first}"));
        }
    }
    let mut dirty = true;
    // The queue as the model last heard of it.
    let mut shown_queue = QueueSnapshot::default();
    let mut next_frame = Instant::now();
    loop {
        if dirty && Instant::now() >= next_frame {
            draw_synchronized(terminal, |frame| views::render(frame, model))?;
            dirty = false;
            next_frame = Instant::now() + frame_gap;
        }
        // Effects of what the loop told the model before the message below (a metrics frame
        // asks for the focused host's series); performed with the message's own.
        let mut effects: VecDeque<Effect> = VecDeque::new();
        let msg = tokio::select! {
            ev = rx.recv() => match ev {
                Some(Event::Key(key)) => Some(Msg::Key(key)),
                Some(Event::Resize(w, h)) => Some(Msg::Resize(w, h)),
                Some(_) => continue,
                // The reader thread ended: the terminal is gone.
                None => return Ok(()),
            },
            Some((run, event)) = engine_rx.recv() => Some(Msg::Engine { run, event }),
            Some(loaded) = load_rx.recv() => Some(loaded),
            Ok(()) = changes.changed() => {
                // The session also changes for what the console does not show (agent
                // heartbeats, alerts): redraw only when the links, the metrics frame or the
                // queue moved. A frame is shared, so comparing pointers is enough.
                let by_host = session.connections();
                let links_moved = by_host != model.connections.by_host;
                if links_moved {
                    update(model, Msg::Connections(Connections { by_host }));
                }
                let frame = session.metrics();
                let metrics_moved = !Arc::ptr_eq(&frame, &model.metrics_frame);
                if metrics_moved {
                    effects.extend(update(model, Msg::Metrics(frame)));
                }
                let incidents = session.incidents();
                let incidents_moved = !Arc::ptr_eq(&incidents, &model.incidents.frame);
                if incidents_moved {
                    update(model, Msg::Incidents(incidents));
                }
                let queue = session.queue();
                if queue != shown_queue {
                    shown_queue = queue.clone();
                    Some(Msg::Queue(queue))
                } else if links_moved || metrics_moved || incidents_moved {
                    None
                } else {
                    continue;
                }
            }
            Some(ask) = recv_ask(&mut ask_rx) => {
                let key = ask.key.clone();
                asks.push_back(ask);
                if asks.len() > 1 {
                    continue;
                }
                Some(Msg::PassphraseWanted(key))
            }
            _ = clock.tick() => {
                let notify = session.notify_status();
                if notify != model.incidents.notify {
                    update(model, Msg::NotifyStatus(notify));
                }
                Some(tick())
            }
            _ = sigterm.recv() => {
                stop_runs(session, engine_rx).await;
                return Ok(());
            }
            // Only armed while a frame waits for the fps cap.
            _ = tokio::time::sleep_until(next_frame), if dirty => continue,
        };
        dirty = true;
        // In order: an effect's answer may bring effects of its own, which come after.
        if let Some(msg) = msg {
            effects.extend(update(model, msg));
        }
        while let Some(effect) = effects.pop_front() {
            match effect {
                Effect::Quit => {
                    stop_runs(session, engine_rx).await;
                    return Ok(());
                }
                Effect::LoadHistory { request } => {
                    history_load::spawn_load_history(home, settings, request, load_tx.clone());
                }
                Effect::LoadRunOutput(id) => {
                    history_load::spawn_load_run_output(home, settings, id, load_tx.clone());
                }
                Effect::LoadSeries { host, window } => {
                    // A copy of one host's points under the session's lock: cheap, on the loop.
                    let points = session.series(&host, window);
                    let at = SystemTime::now();
                    effects.extend(update(
                        model,
                        Msg::Series {
                            host,
                            window,
                            points,
                            at,
                        },
                    ));
                }
                Effect::WriteIncident(write) => {
                    incident_task::spawn_write(session, write, load_tx.clone());
                }
                Effect::RecordIncidentRun {
                    incidents,
                    run,
                    result,
                } => {
                    incident_task::spawn_record_run(
                        session,
                        incidents,
                        run,
                        result,
                        load_tx.clone(),
                    );
                }
                Effect::AnalyseIncident(ask) => {
                    incident_task::spawn_analyse(session, ask, load_tx.clone());
                }
                Effect::LoadStats { since } => {
                    spawn_load_stats(home, settings, since, load_tx.clone());
                }
                Effect::LoadActions => {
                    // A few small files, read like a theme: on the loop, never while drawing.
                    let (catalog, problems) = crate::action::Catalog::load_partial(home);
                    let dir = home.actions_dir();
                    let load = super::msg::ActionsLoad {
                        catalog,
                        problems,
                        dir,
                    };
                    effects.extend(update(model, Msg::ActionsLoaded(load)));
                }
                Effect::LoadTheme(name) => {
                    let loaded = load_theme(home, &name);
                    effects.extend(update(model, Msg::ThemeLoaded(loaded)));
                }
                Effect::AnswerPassphrase(answer) => {
                    if let Some(ask) = asks.pop_front() {
                        // The transport may have given up waiting (its run was cancelled).
                        let _ = ask.reply.send(answer.map(|s| s.expose().to_string()));
                    }
                    if let Some(next) = asks.front() {
                        effects.extend(update(model, Msg::PassphraseWanted(next.key.clone())));
                    }
                }
                Effect::StartRun(start) => {
                    let id = start.id.clone();
                    let submitted = submit_run(home, settings, start, session, engine_tx.clone());
                    if let Err(error) = submitted {
                        effects.extend(update(model, Msg::RunNotStarted { run: id, error }));
                    }
                    // Shown queued (or running) in the frame drawn next, not one change later.
                    effects.extend(show_queue(model, session, &mut shown_queue));
                }
                Effect::CancelRun(id) => {
                    session.cancel(&id);
                    effects.extend(show_queue(model, session, &mut shown_queue));
                }
                Effect::PauseRun(id) => {
                    session.pause(&id);
                    effects.extend(show_queue(model, session, &mut shown_queue));
                }
                Effect::ResumeRun(id) => {
                    session.resume(&id);
                    effects.extend(show_queue(model, session, &mut shown_queue));
                }
            }
        }
    }
}

/// Performs `Effect::LoadStats`: the whole history is read, so on a blocking thread; the
/// answer comes back on `tx`.
fn spawn_load_stats(
    home: &Home,
    settings: &Settings,
    since: Duration,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let records = crate::engine::Records::new(home, &settings.store);
    tokio::task::spawn_blocking(move || {
        let now = time::OffsetDateTime::now_utc();
        let from = time::Duration::try_from(since)
            .ok()
            .and_then(|d| now.checked_sub(d));
        let result = crate::engine::read_stats(&records, from);
        // The console may be gone (quitting): nobody needs the answer then.
        let _ = tx.send(Msg::StatsLoaded(result));
    });
}

/// The next passphrase question, or never once the transports' channel is gone.
async fn recv_ask(
    rx: &mut Option<mpsc::UnboundedReceiver<PassphraseRequest>>,
) -> Option<PassphraseRequest> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Tells the model where the queue is now (after the console changed it), and remembers it so
/// the session's change notice for the same move is not shown twice.
fn show_queue(model: &mut Model, session: &FleetSession, shown: &mut QueueSnapshot) -> Vec<Effect> {
    *shown = session.queue();
    update(model, Msg::Queue(shown.clone()))
}

/// How long quitting waits for cancelled runs to stop their commands and be recorded.
const QUIT_GRACE: Duration = Duration::from_secs(10);

/// Cancels every run still in flight or queued and waits (up to `QUIT_GRACE`) for the engine
/// to stop their commands and record them (queued ones as cancelled), with the screen still
/// up. Closing the event channel first lets the runs finish without anyone reading their
/// events.
async fn stop_runs(session: &FleetSession, engine_rx: mpsc::Receiver<SessionEvent>) {
    drop(engine_rx);
    session.stop_runs(QUIT_GRACE).await;
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

/// A clock tick: the time to show and the time metrics are measured at.
fn tick() -> Msg {
    Msg::Tick {
        clock: now_text(),
        now: SystemTime::now(),
    }
}

/// Local wall-clock time, HH:MM:SS (UTC when the offset is unknown, as `time` requires in
/// multi-threaded programs).
pub(crate) fn now_text() -> String {
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let format = time::macros::format_description!("[hour]:[minute]:[second]");
    now.format(&format).unwrap_or_default()
}
