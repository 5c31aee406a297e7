//! The run list: loading as effects (once when first shown, on `R`, after a console run),
//! damaged or unreadable history, movement, the `/` filter, and list snapshots.

use super::*;

#[test]
fn the_list_loads_once_when_first_shown_and_again_on_r_and_after_a_run() {
    let mut m = model();
    assert_eq!(m.history.load, ListLoad::NotLoaded);
    assert_eq!(press(&mut m, "5"), [Effect::LoadHistory { request: 1 }]);
    assert_eq!(m.history.load, ListLoad::Loading);
    assert!(text(&draw(&m, 80, 24)).contains("reading history"));
    // Leaving and coming back does not read again while the first read is on its way.
    assert!(press(&mut m, "1").is_empty());
    assert!(press(&mut m, "5").is_empty());
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 1,
            result: Ok(HistoryPage {
                runs: recorded_runs(),
                warnings: Vec::new(),
            }),
        },
    );
    assert_eq!(m.history.load, ListLoad::Loaded);
    assert_eq!(m.history.shown, [0, 1, 2]);
    assert_eq!(press(&mut m, "R"), [Effect::LoadHistory { request: 2 }]);
    // Via tab too: another view, then back, does not reload a loaded list.
    assert!(press(&mut m, "tab S-tab").is_empty());
    // A stale answer (request 1 again) is dropped; the newest one is taken.
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 1,
            result: Ok(HistoryPage {
                runs: Vec::new(),
                warnings: Vec::new(),
            }),
        },
    );
    assert_eq!(m.history.runs.len(), 3);
    let mut fewer = recorded_runs();
    fewer.remove(0);
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 2,
            result: Ok(HistoryPage {
                runs: fewer,
                warnings: Vec::new(),
            }),
        },
    );
    assert_eq!(m.history.runs.len(), 2);
}

#[test]
fn damaged_lines_are_reported_in_the_message_line_and_the_list_still_shows() {
    let m = loaded(HistoryPage {
        runs: recorded_runs(),
        warnings: vec![
            "skipped a damaged line: history.jsonl: line 2 counting back from the newest: \
             expected value at line 1 column 1"
                .into(),
        ],
    });
    assert!(matches!(&m.shell.message, Some(Message::Error(t)) if t.contains("damaged line")));
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("damaged line"), "{shown}");
    assert!(shown.contains("systemctl restart nginx"), "{shown}");
}

#[test]
fn an_unreadable_history_says_why_and_r_tries_again() {
    let mut m = model();
    press(&mut m, "5");
    update(
        &mut m,
        Msg::HistoryLoaded {
            request: 1,
            result: Err("cannot read the run history: /x/history.jsonl: permission denied".into()),
        },
    );
    assert!(matches!(m.history.load, ListLoad::Failed(_)));
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("permission denied"), "{shown}");
    assert_eq!(press(&mut m, "R"), [Effect::LoadHistory { request: 2 }]);
}

#[test]
fn movement_keys_walk_the_list() {
    let mut m = history_model();
    assert_eq!(selected_id(&m), NEWEST);
    press(&mut m, "j");
    assert_eq!(selected_id(&m), MIDDLE);
    press(&mut m, "G");
    assert_eq!(selected_id(&m), OLDEST);
    press(&mut m, "j");
    assert_eq!(selected_id(&m), OLDEST, "the cursor stops at the last run");
    press(&mut m, "k");
    assert_eq!(selected_id(&m), MIDDLE);
    press(&mut m, "g g");
    assert_eq!(selected_id(&m), NEWEST);
    press(&mut m, "C-d");
    assert_eq!(selected_id(&m), OLDEST);
    press(&mut m, "C-u");
    assert_eq!(selected_id(&m), NEWEST);
    // The fleet's cursor is not touched by the history's keys.
    assert_eq!(m.fleet.cursor, 0);
}

#[test]
fn slash_filters_fuzzily_over_command_targets_status_user_and_id() {
    let mut m = history_model();
    press(&mut m, "/");
    assert_eq!(m.shell.popup.name(), "filter");
    type_text(&mut m, "rstrt ngx");
    assert_eq!(m.history.shown, [0], "fuzzy over the command");
    assert!(text(&draw(&m, 80, 24)).contains("/rstrt ngx"));
    press(&mut m, "esc");
    assert_eq!(m.shell.popup.name(), "none");
    assert_eq!(
        m.history.shown,
        [0, 1, 2],
        "esc while typing drops the filter"
    );
    for (query, want) in [
        ("tail", vec![1]),
        ("lab1", vec![2]),
        ("cancelled", vec![2]),
        ("ANA@", vec![0, 1, 2]),
        (&MIDDLE[..14], vec![1]),
        ("ok", vec![1]),
        ("zzzz", vec![]),
    ] {
        press(&mut m, "/");
        type_text(&mut m, query);
        press(&mut m, "enter");
        assert_eq!(m.history.shown, want, "filter {query:?}");
        assert_eq!(m.history.filter.text(), query);
        // esc in the list drops the filter first.
        press(&mut m, "esc");
        assert!(m.history.filter.is_empty());
    }
    // The fleet's filter is a different one.
    assert!(m.fleet.filter.is_empty());
    press(&mut m, "/");
    type_text(&mut m, "zzzz");
    press(&mut m, "enter");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("No run matches"), "{shown}");
    assert!(press(&mut m, "enter").is_empty(), "nothing to open");
}

#[test]
fn a_console_run_finishing_reloads_a_list_already_read() {
    let mut m = model();
    let result = recorded_runs().remove(1);
    let finished = |m: &mut Model| {
        update(
            m,
            Msg::Engine {
                run: result.id.clone(),
                event: engine::EngineEvent::RunFinished {
                    result: Box::new(result.clone()),
                },
            },
        )
    };
    // Never shown: nothing to refresh (it is read when first shown).
    assert!(finished(&mut m).is_empty());
    let mut m = history_model();
    assert_eq!(finished(&mut m), [Effect::LoadHistory { request: 2 }]);
}

#[test]
fn list_snapshots() {
    let m = history_model();
    for (w, h) in SIZES {
        snapshot(&m, "history_list", w, h);
    }
}

#[test]
fn filtered_list_snapshots() {
    let mut m = history_model();
    press(&mut m, "/");
    type_text(&mut m, "web");
    press(&mut m, "enter");
    assert_eq!(m.history.shown, [0]);
    for (w, h) in SIZES {
        snapshot(&m, "history_filtered", w, h);
    }
}
