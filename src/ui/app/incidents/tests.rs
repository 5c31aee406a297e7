//! The Incidents view: key sequences over frames of real `Incident` values (grouping, filter,
//! detail, the ack/resolve/note prompts and the effects they ask for), TestBackend snapshots
//! at 80x24, 200x50 and 40x12, and an ack performed through a real `FleetSession` into the
//! book, as the event loop performs it.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::IncidentsFrame;
use crate::incident::{Incident, Severity, Source, State, TimelineEntry};
use crate::ui::app::model::Model;
use crate::ui::app::msg::IncidentWrite;
use crate::ui::app::popup::PromptAct;
use crate::ui::app::tests::{draw, model, press, text, type_text};
use crate::ui::app::update::{Effect, Msg, update};

fn entry(ts: &str, event: &str, who: Option<&str>, text: Option<&str>) -> TimelineEntry {
    TimelineEntry {
        ts: ts.into(),
        event: event.into(),
        who: who.map(Into::into),
        text: text.map(Into::into),
        run_id: None,
    }
}

fn incident(id: &str, title: &str, source: Source, severity: Severity, hosts: &[&str]) -> Incident {
    Incident {
        id: id.into(),
        source,
        fingerprint: format!("{title}/fp"),
        title: title.into(),
        severity,
        hosts: hosts.iter().map(|h| (*h).to_string()).collect(),
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        state: State::Open,
        count: 1,
        // 90 minutes before the tests' clock (2027-01-15T08:00:00Z).
        first_seen: "2027-01-15T06:30:00Z".into(),
        last_seen: "2027-01-15T07:55:00Z".into(),
        source_ts: None,
        resolved_at: None,
        timeline: vec![entry("2027-01-15T06:30:00.000Z", "opened", None, None)],
        timeline_dropped: 0,
    }
}

/// Two nginx incidents (critical, one acked), a disk warning from Alertmanager with labels,
/// annotations and a run on its timeline, a hostile title, and a resolved info.
pub(crate) fn frame() -> Arc<IncidentsFrame> {
    let mut nginx1 = incident(
        "a1b2",
        "nginx down",
        Source::Agent,
        Severity::Critical,
        &["web01", "web02", "web03"],
    );
    nginx1.count = 3;
    let mut nginx2 = incident(
        "c3d4",
        "nginx down",
        Source::Agent,
        Severity::Critical,
        &["web07"],
    );
    nginx2.state = State::Acked;
    nginx2.timeline.push(entry(
        "2027-01-15T07:00:00.000Z",
        "acked",
        Some("ana@ops1"),
        Some("on it"),
    ));
    let mut disk = incident(
        "e5f6",
        "disk almost full",
        Source::Alertmanager,
        Severity::Warning,
        &["db01"],
    );
    disk.labels = BTreeMap::from([
        ("alertname".into(), "DiskFull".into()),
        ("instance".into(), "db01:9100".into()),
    ]);
    disk.annotations =
        BTreeMap::from([("runbook_url".into(), "https://runbooks.example/disk".into())]);
    disk.timeline.push(TimelineEntry {
        ts: "2027-01-15T07:10:00.000Z".into(),
        event: "action_run".into(),
        who: Some("ana@ops1".into()),
        text: Some("ok".into()),
        run_id: Some("01KF3Z5Q8V4W7X9Y2B3C4D5E6F".into()),
    });
    disk.timeline.push(entry(
        "2027-01-15T07:20:00.000Z",
        "note",
        Some("bo@ops2"),
        Some("logs rotated"),
    ));
    let hostile = incident(
        "f7a8",
        "evil\u{1b}[2Jtitle\nwith newline",
        Source::Check,
        Severity::Warning,
        &["lab1"],
    );
    let mut old = incident(
        "b9c0",
        "load high",
        Source::Threshold,
        Severity::Info,
        &["db02"],
    );
    old.state = State::Resolved;
    Arc::new(IncidentsFrame {
        incidents: vec![nginx1, disk, nginx2, hostile, old],
        problem: None,
    })
}

fn on_view() -> Model {
    let mut m = model();
    update(&mut m, Msg::Incidents(frame()));
    press(&mut m, "4");
    m
}

fn selected(m: &Model) -> &str {
    m.incidents.selected().map_or("", |i| i.id.as_str())
}

#[test]
fn rows_are_grouped_and_the_grouping_cycles() {
    let mut m = on_view();
    // By title: nginx (2), disk, evil, load; the cursor skips headings.
    assert_eq!(selected(&m), "a1b2");
    press(&mut m, "j");
    assert_eq!(selected(&m), "c3d4");
    press(&mut m, "s");
    assert_eq!(m.incidents.grouping, super::Grouping::Source);
    assert_eq!(selected(&m), "c3d4", "the cursor stays on its incident");
    press(&mut m, "s");
    assert_eq!(m.incidents.grouping, super::Grouping::Host);
    press(&mut m, "s G");
    assert_eq!(m.incidents.grouping, super::Grouping::Title);
    assert_eq!(selected(&m), "b9c0");
}

