//! `fleetdeck incidents`: the incident book from the command line. Listing first collects
//! the agents' undelivered alerts for a few seconds (a session that watches the inventory's
//! agent hosts records each alert in the book before acknowledging it) and polls
//! `[alertmanager]` once, unless `--offline`. `ack`, `resolve` and `note` write one line to
//! the book and one to audit.jsonl; an unknown or ambiguous id, or an action the incident's
//! state refuses, writes nothing (exit 2). Acknowledging an Alertmanager incident first makes
//! a silence of its labels there (karma's ack); if that fails nothing is written (exit 1).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::{IncidentsArgs, IncidentsCommand};
use crate::config::{Home, Settings, current_user};
use crate::diag::Error;
use crate::engine::alertmanager_feed::{
    AckSilence, ack_comment, host_index, poll_once, remember_open, silence_for_ack,
};
use crate::engine::incident_notices::{FLUSH_GRACE, Notices, notice};
use crate::engine::incidents::AlertRecorder;
use crate::engine::{AuditRecord, ConnState, FleetSession, Records, SessionOptions};
use crate::incident::alertmanager::AlertmanagerSource;
use crate::incident::{Book, BookError, Event, Incident};
use crate::inventory::{Host, TransportKind, load};
use crate::ui::printers::incidents::{
    render_list, render_list_json, render_show, render_show_json,
};
use crate::ui::printers::sanitize::sanitize;
use crate::ui::printers::write_stdout;

/// The longest collecting may take before listing.
const COLLECT_AT_MOST: Duration = Duration::from_secs(3);
/// Once every agent answered (or failed), collecting ends after this long without an alert.
const QUIET: Duration = Duration::from_millis(700);
/// How often the links are looked at while collecting.
const POLL: Duration = Duration::from_millis(50);
/// How long closing the agent links may take afterwards.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

pub fn run(home: &Home, settings: &Settings, args: &IncidentsArgs) -> Result<ExitCode, Error> {
    match &args.command {
        None => list(home, settings, args),
        Some(IncidentsCommand::Show { id, json }) => show(home, settings, id, *json),
        Some(IncidentsCommand::Ack { id, comment }) => {
            act(home, settings, id, Act::Ack(comment.as_deref()))
        }
        Some(IncidentsCommand::Resolve { id, comment }) => {
            act(home, settings, id, Act::Resolve(comment.as_deref()))
        }
        Some(IncidentsCommand::Note { id, text }) => act(home, settings, id, Act::Note(text)),
    }
}

