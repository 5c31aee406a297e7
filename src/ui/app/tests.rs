//! The shell driven by key sequences (help, view switching, quitting, the `:` command line)
//! with TestBackend snapshots of its popups; and the helpers every view's tests share.

use std::path::Path;
use std::time::{Duration, SystemTime};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::model::{Model, View};
use super::popup::Popup;
use super::shell::Message;
use super::update::{Effect, Msg, update};
use super::views;
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
    update(&mut m, tick("12:00:00"));
    m
}

/// The wall-clock time of every test model (2027-01-15 08:00:00 UTC): metrics' ages are
/// measured at it.
pub(crate) fn test_now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// A clock tick at [`test_now`], showing `clock`.
pub(crate) fn tick(clock: &str) -> Msg {
    Msg::Tick {
        clock: clock.to_string(),
        now: test_now(),
    }
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

pub(super) fn current(m: &Model) -> &str {
    m.current_host().map_or("", |h| h.name.as_str())
}

#[test]
fn help_popup_opens_and_closes() {
    let mut m = model();
    press(&mut m, "?");
    assert_eq!(m.shell.popup.name(), "help");
    // Keys do not reach the view behind the popup: j scrolls the help.
    press(&mut m, "j j k");
    assert_eq!(current(&m), "web01");
    assert_eq!(m.shell.popup, Popup::Help { scroll: 1 });
    press(&mut m, "esc");
    assert_eq!(m.shell.popup.name(), "none");
}

#[test]
fn views_switch_with_tab_and_digits() {
    let mut m = model();
    press(&mut m, "tab");
    assert_eq!(m.shell.view, View::Runs);
    press(&mut m, "S-tab S-tab");
    assert_eq!(m.shell.view, View::Actions);
    press(&mut m, "5");
    assert_eq!(m.shell.view, View::History);
    press(&mut m, "1");
    assert_eq!(m.shell.view, View::Fleet);
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
    assert!(m.shell.quit);
}

#[test]
fn command_line_completes_commands_and_selector_terms() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "ta");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.shell.command.input, "target ");
    type_text(&mut m, "@d");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.shell.command.input, "target @database");
    type_text(&mut m, "&env:");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.shell.command.input, "target @database&env:");
    assert_eq!(
        m.shell.command.candidates,
        ["env:lab", "env:prod", "env:staging"]
    );
    // Ambiguous command names complete to their common prefix and list the candidates.
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "t");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.shell.command.input, "t");
    assert_eq!(m.shell.command.candidates, ["target", "theme"]);
    type_text(&mut m, "heme h");
    update(&mut m, Msg::Key(key(KeyCode::Tab)));
    assert_eq!(m.shell.command.input, "theme high-contrast");
}

#[test]
fn unknown_command_suggests_and_theme_asks_for_a_load() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "tagret x");
    update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert!(
        matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("did you mean `target`"))
    );
    press(&mut m, ":");
    type_text(&mut m, "theme light");
    let effects = update(&mut m, Msg::Key(key(KeyCode::Enter)));
    assert_eq!(effects, [Effect::LoadTheme("light".into())]);
    update(
        &mut m,
        Msg::ThemeLoaded(Ok(Theme::builtin("light").unwrap())),
    );
    assert_eq!(m.shell.theme.name(), "light");
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