#[test]
fn the_filter_narrows_and_esc_clears_it() {
    let mut m = on_view();
    press(&mut m, "/");
    type_text(&mut m, "db0");
    assert_eq!(m.incidents.shown_count(), 2);
    press(&mut m, "enter");
    assert_eq!(m.shell.popup.name(), "none");
    assert_eq!(selected(&m), "e5f6");
    press(&mut m, "esc");
    assert_eq!(m.incidents.shown_count(), 5);
}

#[test]
fn ack_asks_for_a_comment_then_asks_the_loop_to_write() {
    let mut m = on_view();
    assert!(press(&mut m, "a").is_empty());
    assert_eq!(m.shell.popup.name(), "prompt");
    type_text(&mut m, "on it");
    let effects = press(&mut m, "enter");
    assert_eq!(
        effects,
        [Effect::WriteIncident(IncidentWrite {
            id: "a1b2".into(),
            act: PromptAct::Ack,
            text: "on it".into(),
        })]
    );
    assert_eq!(m.shell.popup.name(), "none");
    update(
        &mut m,
        Msg::IncidentWritten(Ok("acknowledged incident a1b2".into())),
    );
    assert!(text(&draw(&m, 80, 24)).contains("acknowledged incident a1b2"));
    // Esc cancels without writing; an empty note is refused.
    press(&mut m, "r");
    assert!(press(&mut m, "esc").is_empty());
    press(&mut m, "n");
    assert!(press(&mut m, "enter").is_empty());
    assert_eq!(m.shell.popup.name(), "prompt");
    type_text(&mut m, "restarted");
    let effects = press(&mut m, "enter");
    assert!(matches!(&effects[..], [Effect::WriteIncident(w)] if w.act == PromptAct::Note));
    // A resolved incident cannot be acknowledged: said, nothing asked.
    press(&mut m, "G a");
    assert_eq!(m.shell.popup.name(), "none");
    assert!(text(&draw(&m, 80, 24)).contains("resolved already"));
}

#[test]
fn enter_opens_the_detail_and_keys_act_on_it() {
    let mut m = on_view();
    press(&mut m, "j j enter");
    assert_eq!(m.incidents.open.as_deref(), Some("e5f6"));
    press(&mut m, "r");
    let effects = press(&mut m, "enter");
    assert!(
        matches!(&effects[..], [Effect::WriteIncident(w)] if w.id == "e5f6" && w.act == PromptAct::Resolve)
    );
    press(&mut m, "esc");
    assert_eq!(m.incidents.open, None);
}

#[test]
fn the_status_bar_counts_open_incidents_by_severity() {
    let m = on_view();
    let shown = text(&draw(&m, 200, 50));
    assert!(shown.contains("2 crit 2 warn"), "{shown}");
}

#[test]
fn no_control_characters_reach_the_screen() {
    let m = on_view();
    let shown = text(&draw(&m, 200, 50));
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(shown.contains("evil"), "{shown}");
}

#[test]
fn list_80x24() {
    insta::assert_snapshot!(text(&draw(&on_view(), 80, 24)));
}

#[test]
fn list_200x50() {
    insta::assert_snapshot!(text(&draw(&on_view(), 200, 50)));
}

#[test]
fn list_40x12() {
    insta::assert_snapshot!(text(&draw(&on_view(), 40, 12)));
}

#[test]
fn grouped_by_host_80x24() {
    let mut m = on_view();
    press(&mut m, "s s");
    insta::assert_snapshot!(text(&draw(&m, 80, 24)));
}

#[test]
fn detail_80x24() {
    let mut m = on_view();
    press(&mut m, "j j enter");
    insta::assert_snapshot!(text(&draw(&m, 80, 24)));
}

#[test]
fn detail_40x12() {
    let mut m = on_view();
    press(&mut m, "j j enter");
    insta::assert_snapshot!(text(&draw(&m, 40, 12)));
}

#[test]
fn ack_prompt_80x24() {
    let mut m = on_view();
    press(&mut m, "a");
    type_text(&mut m, "on it");
    insta::assert_snapshot!(text(&draw(&m, 80, 24)));
}

#[test]
fn empty_80x24() {
    let mut m = model();
    press(&mut m, "4");
    insta::assert_snapshot!(text(&draw(&m, 80, 24)));
}

