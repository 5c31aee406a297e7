//! Update tests driven by key sequences, and TestBackend snapshots of the Fleet view.

use std::path::Path;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Message, Mode, Model, View};
use super::update::{Effect, Msg, update};
use super::views;
use crate::engine::ErrorKind;
use crate::engine::HostState;
use crate::inventory::load::parse;
use crate::ui::keymap::builtin;
use crate::ui::theme::Theme;

const HOSTS: &str = r#"
[defaults]
env = "prod"
tags = ["linux"]

[[hosts]]
name = "web[01-06]"
tags = ["web", "nginx"]
groups = ["frontend"]

[[hosts]]
name = "web[07-08]"
env = "staging"
tags = ["web"]
groups = ["frontend"]

[[hosts]]
name = "db[01-03]"
tags = ["postgres"]
groups = ["database"]

[[hosts]]
name = "lab1"
transport = "local"
env = "lab"
"#;

pub(super) fn model() -> Model {
    let inventory = parse(Path::new("hosts.toml"), HOSTS).unwrap();
    let theme = Theme::builtin("dark").unwrap();
    let names = vec!["dark".into(), "high-contrast".into(), "light".into()];
    let mut m = Model::new(inventory, builtin().unwrap(), theme, names);
    update(&mut m, Msg::Tick("12:00:00".into()));
    m
}

pub(super) fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Feeds keys written like a keymap file, space separated (`g g`, `C-d`, `esc`), except that
/// a lone `space` word means the space bar.
pub(super) fn press(m: &mut Model, keys: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for word in keys.split(' ') {
        let k = crate::ui::keymap::Key::parse(word).unwrap();
        let ev = KeyEvent::new(k.code, k.modifiers);
        effects.extend(update(m, Msg::Key(ev)));
    }
    effects
}

/// Types text into whatever has the focus (filter or command line).
pub(super) fn type_text(m: &mut Model, text: &str) {
    for c in text.chars() {
        update(m, Msg::Key(key(KeyCode::Char(c))));
    }
}

fn current(m: &Model) -> &str {
    m.current_host().map_or("", |h| h.name.as_str())
}

#[test]
fn movement_and_chord_g_g() {
    let mut m = model();
    press(&mut m, "j j j");
    assert_eq!(current(&m), "web04");
    press(&mut m, "G");
    assert_eq!(current(&m), "lab1");
    press(&mut m, "g");
    assert_eq!(m.dispatcher.pending_text(), "g");
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
    assert_eq!(m.mode, Mode::Filter);
    type_text(&mut m, "db");
    assert_eq!(m.shown.len(), 3);
    assert_eq!(current(&m), "db01");
    // Typed `j` goes to the filter, not to movement.
    type_text(&mut m, "0");
    type_text(&mut m, "2");
    assert_eq!(m.shown.len(), 1);
    update(&mut m, Msg::Key(key(KeyCode::Backspace)));
    assert_eq!(m.shown.len(), 3);
    update(&mut m, Msg::Key(key(KeyCode::Esc)));
    assert_eq!(m.mode, Mode::Normal);
    assert!(m.filter.is_empty());
    assert_eq!(m.shown.len(), 12);
}

#[test]
fn filter_is_fuzzy_and_enter_keeps_it() {
    let mut m = model();
    press(&mut m, "/");
    type_text(&mut m, "stag");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(m.mode, Mode::Normal);
    let names: Vec<&str> = m.shown_hosts().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web07", "web08"]);
    // esc in normal mode drops the kept filter.
    press(&mut m, "esc");
    assert_eq!(m.shown.len(), 12);
}

#[test]
fn marks_space_v_u() {
    let mut m = model();
    press(&mut m, "space space");
    assert_eq!(m.marked.len(), 2);
    assert_eq!(current(&m), "web03");
    press(&mut m, "k space");
    assert_eq!(m.marked.iter().collect::<Vec<_>>(), ["web01"]);
    press(&mut m, "/");
    type_text(&mut m, "db");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    press(&mut m, "V");
    assert_eq!(m.marked.len(), 4);
    press(&mut m, "u");
    assert!(m.marked.is_empty());
}

#[test]
fn help_popup_opens_and_closes() {
    let mut m = model();
    press(&mut m, "?");
    assert_eq!(m.mode, Mode::Help);
    // Keys do not reach the view behind the popup: j scrolls the help.
    press(&mut m, "j j k");
    assert_eq!(current(&m), "web01");
    assert_eq!(m.help_scroll, 1);
    press(&mut m, "esc");
    assert_eq!(m.mode, Mode::Normal);
}

#[test]
fn views_switch_with_tab_and_digits() {
    let mut m = model();
    press(&mut m, "tab");
    assert_eq!(m.view, View::Runs);
    press(&mut m, "S-tab S-tab");
    assert_eq!(m.view, View::Actions);
    press(&mut m, "5");
    assert_eq!(m.view, View::History);
    press(&mut m, "1");
    assert_eq!(m.view, View::Fleet);
}