fn list(home: &Home, settings: &Settings, args: &IncidentsArgs) -> Result<ExitCode, Error> {
    if !args.offline {
        collect(home, settings)?;
    }
    let book = open(home, settings)?;
    let incidents = book.list(args.all);
    let text = if args.json {
        render_list_json(&incidents)?
    } else {
        render_list(&incidents, args.all)
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn show(home: &Home, settings: &Settings, id: &str, json: bool) -> Result<ExitCode, Error> {
    let book = open(home, settings)?;
    let incident = book.find(id).map_err(|e| Error::Invalid(e.to_string()))?;
    let text = if json {
        render_show_json(incident)?
    } else {
        render_show(incident)
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy)]
enum Act<'a> {
    Ack(Option<&'a str>),
    Resolve(Option<&'a str>),
    Note(&'a str),
}

fn act(home: &Home, settings: &Settings, id: &str, act: Act<'_>) -> Result<ExitCode, Error> {
    let mut book = open(home, settings)?;
    let who = current_user();
    let mut ack_text = None;
    if let Act::Ack(comment) = act {
        match silence_first(&book, settings, id, &who, comment) {
            Ok(silence) => ack_text = ack_comment(&silence, comment),
            Err(Silence::Book(e)) => return Err(e),
            Err(Silence::Failed(why)) => {
                eprintln!(
                    "fleetdeck: error: {}; nothing was acknowledged",
                    clean(&why)
                );
                return Ok(ExitCode::from(1));
            }
        }
    }
    let (name, done, written) = match act {
        Act::Ack(_) => (
            "ack",
            "acknowledged",
            book.ack(id, &who, ack_text.as_deref()),
        ),
        Act::Resolve(comment) => ("resolve", "resolved", book.resolve(id, &who, comment)),
        Act::Note(text) => ("note", "noted", book.note(id, &who, text)),
    };
    let event = written.map_err(book_error)?;
    warn_damaged(&mut book);
    let Some(incident) = book.get(&event.id) else {
        return Err(Error::Invalid(format!(
            "incident {} is not in the book after writing to it",
            event.id
        )));
    };
    notify(home, settings, &event, incident);
    let what = match act_text(&act) {
        Some(text) => format!("{}: {text}", incident.title),
        None => incident.title.clone(),
    };
    let audit = AuditRecord::incident(name, &incident.id, &what, &incident.hosts, "ok");
    write_stdout(&format!(
        "{done} incident {} ({})\n",
        incident.id,
        clean(&incident.title)
    ))?;
    if let Err(e) = Records::new(home, &settings.store).append_audit(&audit) {
        eprintln!(
            "fleetdeck: error: incident {} was {done}, but the audit line could not be \
             written: {e}",
            incident.id
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Tells the `[notify]` sinks (if any) what `event` did, waiting at most `FLUSH_GRACE`.
fn notify(home: &Home, settings: &Settings, event: &Event, incident: &Incident) {
    if notice(event, incident).is_none() {
        return;
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(async {
            let notices = Notices::start(home, settings);
            notices.event(event, incident);
            notices.flush(FLUSH_GRACE).await;
        }),
        Err(e) => eprintln!("fleetdeck: warning: no notification sent: {e}"),
    }
}

/// Why an acknowledgement stopped before the book.
enum Silence {
    /// The id names no incident, or an ambiguous one (bad input).
    Book(Error),
    /// Alertmanager could not make the silence.
    Failed(String),
}

/// The silence an ack of the incident `id` names makes first (see `silence_for_ack`); with
/// no `[alertmanager] url`, said on stderr: the book is acknowledged, Alertmanager is not told.
fn silence_first(
    book: &Book,
    settings: &Settings,
    id: &str,
    who: &str,
    comment: Option<&str>,
) -> Result<AckSilence, Silence> {
    let incident = book
        .find(id)
        .map_err(|e| Silence::Book(Error::Invalid(format!("{e}; nothing was written"))))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Silence::Failed(format!("cannot start the async runtime: {e}")))?;
    let silence = runtime
        .block_on(silence_for_ack(
            incident,
            &settings.alertmanager,
            who,
            comment,
        ))
        .map_err(Silence::Failed)?;
    if silence == AckSilence::NoUrl {
        eprintln!(
            "fleetdeck: warning: [alertmanager] url is empty: incident {} is acknowledged \
             here only, no silence is made",
            incident.id
        );
    }
    Ok(silence)
}

fn act_text<'a>(act: &Act<'a>) -> Option<&'a str> {
    match act {
        Act::Ack(c) | Act::Resolve(c) => *c,
        Act::Note(t) => Some(t),
    }
}

/// The book of `home`, its damaged lines said on stderr.
fn open(home: &Home, settings: &Settings) -> Result<Book, Error> {
    let mut book = Book::for_home(home, &settings.store).map_err(book_error)?;
    warn_damaged(&mut book);
    Ok(book)
}

fn warn_damaged(book: &mut Book) {
    for damaged in book.take_damaged() {
        eprintln!(
            "fleetdeck: warning: skipped a damaged line: {}",
            clean(&damaged.to_string())
        );
    }
}

fn book_error(e: BookError) -> Error {
    if e.is_bad_input() {
        Error::Invalid(format!("{e}; nothing was written"))
    } else {
        Error::Invalid(format!("incident book: {e}"))
    }
}

fn clean(text: &str) -> String {
    sanitize(text.as_bytes(), false).replace('\n', " ")
}

/// Collects the agents' undelivered alerts into the book: a session that watches every
/// agent host of the inventory, for at most `COLLECT_AT_MOST`. Agents that cannot be reached
/// are said on stderr; they keep their alerts for later.
fn collect(home: &Home, settings: &Settings) -> Result<(), Error> {
    let inventory = load::load(&home.hosts_file()).map_err(Error::Config)?;
    let agents: Vec<Host> = inventory
        .hosts()
        .iter()
        .filter(|h| h.transport == TransportKind::Agent)
        .cloned()
        .collect();
    let alertmanager = AlertmanagerSource::from_settings(&settings.alertmanager)
        .map_err(|e| Error::Invalid(format!("[alertmanager] in config.toml: {e}")))?;
    if agents.is_empty() && alertmanager.is_none() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start the async runtime: {e}")))?;
    let (unanswered, polled) = runtime.block_on(async {
        // Both at once: the agents' few seconds cover Alertmanager's answer.
        let polled = async {
            match alertmanager {
                Some(source) => {
                    Some(poll_alertmanager(home, settings, source, inventory.hosts()).await)
                }
                None => None,
            }
        };
        let agents_done = async {
            if agents.is_empty() {
                return Ok(Vec::new());
            }
            let options = SessionOptions {
                watch_agents: true,
                ..SessionOptions::new(agents.clone())
            };
            let session = FleetSession::open(home, settings, options)?;
            let unanswered = wait_for_alerts(&session, &agents).await;
            session.shutdown(CLOSE_GRACE).await;
            Ok::<_, Error>(unanswered)
        };
        let (unanswered, polled) = tokio::join!(agents_done, polled);
        Ok::<_, Error>((unanswered?, polled))
    })?;
    for (host, why) in unanswered {
        eprintln!(
            "fleetdeck: warning: {}: {}; its undelivered alerts were not collected",
            clean(&host),
            clean(&why)
        );
    }
    if let Some(Err(why)) = polled {
        eprintln!(
            "fleetdeck: warning: {}; the list may miss its alerts",
            clean(&why)
        );
    }
    Ok(())
}

/// One poll of Alertmanager into the book (after remembering the book's open Alertmanager
/// incidents, so those that ended are resolved). `Err` says why it could not be read.
async fn poll_alertmanager(
    home: &Home,
    settings: &Settings,
    mut source: AlertmanagerSource,
    hosts: &[Host],
) -> Result<(), String> {
    if let Ok(book) = Book::for_home(home, &settings.store) {
        remember_open(&mut source, &book);
    }
    let notices = Notices::start(home, settings);
    let recorder = AlertRecorder::new(home, &settings.store).with_notices(notices.clone());
    let polled = poll_once(&mut source, &host_index(hosts), &recorder).await;
    notices.flush(FLUSH_GRACE).await;
    let report = polled.map_err(|e| e.to_string())?;
    for failure in report.failures {
        eprintln!(
            "fleetdeck: warning: an Alertmanager alert is not in the book: {}",
            clean(&failure)
        );
    }
    Ok(())
}

/// Waits until every agent answered or failed and no alert came for `QUIET`, or
/// `COLLECT_AT_MOST` passed. The hosts that could not be asked, and why.
async fn wait_for_alerts(session: &FleetSession, agents: &[Host]) -> Vec<(String, String)> {
    let mut alerts = session.alerts();
    let start = Instant::now();
    let mut quiet_since = start;
    let mut settled_at: Option<Instant> = None;
    while start.elapsed() < COLLECT_AT_MOST {
        let links = session.connections();
        let settled = agents.iter().all(|h| {
            matches!(
                links.get(&h.name),
                Some(ConnState::Connected | ConnState::Failed { .. })
            )
        });
        if settled {
            let since = *settled_at.get_or_insert_with(Instant::now);
            if since.max(quiet_since).elapsed() >= QUIET {
                break;
            }
        }
        tokio::select! {
            alert = alerts.recv() => match alert {
                Some(_) => quiet_since = Instant::now(),
                None => break,
            },
            () = tokio::time::sleep(POLL) => {}
        }
    }
    let links = session.connections();
    agents
        .iter()
        .filter_map(|h| match links.get(&h.name) {
            Some(ConnState::Connected) => None,
            Some(ConnState::Failed { reason, .. }) => Some((h.name.clone(), reason.clone())),
            _ => Some((
                h.name.clone(),
                format!("no answer within {} s", COLLECT_AT_MOST.as_secs()),
            )),
        })
        .collect()
}
