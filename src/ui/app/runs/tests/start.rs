//! Starting a run from the console: `!` / `:run`, the confirmation with its host count,
//! folded node set and environments (protected ones typed), esc, quitting with runs in
//! flight, and `r` / `:rerun` of the hosts that did not end ok.

use super::*;

#[test]
fn bang_prefills_run_and_the_popup_states_count_folded_set_and_envs() {
    let mut m = model();
    press(&mut m, "space space space");
    press(&mut m, "!");
    assert_eq!(m.shell.popup.name(), "command");
    assert_eq!(m.shell.command.input, "run ");
    type_text(&mut m, "uptime");
    assert!(enter(&mut m).is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("Run on 3 hosts: web[01-03]"), "{shown}");
    assert!(shown.contains("environments: prod"), "{shown}");
    assert!(shown.contains("$ uptime"), "{shown}");
    let effects = enter(&mut m);
    let start = started(&effects);
    assert_eq!(start.hosts.len(), 3);
    assert_eq!(start.command, "uptime");
    assert_eq!(m.shell.popup.name(), "none");
    assert_eq!(m.shell.view, View::Runs);
    assert_eq!(m.runs.list.len(), 1);
    assert!(m.runs.list[0].in_flight());
}

#[test]
fn unmarked_runs_target_the_shown_hosts_and_protected_envs_need_typing() {
    let mut m = model();
    m.protected_envs = vec!["prod".into()];
    assert!(run_command(&mut m, "uptime").is_empty());
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("Run on 12 hosts"), "{shown}");
    assert!(
        shown.contains("environments: lab, prod, staging"),
        "{shown}"
    );
    assert!(shown.contains("type `prod`"), "{shown}");
    // Enter does nothing until the name is typed.
    assert!(enter(&mut m).is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    type_text(&mut m, "pro");
    assert!(enter(&mut m).is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    // `y` is typed text here, not a yes.
    type_text(&mut m, "y");
    assert!(enter(&mut m).is_empty());
    update(&mut m, Msg::Key(key(KeyCode::Backspace)));
    type_text(&mut m, "d");
    assert_eq!(started(&enter(&mut m)).hosts.len(), 12);
}

#[test]
fn esc_cancels_the_confirmation_and_nothing_runs() {
    let mut m = model();
    m.protected_envs = vec!["prod".into()];
    run_command(&mut m, "reboot");
    type_text(&mut m, "pr");
    assert!(press(&mut m, "esc").is_empty());
    assert_eq!(m.shell.popup.name(), "none");
    assert!(m.shell.popup.confirm().is_none());
    assert!(m.runs.list.is_empty());
    assert_eq!(m.shell.view, View::Fleet);
}

#[test]
fn run_without_a_command_is_an_error() {
    let mut m = model();
    assert!(run_command(&mut m, "").is_empty());
    assert_eq!(m.shell.popup.name(), "none");
    assert!(m.shell.popup.confirm().is_none());
}

#[test]
fn quitting_with_a_run_in_flight_asks_first_and_x_cancels() {
    let mut m = model();
    press(&mut m, "space");
    run_command(&mut m, "sleep 60");
    let id = started(&enter(&mut m)).id.clone();
    // A running run is cancelled only after a confirmation; n keeps it running.
    assert!(press(&mut m, "X").is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    let popup = text(&draw(&m, 80, 24));
    assert!(
        popup.contains(&format!("Cancel run {id} on 1 host: web01")),
        "{popup}"
    );
    assert!(popup.contains("y cancel the run"), "{popup}");
    assert!(press(&mut m, "n").is_empty());
    assert_eq!(m.shell.popup.name(), "none");
    assert_eq!(
        m.shell.message,
        Some(Message::Info(format!("run {id} keeps running")))
    );
    assert!(press(&mut m, "X").is_empty());
    assert_eq!(press(&mut m, "y"), [Effect::CancelRun(id.clone())]);
    assert_eq!(m.shell.popup.name(), "none");
    assert!(press(&mut m, "Q").is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    assert!(text(&draw(&m, 80, 24)).contains("1 run(s) in flight"));
    assert!(press(&mut m, "n").is_empty());
    assert_eq!(m.shell.popup.name(), "none");
    assert!(!m.shell.quit);
    press(&mut m, ":");
    type_text(&mut m, "q");
    assert!(enter(&mut m).is_empty());
    assert_eq!(press(&mut m, "y"), [Effect::Quit]);
    assert!(m.shell.quit);
}

/// The df run, finished with a failure, a timeout, an unreachable host and a host that has
/// since left the inventory.
fn rerunnable() -> Model {
    let mut m = model();
    m.shell.view = View::Runs;
    add_run(
        &mut m,
        DF,
        &["db01", "db02", "db03", "web01", "web02"],
        "df -h /",
    );
    feed(
        &mut m,
        DF,
        vec![
            state(0, HostState::Ok),
            state(1, failed(1)),
            state(
                2,
                HostState::Timeout {
                    outcome: ExitOutcome::Code { code: 124 },
                },
            ),
            state(
                3,
                HostState::Unreachable {
                    kind: crate::engine::ErrorKind::Connect,
                    message: "connection refused".into(),
                },
            ),
            state(4, HostState::Cancelled),
        ],
    );
    m
}

#[test]
fn r_reruns_every_host_that_did_not_end_ok_after_confirmation() {
    let mut m = rerunnable();
    // Still in flight: nothing to rerun yet.
    press(&mut m, "r");
    assert_eq!(m.shell.popup.name(), "none");
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("still in flight")));
    finish(&mut m, DF, "failed");
    press(&mut m, "r");
    assert_eq!(m.shell.popup.name(), "confirm");
    let shown = text(&draw(&m, 80, 24));
    assert!(
        shown.contains("Run on 4 hosts: db[02-03],web[01-02]"),
        "{shown}"
    );
    assert!(shown.contains("$ df -h /"), "{shown}");
    let effects = enter(&mut m);
    let start = started(&effects);
    let names: Vec<&str> = start.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["db02", "db03", "web01", "web02"]);
    assert_eq!(start.command, "df -h /");
    // The rerun is the new selected run, in the list above the old one.
    assert_eq!(m.runs.list.len(), 2);
    assert_eq!(m.runs.selected, 1);
}

