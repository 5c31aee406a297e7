//! An opened run: its host table, a host's recorded output (answers for another run
//! dropped), `r` rerunning the hosts that did not end ok, and snapshots of both.

use super::*;

#[test]
fn enter_opens_a_run_then_a_hosts_output_and_esc_goes_back() {
    let mut m = history_model();
    opened(&mut m);
    let open = m.history.open.as_ref().unwrap();
    assert!(matches!(open.output, OutputLoad::Loaded(_)));
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains(&format!("run {NEWEST}")), "{shown}");
    assert!(shown.contains("Job for nginx.service failed"), "{shown}");
    assert!(
        shown.contains("unreachable (connect): connection refused"),
        "{shown}"
    );
    press(&mut m, "j enter");
    assert!(m.history.pane_open());
    let pane = text(&draw(&m, 80, 24));
    assert!(pane.contains("restarting nginx"), "{pane}");
    assert!(pane.contains("Job for nginx.service failed"), "{pane}");
    // Pane keys work on the recorded output.
    press(&mut m, "w");
    assert!(m.history.open.as_ref().unwrap().pane.is_wrapped());
    press(&mut m, "esc");
    assert!(!m.history.pane_open());
    assert!(m.history.open.is_some());
    // A host with nothing recorded says so.
    press(&mut m, "G enter");
    assert!(text(&draw(&m, 80, 24)).contains("(no output recorded)"));
    press(&mut m, "esc esc");
    assert!(m.history.open.is_none());
    assert_eq!(m.shell.view, View::History);
    // At the top of the list, esc only says how to quit.
    press(&mut m, "esc");
    assert!(!m.shell.quit);
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("quits")));
}

#[test]
fn output_answers_for_another_run_are_dropped_and_errors_shown() {
    let mut m = history_model();
    press(&mut m, "enter");
    update(
        &mut m,
        Msg::RunOutputLoaded {
            id: MIDDLE.into(),
            output: Ok(restart_output()),
        },
    );
    assert!(matches!(
        m.history.open.as_ref().unwrap().output,
        OutputLoad::Loading
    ));
    press(&mut m, "enter");
    assert!(text(&draw(&m, 80, 24)).contains("reading output"));
    update(
        &mut m,
        Msg::RunOutputLoaded {
            id: NEWEST.into(),
            output: Err(format!("cannot read the output of run {NEWEST}: denied")),
        },
    );
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("denied"), "{shown}");
}

#[test]
fn r_reruns_the_hosts_that_did_not_end_ok_through_the_confirmation() {
    let mut m = history_model();
    assert!(press(&mut m, "r").is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    let popup = text(&draw(&m, 80, 24));
    assert!(
        popup.contains("Run on 3 hosts: gone7,web[02-03]"),
        "{popup}"
    );
    assert!(popup.contains("$ systemctl restart nginx"), "{popup}");
    let effects = press(&mut m, "enter");
    let [Effect::StartRun(start)] = effects.as_slice() else {
        panic!("expected one StartRun, got {effects:?}");
    };
    let names: Vec<&str> = start.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web02", "web03", "gone7"]);
    // Inventory hosts come as the inventory describes them; a name no longer there is a
    // plain ssh destination, like `fleetdeck history rerun`.
    assert_eq!(start.hosts[0].env.as_deref(), Some("prod"));
    assert_eq!(start.hosts[2].transport, TransportKind::Ssh);
    assert_eq!(start.hosts[2].env, None);
    assert_eq!(start.command, "systemctl restart nginx");
    // The run shows in the Runs view like any run.
    assert_eq!(m.shell.view, View::Runs);
    assert_eq!(m.runs.list.len(), 1);
}

#[test]
fn r_in_an_opened_run_reruns_that_run_and_an_all_ok_run_has_nothing_to_rerun() {
    let mut m = history_model();
    press(&mut m, "j");
    assert!(press(&mut m, "r").is_empty());
    assert_eq!(m.shell.popup.name(), "none");
    assert!(
        matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("nothing to rerun")),
        "{:?}",
        m.shell.message
    );
    press(&mut m, "G enter");
    press(&mut m, "r");
    assert_eq!(m.shell.popup.name(), "confirm");
    assert!(text(&draw(&m, 80, 24)).contains("Run on 1 host: lab1"));
    press(&mut m, "esc");
    assert!(m.runs.list.is_empty());
    assert_eq!(m.shell.view, View::History);
}

#[test]
fn opened_run_snapshots() {
    let mut m = history_model();
    opened(&mut m);
    for (w, h) in SIZES {
        snapshot(&m, "history_open", w, h);
    }
    press(&mut m, "j enter");
    for (w, h) in SIZES {
        update(&mut m, Msg::Resize(w, h));
        snapshot(&m, "history_output", w, h);
    }
}
