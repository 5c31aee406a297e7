//! The loads themselves: reading what the engine recorded (a real run of local hosts through
//! a fleet session), a missing history, and output bounded per host.

use super::*;

use crate::ui::app::runs::tests::local_model;

/// Runs the confirmed `start` through a fleet session as the console does, feeding its events
/// to `update` until it ends, and returns the effects the update asked for along the way.
async fn run_on_engine(
    m: &mut Model,
    home: &Home,
    settings: &Settings,
    start: crate::ui::app::runs::RunStart,
) -> Vec<Effect> {
    let session = crate::ui::app::runs::tests::session_for(home, settings, &start.hosts);
    // The test reads back what is recorded: the run must not go unrecorded.
    home.ensure_writable_dirs().unwrap();
    let (tx, mut rx) = mpsc::channel(ENGINE_CHANNEL);
    submit_run(home, settings, start, &session, tx).unwrap();
    let mut effects = Vec::new();
    loop {
        let (run, event) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("the engine went quiet")
            .expect("the run ended with RunFinished");
        let last = matches!(event, engine::EngineEvent::RunFinished { .. });
        effects.extend(update(m, Msg::Engine { run, event }));
        if last {
            break;
        }
    }
    assert!(session.shutdown(Duration::from_secs(30)).await);
    effects
}

/// Performs a load effect the way the event loop does and feeds the answer to `update`.
async fn perform(m: &mut Model, home: &Home, settings: &Settings, effect: Effect) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    match effect {
        Effect::LoadHistory { request } => spawn_load_history(home, settings, request, tx),
        Effect::LoadRunOutput(id) => spawn_load_run_output(home, settings, id, tx),
        other => panic!("not a load: {other:?}"),
    }
    let msg = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("the load answered")
        .expect("the load sent its answer");
    assert!(update(m, msg).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loads_read_what_the_engine_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let settings = Settings::default();
    let mut m = local_model();
    // An empty history first: the view says so.
    let load = press(&mut m, "5");
    for effect in load {
        perform(&mut m, &home, &settings, effect).await;
    }
    assert!(text(&draw(&m, 80, 24)).contains("No runs recorded yet"));

    // A run from the console: lab2 fails.
    press(&mut m, "1 space space :");
    type_text(
        &mut m,
        "run echo hi from $FLEETDECK_HOST; [ $FLEETDECK_HOST = lab1 ] || { echo oops >&2; exit 3; }",
    );
    press(&mut m, "enter");
    let effects = press(&mut m, "enter");
    let [Effect::StartRun(start)] = effects.as_slice() else {
        panic!("the run did not start: {effects:?}");
    };
    let start = start.clone();
    let effects = run_on_engine(&mut m, &home, &settings, start.clone()).await;
    // The finished run asks for the list again (it was read before); perform that.
    assert_eq!(effects, [Effect::LoadHistory { request: 2 }]);
    perform(&mut m, &home, &settings, effects[0].clone()).await;

    press(&mut m, "5");
    assert_eq!(m.history.runs.len(), 1);
    let run = &m.history.runs[0];
    assert_eq!(run.id, start.id);
    assert_eq!(run.status, crate::engine::RunStatus::Failed);
    let list = text(&draw(&m, 80, 24));
    assert!(list.contains("1/2"), "{list}");
    assert!(list.contains("failed"), "{list}");

    let effects = press(&mut m, "enter");
    assert_eq!(effects, [Effect::LoadRunOutput(start.id.clone())]);
    perform(&mut m, &home, &settings, effects[0].clone()).await;
    press(&mut m, "j enter");
    let pane = text(&draw(&m, 80, 24));
    assert!(pane.contains("hi from lab2"), "{pane}");
    assert!(pane.contains("oops"), "{pane}");

    // A damaged line and a torn write: reported, not fatal.
    let history = home.history_file();
    let mut text_now = std::fs::read_to_string(&history).unwrap();
    text_now.insert_str(0, "{not json\n");
    text_now.push_str("{\"v\":1,\"ts\":\"2026");
    std::fs::write(&history, text_now).unwrap();
    press(&mut m, "esc esc");
    let effects = press(&mut m, "R");
    perform(&mut m, &home, &settings, effects[0].clone()).await;
    assert_eq!(m.history.runs.len(), 1);
    let Some(Message::Error(note)) = &m.shell.message else {
        panic!("no warning: {:?}", m.shell.message);
    };
    assert!(note.contains("damaged line"), "{note}");
    assert!(note.contains("1 more"), "{note}");
}

#[test]
fn a_missing_history_is_an_empty_list_and_a_run_without_output_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    let records = Records::new(&home, &Settings::default().store);
    let page = load_history(&records, 10).unwrap();
    assert!(page.runs.is_empty() && page.warnings.is_empty());
    let out = crate::ui::app::history::load::load_run_output(&records, NEWEST).unwrap();
    assert!(out.hosts.is_empty());
}

#[test]
fn run_output_is_bounded_per_host() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::under(dir.path());
    home.ensure_writable_dirs().unwrap();
    let records = Records::new(&home, &Settings::default().store);
    let mut writer = crate::store::JsonlWriter::open(
        &records.run_output_path(NEWEST),
        crate::store::Rotation::NEVER,
        1,
    )
    .unwrap();
    // 3 MiB for one host, in 64 KiB records of numbered lines.
    let chunk: String = (0..1024).map(|i| format!("line {i:058}\n")).collect();
    for _ in 0..48 {
        writer
            .append(&crate::engine::OutputRecord {
                host: "web01".into(),
                stream: Stream::Stdout,
                data: chunk.clone(),
            })
            .unwrap();
    }
    let out = crate::ui::app::history::load::load_run_output(&records, NEWEST).unwrap();
    let sb = out.get("web01").unwrap();
    assert!(
        sb.bytes() <= crate::ui::app::history::state::OUTPUT_CAPS.max_bytes,
        "{}",
        sb.bytes()
    );
    assert!(sb.lines_dropped() > 0);
}
