//! The Fleet view driven by key sequences (movement, `/` filter, marks, `:target`, sorting)
//! and its TestBackend snapshots, metric columns included (frames from the Metrics view's
//! tests: fresh, stale, failing, no-metrics and never-sampled hosts).

use ratatui::crossterm::event::KeyCode;

use crate::engine::{ErrorKind, HostState};
use crate::ui::app::Model;
use crate::ui::app::metrics::tests::{test_frame, with_frame};
use crate::ui::app::shell::Message;
use crate::ui::app::tests::{current, draw, key, model, press, text, type_text};
use crate::ui::app::update::{Msg, update};
use crate::ui::theme::scope;

#[test]
fn movement_and_chord_g_g() {
    let mut m = model();
    press(&mut m, "j j j");
    assert_eq!(current(&m), "web04");
    press(&mut m, "G");
    assert_eq!(current(&m), "lab1");
    press(&mut m, "g");
    assert_eq!(m.shell.dispatcher.pending_text(), "g");
    press(&mut m, "g");
    assert_eq!(current(&m), "web01");
    update(&mut m, Msg::Resize(80, 12)); // 6 body rows: half a page is 3
    press(&mut m, "C-d");
    assert_eq!(current(&m), "web04");
    press(&mut m, "C-u");
    assert_eq!(current(&m), "web01");
}

#[test]
fn filter_types_live_and_esc_clears() {
    let mut m = model();
    press(&mut m, "/");
    assert_eq!(m.shell.popup.name(), "filter");
    type_text(&mut m, "db");
    assert_eq!(m.fleet.shown.len(), 3);
    assert_eq!(current(&m), "db01");
    // Typed `j` goes to the filter, not to movement.
    type_text(&mut m, "0");
    type_text(&mut m, "2");
    assert_eq!(m.fleet.shown.len(), 1);
    update(&mut m, Msg::Key(key(KeyCode::Backspace)));
    assert_eq!(m.fleet.shown.len(), 3);
    update(&mut m, Msg::Key(key(KeyCode::Esc)));
    assert_eq!(m.shell.popup.name(), "none");
    assert!(m.fleet.filter.is_empty());
    assert_eq!(m.fleet.shown.len(), 12);
}

#[test]
fn filter_is_fuzzy_and_enter_keeps_it() {
    let mut m = model();
    press(&mut m, "/");
    type_text(&mut m, "stag");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(m.shell.popup.name(), "none");
    let names: Vec<&str> = m.shown_hosts().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web07", "web08"]);
    // esc in normal mode drops the kept filter.
    press(&mut m, "esc");
    assert_eq!(m.fleet.shown.len(), 12);
}

#[test]
fn marks_space_v_u() {
    let mut m = model();
    press(&mut m, "space space");
    assert_eq!(m.fleet.marked.len(), 2);
    assert_eq!(current(&m), "web03");
    press(&mut m, "k space");
    assert_eq!(m.fleet.marked.iter().collect::<Vec<_>>(), ["web01"]);
    press(&mut m, "/");
    type_text(&mut m, "db");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    press(&mut m, "V");
    assert_eq!(m.fleet.marked.len(), 4);
    press(&mut m, "u");
    assert!(m.fleet.marked.is_empty());
}

#[test]
fn target_narrows_the_fleet_and_history_recalls_it() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "target @frontend&env:staging");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let names: Vec<&str> = m.shown_hosts().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web07", "web08"]);
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("web[07-08]")));
    press(&mut m, ":");
    update(&mut m, Msg::Key(key(KeyCode::Up)));
    assert_eq!(m.shell.command.input, "target @frontend&env:staging");
    update(&mut m, Msg::Key(key(KeyCode::Down)));
    assert_eq!(m.shell.command.input, "");
    update(&mut m, Msg::Key(key(KeyCode::Esc)));
    // esc drops the target.
    press(&mut m, "esc");
    assert_eq!(m.fleet.shown.len(), 12);
}

