//! What the console keeps and waits for: pruning finished runs by count and output budget,
//! queued and paused runs in the list and status bar, `X` and `p`, and the cancel popup.

use super::*;

#[test]
fn the_console_keeps_the_newest_finished_runs_and_every_run_in_flight() {
    use crate::ui::app::runs::run::KEEP_FINISHED_RUNS;
    let mut m = model();
    add_run(&mut m, "INFLIGHT", &["db01"], "sleep 600");
    for i in 0..KEEP_FINISHED_RUNS + 3 {
        let id = format!("DONE{i:02}");
        add_run(&mut m, &id, &["web01"], "true");
        feed(&mut m, &id, vec![state(0, HostState::Ok)]);
        finish(&mut m, &id, "ok");
    }
    press(&mut m, "space");
    run_command(&mut m, "uptime");
    let id = started(&enter(&mut m)).id.clone();
    let ids: Vec<&str> = m.runs.list.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), KEEP_FINISHED_RUNS + 2, "{ids:?}");
    assert_eq!(ids[0], "INFLIGHT");
    assert_eq!(ids[1], "DONE03");
    assert_eq!(m.selected_run().unwrap().id, id);
}

#[test]
fn finished_runs_over_the_output_budget_are_dropped_oldest_first() {
    use crate::ui::app::runs::run::prune_within;
    let mut m = model();
    // Three finished runs of 10 hosts x 64 KiB: with a 1.5 MiB budget the oldest goes.
    let line = vec![b'x'; 1023].into_iter().chain([b'\n']);
    let chunk: Vec<u8> = line.cycle().take(64 * 1024).collect();
    for id in ["BIG0", "BIG1", "BIG2"] {
        let start = RunStart {
            id: id.into(),
            selector: "h[0-9]".into(),
            hosts: (0..10)
                .map(|i| crate::inventory::Host::ad_hoc(&format!("h{i}")))
                .collect(),
            command: "flood".into(),
            prepared: None,
            rerun_of: None,
            for_incidents: Vec::new(),
        };
        m.runs.list.push(RunView::new(&start));
        let events = (0..10)
            .map(|host| EngineEvent::Output {
                host,
                stream: Stream::Stdout,
                bytes: chunk.clone(),
            })
            .collect();
        feed(&mut m, id, events);
        finish(&mut m, id, "ok");
    }
    let budget = 3 << 19;
    let mut selected = 2;
    prune_within(&mut m.runs.list, &mut selected, 20, budget);
    let held: usize = m.runs.list.iter().map(|r| r.output_bytes()).sum();
    let ids: Vec<&str> = m.runs.list.iter().map(|r| r.id.as_str()).collect();
    assert!(held <= budget, "{held} bytes in {ids:?}");
    assert_eq!(ids, ["BIG1", "BIG2"]);
    assert_eq!(selected, 1, "still the same run");
    // The newest finished run stays even when it alone is over the budget.
    prune_within(&mut m.runs.list, &mut selected, 20, 1);
    let ids: Vec<&str> = m.runs.list.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["BIG2"]);
}

const QUEUED_HIGH: &str = "01JQUEUEDHIGH000000000000";
const QUEUED_LOW: &str = "01JQUEUEDLOW0000000000000";

/// The queue as the engine would report it: `running` (id, paused) and `queued` (id,
/// priority) in start order, for runs the console knows.
fn queue_snapshot(
    m: &Model,
    running: &[(&str, bool)],
    queued: &[(&str, Priority)],
) -> QueueSnapshot {
    let info = |id: &str| {
        let r = m.runs.list.iter().find(|r| r.id == id).unwrap();
        (r.command.clone(), r.hosts.len())
    };
    QueueSnapshot {
        queued: queued
            .iter()
            .enumerate()
            .map(|(i, (id, priority))| QueuedRun {
                id: (*id).into(),
                position: i + 1,
                priority: *priority,
                command: info(id).0,
                hosts: info(id).1,
                since: SystemTime::UNIX_EPOCH,
            })
            .collect(),
        running: running
            .iter()
            .map(|(id, paused)| RunningRun {
                id: (*id).into(),
                priority: Priority::Normal,
                command: info(id).0,
                hosts: info(id).1,
                since: SystemTime::UNIX_EPOCH,
                paused: *paused,
            })
            .collect(),
    }
}

/// `three_runs` with two more runs waiting (high, then low) and the restart paused.
fn queued_runs() -> Model {
    let mut m = three_runs();
    add_run(
        &mut m,
        QUEUED_HIGH,
        &["db01", "db02"],
        "pg_dump app > /tmp/app.sql",
    );
    add_run(
        &mut m,
        QUEUED_LOW,
        &["web07", "web08"],
        "apt-get -y upgrade",
    );
    let snap = queue_snapshot(
        &m,
        &[(RESTART, true)],
        &[(QUEUED_HIGH, Priority::High), (QUEUED_LOW, Priority::Low)],
    );
    update(&mut m, Msg::Queue(snap));
    m
}