#[test]
fn quit_keys_and_command() {
    let mut m = model();
    assert_eq!(press(&mut m, "Q"), [Effect::Quit]);
    let mut m = model();
    assert_eq!(press(&mut m, "C-c"), [Effect::Quit]);
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "q");
    assert_eq!(
        update(&mut m, Msg::Key(key(KeyCode::Enter))),
        [Effect::Quit]
    );
    assert!(m.quit);
}

#[test]
fn command_line_completes_commands_and_selector_terms() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "ta");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.command.input, "target ");
    type_text(&mut m, "@d");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.command.input, "target @database");
    type_text(&mut m, "&env:");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.command.input, "target @database&env:");
    assert_eq!(m.command.candidates, ["env:lab", "env:prod", "env:staging"]);
    // Ambiguous command names complete to their common prefix and list the candidates.
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "t");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.command.input, "t");
    assert_eq!(m.command.candidates, ["target", "theme"]);
    type_text(&mut m, "heme h");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.command.input, "theme high-contrast");
}

#[test]
fn target_narrows_the_fleet_and_history_recalls_it() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "target @frontend&env:staging");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let names: Vec<&str> = m.shown_hosts().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web07", "web08"]);
    assert!(matches!(&m.message, Some(Message::Info(t)) if t.contains("web[07-08]")));
    press(&mut m, ":");
    update(&mut m, Msg::Key(key(KeyCode::Up)));
    assert_eq!(m.command.input, "target @frontend&env:staging");
    update(&mut m, Msg::Key(key(KeyCode::Down)));
    assert_eq!(m.command.input, "");
    update(&mut m, Msg::Key(key(KeyCode::Esc)));
    // esc drops the target.
    press(&mut m, "esc");
    assert_eq!(m.shown.len(), 12);
}

#[test]
fn target_error_is_shown_in_the_message_line() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "target @nosuchgroup");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let Some(Message::Error(text)) = &m.message else {
        panic!("expected an error, got {:?}", m.message);
    };
    assert!(text.starts_with(":target:"), "{text}");
    assert!(text.contains("nosuchgroup"), "{text}");
    assert_eq!(
        m.shown.len(),
        12,
        "a bad selector leaves the fleet as it was"
    );
}

#[test]
fn target_outside_the_inventory_is_an_error() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "target elsewhere.example.net");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert!(
        matches!(&m.message, Some(Message::Error(t)) if t.contains("matches no host of hosts.toml")),
        "{:?}",
        m.message
    );
    assert!(m.target.is_none());
}

#[test]
fn unknown_command_suggests_and_theme_asks_for_a_load() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "tagret x");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert!(matches!(&m.message, Some(Message::Error(t)) if t.contains("did you mean `target`")));
    press(&mut m, ":");
    type_text(&mut m, "theme light");
    let effects = update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(effects, [Effect::LoadTheme("light".into())]);
    update(
        &mut m,
        Msg::ThemeLoaded(Ok(Theme::builtin("light").unwrap())),
    );
    assert_eq!(m.theme.name(), "light");
}

// ---- snapshots ----

pub(super) fn draw(m: &Model, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| views::render(f, m)).unwrap();
    terminal.backend().buffer().clone()
}

pub(super) fn text(buf: &Buffer) -> String {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            let line: String = (0..area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            line.trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A fleet with a mark, a cursor off the top and a message, at the given size.
fn busy(width: u16, height: u16) -> Model {
    let mut m = model();
    update(&mut m, Msg::Resize(width, height));
    press(&mut m, "space j j space");
    m.last_result.insert("web01".into(), HostState::Ok);
    m.last_result.insert(
        "web02".into(),
        HostState::Unreachable {
            kind: ErrorKind::Connect,
            message: "refused".into(),
        },
    );
    m.message = Some(Message::Info("target cleared: all hosts".into()));
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
fn help_popup_80x24() {
    let mut m = model();
    press(&mut m, "?");
    insta::assert_snapshot!(text(&draw(&m, 80, 24)));
}

#[test]
fn help_popup_scrolled_40x12() {
    let mut m = model();
    press(&mut m, "? j j j");
    insta::assert_snapshot!(text(&draw(&m, 40, 12)));
}

#[test]
fn not_built_view_says_so_80x24() {
    let mut m = model();
    press(&mut m, "3");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("arrives with"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn marked_rows_keep_their_style_and_cursor_is_highlighted() {
    let m = busy(80, 24);
    let buf = draw(&m, 80, 24);
    // Row 0 tabs, 1 border, 2 header, 3 web01 (marked), 7 web05 (the cursor: marking moves on).
    assert_eq!(buf[(1, 3)].symbol(), "●");
    assert_eq!(buf[(1, 4)].symbol(), " ");
    assert_eq!(current(&m), "web05");
    if let Some(fg) = m.theme.marked().fg {
        assert_eq!(buf[(3, 3)].style().fg, Some(fg));
    }
    if let Some(bg) = m.theme.selection().bg {
        assert_eq!(buf[(3, 7)].style().bg, Some(bg));
    }
}