#[test]
fn rerun_keeps_hosts_no_longer_in_the_inventory_as_ssh_destinations_and_colon_rerun_does_the_same()
{
    let mut m = rerunnable();
    finish(&mut m, DF, "failed");
    // web01 left hosts.toml since the run.
    let kept: Vec<_> = m
        .inventory
        .hosts()
        .iter()
        .filter(|h| h.name != "web01")
        .cloned()
        .collect();
    m.inventory = crate::inventory::Inventory::new(kept);
    press(&mut m, ":");
    type_text(&mut m, "rerun");
    enter(&mut m);
    assert_eq!(m.shell.popup.name(), "confirm");
    let effects = enter(&mut m);
    let hosts = &started(&effects).hosts;
    assert_eq!(hosts.len(), 4);
    // Like `fleetdeck history rerun`: a name that left hosts.toml is a plain ssh destination.
    let web01 = hosts.iter().find(|h| h.name == "web01").unwrap();
    assert_eq!(web01.transport, crate::inventory::TransportKind::Ssh);
    assert!(web01.tags.is_empty());
    // A run with nothing failed says so and asks nothing.
    let id = m.runs.list[1].id.clone();
    feed(
        &mut m,
        &id,
        (0..4).map(|i| state(i, HostState::Ok)).collect(),
    );
    finish(&mut m, &id, "ok");
    press(&mut m, "r");
    assert_eq!(m.shell.popup.name(), "none");
    assert!(matches!(&m.shell.message, Some(Message::Info(t)) if t.contains("no failed")));
}
