//! The console's connection plumbing as the model and views see it: snapshots arriving as
//! `Msg::Connections`, the Fleet view's connection column and the status bar's counts
//! (TestBackend snapshots), and the masked passphrase popup.

use std::path::PathBuf;

use ratatui::crossterm::event::KeyCode;

use super::connections::Connections;

use super::tests::{draw, key, model, press, text, type_text};
use super::update::{Effect, Msg, update};
use crate::engine::{ConnState, ErrorKind};

/// One host in each state the SSH pool reports, and the local host.
fn sample() -> Connections {
    let mut c = Connections::default();
    let states = [
        ("web01", ConnState::Connected),
        ("web02", ConnState::Connected),
        ("web03", ConnState::Connecting),
        (
            "web04",
            ConnState::Failed {
                kind: ErrorKind::HostKey,
                reason: "web04: host key changed".into(),
            },
        ),
        ("db01", ConnState::Connected),
        ("lab1", ConnState::Local),
    ];
    for (name, state) in states {
        c.by_host.insert(name.into(), state);
    }
    for name in ["web05", "web06", "web07", "web08", "db02", "db03"] {
        c.by_host.insert(name.into(), ConnState::Closed);
    }
    c
}

#[test]
fn a_snapshot_message_replaces_the_connections_shown() {
    let mut m = model();
    assert!(update(&mut m, Msg::Connections(sample())).is_empty());
    assert_eq!(m.connections.pooled(), 3);
    assert_eq!(m.connections.failed(), 1);
    update(&mut m, Msg::Connections(Connections::default()));
    assert_eq!(m.connections.pooled(), 0);
}

#[test]
fn fleet_with_connections_100x20() {
    let mut m = model();
    update(&mut m, Msg::Resize(100, 20));
    update(&mut m, Msg::Connections(sample()));
    let shown = text(&draw(&m, 100, 20));
    // Symbol and word in the column; counts in the status bar.
    assert!(shown.contains("● open"), "{shown}");
    assert!(shown.contains("✘ hostkey"), "{shown}");
    assert!(shown.contains("3 pooled, 1 conn failed"), "{shown}");
    insta::assert_snapshot!(shown);
}

#[test]
fn connection_states_have_ascii_symbols_too() {
    let mut m = model();
    m.shell.theme = m.shell.theme.clone().with_ascii_symbols(true);
    update(&mut m, Msg::Resize(100, 20));
    update(&mut m, Msg::Connections(sample()));
    let shown = text(&draw(&m, 100, 20));
    for label in ["* open", "~ connecting", "x hostkey", "o closed", "local"] {
        assert!(shown.contains(label), "{label}: {shown}");
    }
}

#[test]
fn status_bar_counts_80x3() {
    let mut m = model();
    update(&mut m, Msg::Resize(80, 3));
    press(&mut m, "space space");
    update(&mut m, Msg::Connections(sample()));
    let shown = text(&draw(&m, 80, 3));
    insta::assert_snapshot!(shown);
    // An all-local fleet has no connections to count.
    let mut local = Connections::default();
    local.by_host.insert("lab1".into(), ConnState::Local);
    update(&mut m, Msg::Connections(local));
    let shown = text(&draw(&m, 80, 3));
    assert!(!shown.contains("pooled"), "{shown}");
}

#[test]
fn passphrase_popup_masks_and_answers_then_gives_the_keys_back() {
    let mut m = model();
    // The question arrives while a filter is half typed.
    press(&mut m, "/");
    type_text(&mut m, "we");
    let key_file = PathBuf::from("/home/op/.ssh/id_ed25519");
    update(&mut m, Msg::PassphraseWanted(key_file.clone()));
    assert_eq!(m.shell.popup.name(), "passphrase");
    // Typed text goes to the popup, not to the filter or the keymap (`q`, `j` are letters).
    type_text(&mut m, "qj s3cret");
    assert_eq!(m.fleet.filter.text(), "we");
    update(&mut m, Msg::Key(key(KeyCode::Backspace)));
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("id_ed25519"), "{shown}");
    assert!(
        shown.contains("passphrase: ********\n") || shown.contains("passphrase: ******** "),
        "{shown}"
    );
    assert!(!shown.contains("s3cre"), "{shown}");
    insta::assert_snapshot!(shown);
    let effects = update(&mut m, Msg::Key(key(KeyCode::Enter)));
    let [Effect::AnswerPassphrase(Some(secret))] = effects.as_slice() else {
        panic!("expected an answer, got {effects:?}");
    };
    assert_eq!(secret.expose(), "qj s3cre");
    assert!(!format!("{effects:?}").contains("s3cre"));
    // Back to the filter, as it was.
    assert_eq!(m.shell.popup.name(), "filter");
    type_text(&mut m, "b");
    assert_eq!(m.fleet.filter.text(), "web");
}

#[test]
fn esc_or_ctrl_c_declines_without_quitting() {
    for decline in ["esc", "C-c"] {
        let mut m = model();
        update(&mut m, Msg::PassphraseWanted(PathBuf::from("/k")));
        type_text(&mut m, "abc");
        let effects = press(&mut m, decline);
        assert_eq!(effects, [Effect::AnswerPassphrase(None)], "{decline}");
        assert_eq!(m.shell.popup.name(), "none");
        assert!(!m.shell.quit);
    }
}

#[test]
fn a_question_asked_over_another_still_gives_back_what_the_first_interrupted() {
    let mut m = model();
    press(&mut m, ":");
    type_text(&mut m, "tar");
    update(&mut m, Msg::PassphraseWanted(PathBuf::from("/keys/a")));
    update(&mut m, Msg::PassphraseWanted(PathBuf::from("/keys/b")));
    assert!(text(&draw(&m, 80, 24)).contains("/keys/b"));
    assert_eq!(press(&mut m, "esc"), [Effect::AnswerPassphrase(None)]);
    assert_eq!(m.shell.popup.name(), "command");
    assert_eq!(m.shell.command.input, "tar");
}