#[test]
fn target_error_is_shown_in_the_message_line() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "target @nosuchgroup");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let Some(Message::Error(text)) = &m.shell.message else {
        panic!("expected an error, got {:?}", m.shell.message);
    };
    assert!(text.starts_with(":target:"), "{text}");
    assert!(text.contains("nosuchgroup"), "{text}");
    assert_eq!(
        m.fleet.shown.len(),
        12,
        "a bad selector leaves the fleet as it was"
    );
}

#[test]
fn target_with_metric_terms_picks_by_the_samples_shown_now() {
    let mut m = with_frame();
    press(&mut m, ":");
    // web02 is at 97% and fresh; web07's 87% is stale, so it does not count.
    type_text(&mut m, "target cpu>80");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let names: Vec<&str> = m
        .fleet
        .target
        .as_ref()
        .map(|t| t.names.iter().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(names, ["web02"], "{:?}", m.shell.message);
    assert!(
        matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("by the samples shown now")),
        "{:?}",
        m.shell.message
    );
    press(&mut m, ":");
    type_text(&mut m, "target web0*&stale");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let target = m.fleet.target.as_ref().expect("a target");
    assert!(target.names.contains("web07") && !target.names.contains("web02"));
    press(&mut m, ":");
    type_text(&mut m, "target cpux>9");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert!(
        matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("did you mean `cpu>9`?")),
        "{:?}",
        m.shell.message
    );
}

#[test]
fn target_outside_the_inventory_is_an_error() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "target elsewhere.example.net");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert!(
        matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("matches no host of hosts.toml")),
        "{:?}",
        m.shell.message
    );
    assert!(m.fleet.target.is_none());
}

// ---- snapshots ----

#[test]
fn s_sorts_by_metrics_then_other_columns_and_s_reverses() {
    let mut m = with_frame();
    press(&mut m, "s");
    let names = |m: &Model| m.shown_hosts().map(|h| h.name.clone()).collect::<Vec<_>>();
    // Fresh values highest first; stale, failing and unsampled hosts after, in their order.
    assert_eq!(
        names(&m),
        [
            "web02", "web05", "web03", "web04", "web01", "web06", "web07", "web08", "db01", "db02",
            "db03", "lab1"
        ]
    );
    assert!(
        matches!(&m.shell.message, Some(Message::Info(t)) if t == "sorted by cpu, highest first")
    );
    press(&mut m, "S");
    assert_eq!(names(&m)[..3], ["web06", "web01", "web04"]);
    assert_eq!(
        names(&m)[6],
        "web07",
        "hosts without a fresh value stay last"
    );
    // Disk: web06 gives none, so it joins the hosts without a value.
    press(&mut m, "s s");
    assert_eq!(names(&m)[..2], ["web03", "web05"]);
    assert_eq!(names(&m)[5], "web06");
    press(&mut m, "s s");
    assert_eq!(m.fleet.sort.map(|s| s.column.name()), Some("name"));
    assert_eq!(names(&m)[..2], ["db01", "db02"]);
    for _ in 0..6 {
        press(&mut m, "s");
    }
    assert_eq!(m.fleet.sort, None);
    assert_eq!(names(&m)[0], "web01");
}

#[test]
fn sort_command_picks_a_column_and_survives_the_filter() {
    let mut m = with_frame();
    press(&mut m, ":");
    type_text(&mut m, "sort mem");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(current(&m), "web01", "the cursor keeps its host");
    let first: Vec<String> = m.shown_hosts().take(2).map(|h| h.name.clone()).collect();
    assert_eq!(first, ["web02", "web03"]);
    press(&mut m, "/");
    type_text(&mut m, "web0");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(
        current(&m),
        "web02",
        "a filter starts from the top, still sorted"
    );
    press(&mut m, ":");
    type_text(&mut m, "sort load asc");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(
        m.shown_hosts().next().map(|h| h.name.as_str()),
        Some("web06")
    );
    press(&mut m, ":");
    type_text(&mut m, "sort cpux");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert!(
        matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("did you mean `cpu`")),
        "{:?}",
        m.shell.message
    );
    press(&mut m, ":");
    type_text(&mut m, "so");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    type_text(&mut m, "las");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.shell.command.input, "sort last_run");
}