/// The write the loop performs for `a`: through a real session, into the book.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_typed_in_the_view_is_written_to_the_book_through_the_session() {
    use crate::config::{Home, Settings};
    use crate::engine::{FleetSession, SessionOptions};
    use crate::incident::{Book, Observation};
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    home.ensure_writable_dirs().unwrap();
    let settings = Settings::default();
    let mut book = Book::for_home(&home, &settings.store).unwrap();
    book.observe(&Observation {
        source: Source::Check,
        fingerprint: "nginx/web01".into(),
        title: "nginx down".into(),
        severity: Severity::Critical,
        hosts: vec!["web01".into()],
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        firing: true,
        ts: "2026-12-07T10:00:00Z".into(),
    })
    .unwrap();
    let session = FleetSession::open(
        &home,
        &settings,
        SessionOptions {
            record_incidents: true,
            ..SessionOptions::new(Vec::new())
        },
    )
    .unwrap();
    let mut frame = session.incidents();
    for _ in 0..600 {
        if !frame.incidents.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        frame = session.incidents();
    }
    let mut m = model();
    update(&mut m, Msg::Incidents(frame));
    press(&mut m, "4 a");
    type_text(&mut m, "on it");
    let effects = press(&mut m, "enter");
    let [Effect::WriteIncident(write)] = &effects[..] else {
        panic!("{effects:?}");
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    crate::ui::app::incident_task::spawn_write(&session, write.clone(), tx);
    let answer = rx.recv().await.unwrap();
    update(&mut m, answer);
    assert!(text(&draw(&m, 80, 24)).contains("acknowledged incident"));
    book.refresh().unwrap();
    let written = book.list(true)[0];
    assert_eq!(written.state, State::Acked);
    assert!(
        written
            .timeline
            .iter()
            .any(|e| e.text.as_deref() == Some("on it"))
    );
    session.shutdown(std::time::Duration::from_secs(5)).await;
}

#[test]
fn detail_with_a_runbook_hint_80x24() {
    let src = "[[rules]]\nname = \"disk\"\nmatch.labels = { alertname = \"Disk*\" }\n\
               hint = \"Rotate the logs, then look for large files.\"\n";
    let dir = tempfile::tempdir().unwrap();
    let (catalog, _) = crate::action::Catalog::load_dir(dir.path());
    let runbooks = crate::incident::runbook::Runbooks::parse(
        std::path::Path::new("runbooks.toml"),
        src,
        &catalog,
    )
    .unwrap();
    let mut m = on_view();
    update(&mut m, Msg::Runbooks(Arc::new(runbooks)));
    press(&mut m, "j j enter");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("Rotate the logs"), "{shown}");
    assert!(shown.contains("runbooks.toml:1 (disk)"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn a_failing_notification_sink_is_shown_under_the_list_and_in_the_status_bar() {
    use crate::incident::notify::SinkStatus;
    let mut m = on_view();
    let mut ok = SinkStatus::new("webhook", "http://127.0.0.1:9");
    ok.sent = 4;
    ok.last_sent_at = Some(time::OffsetDateTime::UNIX_EPOCH);
    update(&mut m, Msg::NotifyStatus(vec![ok.clone()]));
    let shown = text(&draw(&m, 120, 24));
    assert!(!shown.contains("notify"), "{shown}");

    let mut failing = SinkStatus::new("slack", "https://hooks.slack.com/…");
    failing.failed = 2;
    failing.last_error = Some("HTTP 500".into());
    failing.last_error_at = Some(time::OffsetDateTime::UNIX_EPOCH);
    update(&mut m, Msg::NotifyStatus(vec![ok, failing]));
    let shown = text(&draw(&m, 120, 24));
    assert!(
        shown.contains(
            "notify slack https://hooks.slack.com/…: 0 sent, 2 failed (last error: HTTP 500)"
        ),
        "{shown}"
    );
    assert!(shown.contains("notify failing (4)"), "{shown}");
}

#[test]
fn thousands_of_incidents_scroll_with_the_cursor() {
    let mut f = (*frame()).clone();
    f.incidents = (0..2_000)
        .map(|n| {
            incident(
                &format!("id{n:04}"),
                &format!("title {n:04}"),
                Source::Alertmanager,
                Severity::Warning,
                &["db01"],
            )
        })
        .collect();
    let mut m = model();
    update(&mut m, Msg::Incidents(Arc::new(f)));
    press(&mut m, "4");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("title 0000"), "{shown}");
    press(&mut m, "G");
    assert_eq!(selected(&m), "id1999");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("title 1999"), "{shown}");
    assert!(!shown.contains("title 0000"), "{shown}");
    assert!(shown.contains("incidents 2000/2000"), "{shown}");
    press(&mut m, "g g");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("title 0000"), "{shown}");
}
