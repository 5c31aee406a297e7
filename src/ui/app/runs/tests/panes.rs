//! An output pane's keys: search (`/`, n/N, highlights), follow and scroll, wrap, dropped
//! lines marked, and the help listing the pane's keys.

use super::*;

/// A finished run whose one host printed 60 lines, "error" on lines 10, 14 and 50.
fn long_output() -> Model {
    let mut m = model();
    m.shell.view = View::Runs;
    add_run(&mut m, UPTIME, &["web01", "web02"], "journalctl -n 60");
    let mut text = String::new();
    for i in 1..=60 {
        if [10, 14, 50].contains(&i) {
            text.push_str(&format!("line {i}: error: upstream timed out\n"));
        } else {
            text.push_str(&format!("line {i}: ok\n"));
        }
    }
    feed(
        &mut m,
        UPTIME,
        vec![
            out(0, &text),
            state(0, HostState::Ok),
            state(1, HostState::Ok),
        ],
    );
    finish(&mut m, UPTIME, "ok");
    m
}

/// Cells of `buf` whose style is `style`, as the text they spell, row by row.
fn styled_text(buf: &ratatui::buffer::Buffer, style: ratatui::style::Style) -> Vec<String> {
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .filter(|&x| {
                    let c = &buf[(x, y)];
                    style.fg.is_none_or(|f| c.fg == f)
                        && style.bg.is_none_or(|b| c.bg == b)
                        && c.modifier.contains(style.add_modifier)
                })
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn search_highlights_every_match_and_n_keeps_context() {
    let mut m = long_output();
    update(&mut m, Msg::Resize(80, 24));
    press(&mut m, "enter");
    // The zoomed pane shows the last rows while following.
    press(&mut m, "/");
    assert!(m.shell.popup.search().is_some());
    type_text(&mut m, "error");
    // Typed text goes to the prompt, not to the keymap (`r` would rerun).
    assert_eq!(m.shell.popup.search().map(|s| s.text()), Some("error"));
    let prompt = text(&draw(&m, 80, 24));
    assert!(prompt.contains("/error"), "{prompt}");
    press(&mut m, "enter");
    assert!(m.shell.popup.search().is_none());
    assert!(
        matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("match 3 of 3 (n/N jump)")),
        "{:?}",
        m.shell.message
    );
    // Following, the newest match is already in view: the view did not move.
    assert!(m.runs.list[0].panes[0].is_following());
    let buf = draw(&m, 80, 24);
    let shown = text(&buf);
    assert!(shown.contains("line 50: error"), "{shown}");
    assert!(shown.contains("/error"), "pane status: {shown}");
    let current = styled_text(&buf, m.shell.theme.search_match(true));
    assert_eq!(current, ["error"], "{shown}");
    // n wraps to the first match and keeps lines above it in view.
    press(&mut m, "n");
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("match 1 of 3")));
    let buf = draw(&m, 80, 24);
    let shown = text(&buf);
    for context in ["line 7: ok", "line 8: ok", "line 9: ok", "line 10: error"] {
        assert!(shown.contains(context), "{context}: {shown}");
    }
    assert!(
        !m.runs.list[0].panes[0].is_following(),
        "a jump pauses follow"
    );
    // Every match in view is highlighted: 10 is the current one, 14 another.
    assert_eq!(
        styled_text(&buf, m.shell.theme.search_match(false)),
        ["error"]
    );
    assert_eq!(
        styled_text(&buf, m.shell.theme.search_match(true)),
        ["error"]
    );
    // n to a match already in view moves the highlight, not the view.
    press(&mut m, "n");
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("match 2 of 3")));
    let buf = draw(&m, 80, 24);
    let screen = |t: &str| t.lines().take(22).collect::<Vec<_>>().join("\n");
    assert_eq!(screen(&text(&buf)), screen(&shown));
    let row_of = |needle: &str| {
        (0..24u16)
            .find(|&y| {
                (0..80u16)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .contains(needle)
            })
            .unwrap()
    };
    let current = m.shell.theme.search_match(true).bg;
    let current_rows: Vec<u16> = (0..24u16)
        .filter(|&y| (0..80u16).any(|x| Some(buf[(x, y)].bg) == current))
        .collect();
    assert_eq!(current_rows, [row_of("line 14: error")]);
    press(&mut m, "n");
    assert!(text(&draw(&m, 80, 24)).contains("line 50: error"));
    press(&mut m, "N N N");
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("wrapped")));
    assert!(text(&draw(&m, 80, 24)).contains("line 50: error"));
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("search_{w}x{h}"), shown);
    }
    // An empty search clears the highlights; esc in the prompt changes nothing.
    press(&mut m, "/");
    press(&mut m, "esc");
    assert_eq!(m.runs.list[0].panes[0].search_query(), Some("error"));
    press(&mut m, "/");
    press(&mut m, "enter");
    assert_eq!(m.runs.list[0].panes[0].search_query(), None);
}

