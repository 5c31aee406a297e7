//! Runs through the real engine and queue (local hosts only: no network): a run's output,
//! results and record, the rerun it offers, and runs over `max_running` waiting their turn.
//! (`run_through_the_queue` is shared with the History and Actions tests.)

use super::*;

/// Starts `start` through a fleet session, as the event loop does, and feeds the model every
/// event until no run is in flight.
pub(crate) async fn run_through_the_queue(
    m: &mut Model,
    home: &Home,
    settings: &Settings,
    start: RunStart,
) {
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    let session = session_for(home, settings, &start.hosts);
    submit_run(home, settings, start, &session, tx).unwrap();
    update(m, Msg::Queue(session.snapshot().queue));
    while m.runs_in_flight() > 0 {
        let (run, event) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the engine went quiet")
            .expect("the engine stopped without RunFinished");
        update(m, Msg::Engine { run, event });
    }
    assert!(session.shutdown(Duration::from_secs(30)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_hosts_run_through_the_real_engine() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let settings = Settings::default();
    let mut m = local_model();
    press(&mut m, "space space");
    let effects = run_command(
        &mut m,
        "echo hi from $FLEETDECK_HOST; [ $FLEETDECK_HOST = lab1 ] || { echo oops >&2; exit 3; }",
    );
    assert!(effects.is_empty());
    let effects = enter(&mut m);
    let start = started(&effects).clone();
    run_through_the_queue(&mut m, &home, &settings, start).await;
    let run = &m.runs.list[0];
    assert_eq!(run.states[0], HostState::Ok);
    assert!(run.states[1].is_failure(), "{:?}", run.states[1]);
    let counts = run.counts();
    assert_eq!((counts.ok, counts.failed), (1, 1));
    let lab2 = run.results[1].as_ref().unwrap();
    assert_eq!(lab2.exit_code, Some(3));
    assert_eq!(lab2.first_error_line.as_deref(), Some("oops"));
    let table = text(&draw(&m, 80, 24));
    assert!(table.contains("ok 1 · failed 1"), "{table}");
    assert!(table.contains("oops"), "{table}");
    assert!(table.contains("1 failed"), "status bar: {table}");
    // Enter on lab2 shows its output zoomed; esc goes back to the table.
    press(&mut m, "j enter");
    assert_eq!(m.runs.layout, RunLayout::Grid);
    let pane = text(&draw(&m, 80, 24));
    assert!(pane.contains("hi from lab2"), "{pane}");
    assert!(pane.contains("oops"), "{pane}");
    assert!(!pane.contains("hi from lab1"), "zoomed: {pane}");
    press(&mut m, "w");
    assert!(m.runs.list[0].panes[1].is_wrapped());
    press(&mut m, "esc");
    assert_eq!(m.runs.layout, RunLayout::Table);
    // The merged stream has both hosts' lines under their names.
    press(&mut m, "v v");
    let merged = text(&draw(&m, 80, 24));
    assert!(merged.contains("lab1:"), "{merged}");
    assert!(merged.contains("lab2!:"), "{merged}");
    // `r` asks to rerun the failed host only.
    press(&mut m, "esc r");
    assert_eq!(m.shell.popup.name(), "confirm");
    assert!(text(&draw(&m, 80, 24)).contains("Run on 1 host: lab2"));
    // The run was recorded like any `fleetdeck run`.
    let history = std::fs::read_to_string(home.history_file()).unwrap();
    assert!(history.contains(&m.runs.list[0].id));
    // Confirming the rerun submits it, and audit.jsonl names the run it repeats.
    let first = m.runs.list[0].id.clone();
    let rerun = started(&enter(&mut m)).clone();
    assert_eq!(rerun.rerun_of.as_deref(), Some(first.as_str()));
    run_through_the_queue(&mut m, &home, &settings, rerun).await;
    let second = m
        .runs
        .list
        .iter()
        .find(|r| r.id != first)
        .expect("the rerun is shown");
    assert_eq!(second.hosts, ["lab2"]);
    assert!(second.finished.is_some(), "the rerun ran to its end");
    let audit = std::fs::read_to_string(home.audit_file()).unwrap();
    let rerun_line = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["action"] == "rerun")
        .expect("a rerun line in audit.jsonl");
    assert_eq!(rerun_line["run_id"], first.as_str());
    assert_eq!(rerun_line["targets"], "lab2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_over_max_running_wait_visibly_then_start() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let mut settings = Settings::default();
    settings.queue.max_running = 1;
    settings.queue.capacity = 1;
    let go = dir.path().join("go");
    let go_quoted = shlex::try_quote(&go.to_string_lossy())
        .unwrap()
        .into_owned();
    let mut m = local_model();
    press(&mut m, "space");
    run_command(
        &mut m,
        &format!(
            "for i in $(seq 1 1200); do [ -e {go_quoted} ] && exit 0; sleep 0.05; done; exit 1"
        ),
    );
    let first = started(&enter(&mut m)).clone();
    run_command(&mut m, "echo second");
    let second = started(&enter(&mut m)).clone();
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    let session = session_for(&home, &settings, &first.hosts);
    let mut changes = session.changes();
    for start in [first.clone(), second.clone()] {
        submit_run(&home, &settings, start, &session, tx.clone()).unwrap();
        update(&mut m, Msg::Queue(session.snapshot().queue));
    }
    assert_eq!(
        m.shell.message,
        Some(Message::Info(format!(
            "run {} queued #1 (normal): it starts when a running run ends",
            second.id
        )))
    );
    // One more than the queue holds is refused, and the console says why.
    run_command(&mut m, "echo third");
    let third = started(&enter(&mut m)).clone();
    let refused = submit_run(&home, &settings, third.clone(), &session, tx.clone()).unwrap_err();
    assert_eq!(refused, "queue full (1 waiting): cancel or wait");
    update(
        &mut m,
        Msg::RunNotStarted {
            run: third.id.clone(),
            error: refused,
        },
    );
    assert_eq!(m.selected_run().unwrap().status(), "not started");
    assert_eq!(
        m.shell.message,
        Some(Message::Error(format!(
            "run {} did not start: queue full (1 waiting): cancel or wait",
            third.id
        )))
    );
    // The queued run stays visible below it.
    press(&mut m, "]");
    drop(tx);
    let shown = text(&draw(&m, 80, 24));
    assert!(shown.contains("◷ queued #1"), "{shown}");
    assert!(shown.contains("1 running │ 1 queued"), "{shown}");
    std::fs::write(&go, b"go").unwrap();
    // The loop's way: engine events and queue changes, until both runs have finished.
    while m.runs_in_flight() > 0 {
        let msg = tokio::time::timeout(Duration::from_secs(60), async {
            tokio::select! {
                Some((run, event)) = rx.recv() => Msg::Engine { run, event },
                Ok(()) = changes.changed() => Msg::Queue(session.snapshot().queue),
            }
        })
        .await
        .expect("the queue went quiet");
        update(&mut m, msg);
    }
    let result = |id: &str| {
        m.runs
            .list
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.finished.clone())
            .unwrap()
    };
    let (a, b) = (result(&first.id), result(&second.id));
    assert_eq!((a.status.as_str(), b.status.as_str()), ("ok", "ok"));
    // The second started only once the first had ended (RFC 3339 UTC sorts as text).
    assert!(b.started >= a.finished, "{} < {}", b.started, a.finished);
    let shown = text(&draw(&m, 80, 24));
    assert!(!shown.contains("queued"), "{shown}");
    assert!(session.shutdown(Duration::from_secs(30)).await);
}