#[test]
fn stale_values_are_dim_with_their_age_and_missing_ones_say_why() {
    let mut m = busy(80, 24);
    let buf = draw(&m, 80, 24);
    let shown = text(&buf);
    // web07's sample is two minutes old: its value is shown with the age, dimmed.
    let web07 = shown
        .lines()
        .find(|l| l.contains("web07"))
        .expect("web07 row");
    assert!(web07.contains("87% 2m"), "{web07}");
    let y = shown
        .lines()
        .position(|l| l.contains("web07"))
        .expect("row") as u16;
    let x = web07.find("87%").expect("value") as u16;
    let x = web07[..x as usize].chars().count() as u16;
    assert_eq!(
        buf[(x, y)].style().fg,
        m.shell.theme.style(scope::METRIC_STALE).fg
    );
    // db01 has none: a dash in the table, the reason on the bottom border when focused.
    let db01 = shown
        .lines()
        .find(|l| l.contains("db01"))
        .expect("db01 row");
    assert!(db01.contains('—'), "{db01}");
    press(&mut m, "g g");
    for _ in 0..8 {
        press(&mut m, "j");
    }
    assert_eq!(current(&m), "db01");
    let shown = text(&draw(&m, 80, 24));
    assert!(
        shown.contains("db01: no metrics: not Linux (no /proc)"),
        "{shown}"
    );
}

/// A fleet with a mark, a cursor off the top, metrics and a message, at the given size.
fn busy(width: u16, height: u16) -> Model {
    let mut m = model();
    update(&mut m, Msg::Metrics(test_frame()));
    update(&mut m, Msg::Resize(width, height));
    press(&mut m, "space j j space");
    m.fleet.last_result.insert("web01".into(), HostState::Ok);
    m.fleet.last_result.insert(
        "web02".into(),
        HostState::Unreachable {
            kind: ErrorKind::Connect,
            message: "refused".into(),
        },
    );
    m.shell.message = Some(Message::Info("target cleared: all hosts".into()));
    m
}

#[test]
fn fleet_80x24() {
    insta::assert_snapshot!(text(&draw(&busy(80, 24), 80, 24)));
}

#[test]
fn fleet_200x50() {
    insta::assert_snapshot!(text(&draw(&busy(200, 50), 200, 50)));
}

#[test]
fn fleet_40x12() {
    insta::assert_snapshot!(text(&draw(&busy(40, 12), 40, 12)));
}

#[test]
fn fleet_sorted_by_disk_reversed_120x20() {
    let mut m = busy(120, 20);
    press(&mut m, "s s s S");
    insta::assert_snapshot!(text(&draw(&m, 120, 20)));
}

#[test]
fn fleet_filtered_with_command_candidates_80x24() {
    let mut m = model();
    press(&mut m, "/");
    type_text(&mut m, "web");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    press(&mut m, ":");
    type_text(&mut m, "t");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    insta::assert_snapshot!(text(&draw(&m, 80, 24)));
}

#[test]
fn marked_rows_keep_their_style_and_cursor_is_highlighted() {
    let m = busy(80, 24);
    let buf = draw(&m, 80, 24);
    // Row 0 tabs, 1 border, 2 header, 3 web01 (marked), 7 web05 (the cursor: marking moves on).
    assert_eq!(buf[(1, 3)].symbol(), "●");
    assert_eq!(buf[(1, 4)].symbol(), " ");
    assert_eq!(current(&m), "web05");
    if let Some(fg) = m.shell.theme.marked().fg {
        assert_eq!(buf[(3, 3)].style().fg, Some(fg));
    }
    if let Some(bg) = m.shell.theme.selection().bg {
        assert_eq!(buf[(3, 7)].style().bg, Some(bg));
    }
}