#[test]
fn search_works_in_the_merged_stream_and_not_in_the_grouped_view() {
    let mut m = three_runs();
    press(&mut m, "v v /");
    type_text(&mut m, "nginx");
    press(&mut m, "enter");
    assert_eq!(m.runs.list[2].merged_pane.search_query(), Some("nginx"));
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("of 2")));
    press(&mut m, "v /");
    assert!(m.shell.popup.search().is_none());
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("search works in")));
}

#[test]
fn panes_follow_scroll_and_resume() {
    let mut m = long_output();
    update(&mut m, Msg::Resize(80, 24));
    press(&mut m, "enter k");
    assert!(!m.runs.list[0].panes[0].is_following());
    feed(&mut m, UPTIME, vec![]);
    let shown = text(&draw(&m, 80, 24));
    assert!(!shown.contains("line 60: ok"), "paused one row up: {shown}");
    assert!(shown.contains("paused"), "{shown}");
    press(&mut m, "G");
    assert!(m.runs.list[0].panes[0].is_following());
    assert!(text(&draw(&m, 80, 24)).contains("line 60: ok"));
    press(&mut m, "g g");
    assert!(text(&draw(&m, 80, 24)).contains("line 1: ok"));
    press(&mut m, "f");
    assert!(m.runs.list[0].panes[0].is_following());
}

#[test]
fn dropped_lines_and_dropped_output_are_marked() {
    let mut m = model();
    m.shell.view = View::Runs;
    let hosts = vec![m.inventory.hosts()[0].clone()];
    let start = RunStart {
        id: UPTIME.into(),
        selector: "web01".into(),
        hosts,
        command: "yes".into(),
        prepared: None,
        rerun_of: None,
        for_incidents: Vec::new(),
    };
    let caps = crate::ui::pane::ScrollbackCaps {
        max_lines: 5,
        max_bytes: 1 << 20,
    };
    m.runs.list.push(RunView::with_caps(&start, caps));
    let lines: String = (1..=12).map(|i| format!("y{i}\n")).collect();
    feed(
        &mut m,
        UPTIME,
        vec![
            out(0, &lines),
            EngineEvent::Dropped {
                host: 0,
                bytes_dropped: 4096,
            },
        ],
    );
    press(&mut m, "enter g g");
    let shown = shot(&mut m, 80, 24);
    assert!(shown.contains("… 8 lines dropped …"), "{shown}");
    assert!(shown.contains("4096 bytes dropped"), "{shown}");
}

#[test]
fn help_in_the_panes_lists_pane_and_runs_keys_from_the_keymap() {
    let mut m = three_runs();
    press(&mut m, "v ?");
    assert_eq!(m.shell.popup.name(), "help");
    let shown = shot(&mut m, 200, 50);
    for needle in [
        "focus_left",
        "cycle_layout",
        "prev_run",
        "zoom",
        "rerun_failed",
    ]
    .map(|a| {
        crate::ui::keymap::Action::from_name(a)
            .unwrap()
            .description()
    }) {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
}

#[test]
fn a_passphrase_question_over_a_search_leaves_it_typed_and_on_screen() {
    let mut m = long_output();
    update(&mut m, Msg::Resize(80, 24));
    press(&mut m, "enter /");
    type_text(&mut m, "err");
    update(
        &mut m,
        Msg::PassphraseWanted(std::path::PathBuf::from("/keys/id")),
    );
    assert_eq!(m.shell.popup.name(), "passphrase");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("/err"), "{shown}");
    press(&mut m, "esc");
    assert_eq!(m.shell.popup.search().map(|s| s.text()), Some("err"));
    type_text(&mut m, "or");
    press(&mut m, "enter");
    assert!(
        matches!(&m.shell.message, Some(Message::Info(t)) if t.starts_with("/error: match")),
        "{:?}",
        m.shell.message
    );
}