#[test]
fn run_list_shows_queued_running_and_paused_runs_and_the_status_bar_the_queue_depth() {
    let mut m = queued_runs();
    let shown = shot(&mut m, 200, 50);
    for needle in [
        "◷ queued #1",
        "◷ queued #2",
        "high priority · waits for a free run slot  $ pg_dump",
        "low priority · waits for a free run slot  $ apt-get",
        "⏸ paused",
        "ok 2 · failed 1 · running 1 · pending 2",
        "1 running, 1 paused │ 2 queued",
        "run 01JQUEUEDLOW0000000000000 [queued]",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    // Newest first: the low run was submitted last.
    let row = |needle: &str| shown.lines().position(|l| l.contains(needle)).unwrap();
    assert!(row("queued #2") < row("queued #1"), "{shown}");
    assert!(row("queued #1") < row("paused"), "{shown}");
    assert_eq!(
        m.shell.message,
        Some(Message::Info(format!(
            "run {QUEUED_LOW} queued #2 (low): it starts when a running run ends"
        )))
    );
    for (w, h) in SIZES {
        let shown = shot(&mut m, w, h);
        insta::assert_snapshot!(format!("queue_{w}x{h}"), shown);
    }
    // Without colour the same words and symbols are there.
    let mut plain = queued_runs();
    plain.shell.theme = plain.shell.theme.clone().with_ascii_symbols(true);
    let shown = shot(&mut plain, 200, 50);
    assert!(shown.contains("w queued #1"), "{shown}");
    assert!(shown.contains("= paused"), "{shown}");
}

#[test]
fn x_takes_a_queued_run_out_at_once_and_p_pauses_and_resumes_a_running_one() {
    let mut m = queued_runs();
    assert_eq!(m.selected_run().unwrap().id, QUEUED_LOW);
    // A queued run does not pause: it has not started.
    assert!(press(&mut m, "p").is_empty());
    assert_eq!(
        m.shell.message,
        Some(Message::Info(format!(
            "run {QUEUED_LOW} is queued (#2): only a running run pauses; X removes it"
        )))
    );
    // X on a queued run: no popup, nothing of it has run.
    assert_eq!(press(&mut m, "X"), [Effect::CancelRun(QUEUED_LOW.into())]);
    assert_eq!(m.shell.popup.name(), "none");
    assert!(m.shell.popup.confirm().is_none());
    // The queue answers, and the engine records it as a cancelled run.
    let snap = queue_snapshot(&m, &[(RESTART, true)], &[(QUEUED_HIGH, Priority::High)]);
    update(&mut m, Msg::Queue(snap));
    let skipped = || HostState::Skipped {
        reason: "run cancelled".into(),
    };
    feed(
        &mut m,
        QUEUED_LOW,
        vec![
            EngineEvent::RunStarted {
                id: QUEUED_LOW.into(),
                hosts: 2,
            },
            state(0, skipped()),
            state(1, skipped()),
        ],
    );
    finish(&mut m, QUEUED_LOW, "cancelled");
    let shown = shot(&mut m, 200, 50);
    assert!(shown.contains("⊘ cancelled"), "{shown}");
    assert!(shown.contains("1 running, 1 paused │ 1 queued"), "{shown}");
    // The paused restart: `]` selects older runs (low, high, restart).
    press(&mut m, "] ]");
    assert_eq!(m.selected_run().unwrap().id, RESTART);
    assert_eq!(press(&mut m, "p"), [Effect::ResumeRun(RESTART.into())]);
    assert_eq!(m.selected_run().unwrap().status(), "running");
    assert_eq!(press(&mut m, "p"), [Effect::PauseRun(RESTART.into())]);
    assert_eq!(m.selected_run().unwrap().status(), "paused");
    let shown = shot(&mut m, 200, 50);
    assert!(shown.contains("pausing run"), "{shown}");
    // The high run starts when a place frees: it leaves the queue.
    feed(
        &mut m,
        QUEUED_HIGH,
        vec![EngineEvent::RunStarted {
            id: QUEUED_HIGH.into(),
            hosts: 2,
        }],
    );
    let high = m.runs.list.iter().find(|r| r.id == QUEUED_HIGH).unwrap();
    assert_eq!(high.status(), "running");
    let shown = shot(&mut m, 200, 50);
    assert!(shown.contains("2 running, 1 paused"), "{shown}");
    assert!(!shown.contains("queued"), "{shown}");
    // A finished run neither pauses nor cancels.
    press(&mut m, "]");
    assert_eq!(m.selected_run().unwrap().id, DF);
    assert!(press(&mut m, "p X").is_empty());
    assert_eq!(
        m.shell.message,
        Some(Message::Info(format!("run {DF} has already ended")))
    );
}

#[test]
fn the_cancel_popup_says_what_is_stopped_and_the_run_may_end_meanwhile() {
    let mut m = queued_runs();
    press(&mut m, "] ]");
    assert!(press(&mut m, "X").is_empty());
    assert_eq!(m.shell.popup.name(), "confirm");
    let shown = shot(&mut m, 80, 24);
    assert!(
        shown.contains(&format!("Cancel run {RESTART} on 6 hosts: web[01-06]")),
        "{shown}"
    );
    assert!(
        shown.contains("3 done · 1 running · 2 not started"),
        "{shown}"
    );
    insta::assert_snapshot!("cancel_popup_80x24", shown);
    // The run ends while the popup is open: y has nothing left to cancel.
    finish(&mut m, RESTART, "failed");
    assert!(press(&mut m, "y").is_empty());
    assert_eq!(m.shell.popup.name(), "none");
    assert_eq!(
        m.shell.message,
        Some(Message::Info(format!("run {RESTART} has already ended")))
    );
}
