//! The bulk-run engine against real local processes (`transport = "local"` hosts): states,
//! the fan-out window, batches, max-fail, cancel, bounded output, a flooding host, records.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fleetdeck::config::Home;
use fleetdeck::config::settings::StoreSettings;
use fleetdeck::engine::records::NOT_RECORDED_PREFIX;
use fleetdeck::engine::{
    AuditRecord, EngineEvent, HostState, Limit, OutputRecord, Records, RunRequest, RunResult,
    Stream, Transports, current_user, run,
};
use fleetdeck::inventory::{Host, TransportKind};
use fleetdeck::store::read_all_as;
use fleetdeck::transport::local::LocalTransport;
use fleetdeck::transport::{ErrorKind, ExitOutcome};
use support::engine::{PATIENCE, request};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

fn local_hosts(n: usize) -> Vec<Host> {
    support::engine::local_hosts("node", n)
}

fn transports() -> Transports {
    Transports::new().with(TransportKind::Local, Arc::new(LocalTransport))
}

/// Collects every event `rx` receives, until the run drops its sender.
fn collector(mut rx: mpsc::Receiver<EngineEvent>) -> JoinHandle<Vec<EngineEvent>> {
    tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(ev) = rx.recv().await {
            all.push(ev);
        }
        all
    })
}

/// Runs `req`, collecting every event as it comes.
async fn run_collect(req: RunRequest, records: Option<&Records>) -> (RunResult, Vec<EngineEvent>) {
    let (tx, rx) = mpsc::channel(64);
    let collector = collector(rx);
    let result = tokio::time::timeout(
        PATIENCE,
        run(req, &transports(), records, tx, CancellationToken::new()),
    )
    .await
    .expect("run finished");
    (result, collector.await.unwrap())
}

/// The states one host went through, in order.
fn states_of(events: &[EngineEvent], host: usize) -> Vec<HostState> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::State { host: h, state } if *h == host => Some(state.clone()),
            _ => None,
        })
        .collect()
}

fn output_of(events: &[EngineEvent], host: usize, stream: Stream) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Output {
                host: h,
                stream: s,
                bytes,
            } if *h == host && *s == stream => Some(bytes.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Polls until `done` holds; panics after PATIENCE.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The most "start" lines not yet matched by an "end" line at any point of the log.
fn max_concurrency(log: &[String]) -> usize {
    let (mut now, mut max) = (0usize, 0usize);
    for line in log {
        if line.starts_with("start") {
            now += 1;
            max = max.max(now);
        } else if line.starts_with("end") {
            now -= 1;
        }
    }
    max
}

fn sh_path(p: &Path) -> String {
    format!("'{}'", p.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_outcome_maps_to_its_state_sequence() {
    use HostState::*;
    let cases: Vec<(&str, Vec<HostState>, Option<i32>)> = vec![
        ("echo hi", vec![Connecting, Running, Ok], Some(0)),
        (
            "echo out; echo '  oops: bad thing ' >&2; exit 3",
            vec![
                Connecting,
                Running,
                Failed {
                    outcome: ExitOutcome::Code { code: 3 },
                },
            ],
            Some(3),
        ),
        (
            "kill -TERM $$",
            vec![
                Connecting,
                Running,
                Failed {
                    outcome: ExitOutcome::Signal {
                        signal: "TERM".into(),
                    },
                },
            ],
            None,
        ),
    ];
    for (command, expected, code) in cases {
        let (result, events) = run_collect(request(local_hosts(1), command), None).await;
        assert!(
            matches!(
                events.first(),
                Some(EngineEvent::RunStarted { hosts: 1, .. })
            ),
            "{events:?}"
        );
        assert!(
            matches!(events.last(), Some(EngineEvent::RunFinished { result: r }) if **r == result)
        );
        assert_eq!(states_of(&events, 0), expected, "{command}");
        assert_eq!(result.hosts[0].exit_code, code, "{command}");
        // Output comes between Running and the final state.
        let positions: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, EngineEvent::State { .. } | EngineEvent::Output { .. }))
            .map(|(i, _)| i)
            .collect();
        assert!(matches!(
            events[*positions.last().unwrap()],
            EngineEvent::State { .. }
        ));
        if code == Some(3) {
            assert_eq!(output_of(&events, 0, Stream::Stdout), b"out\n");
            assert_eq!(
                output_of(&events, 0, Stream::Stderr),
                b"  oops: bad thing \n"
            );
            let host = &result.hosts[0];
            assert_eq!(host.first_error_line.as_deref(), Some("oops: bad thing"));
            assert_eq!((host.bytes_out, host.bytes_err), (4, 19));
            assert_eq!((result.status.as_str(), result.exit_code()), ("failed", 1));
        }
        if code == Some(0) {
            assert_eq!(result.hosts[0].first_error_line, None);
            assert_eq!((result.status.as_str(), result.exit_code()), ("ok", 0));
        }
    }

    // A command timeout.
    let mut req = request(local_hosts(1), "sleep 30");
    req.spec.timeout = Some(Duration::from_millis(200));
    let (result, events) = run_collect(req, None).await;
    let states = states_of(&events, 0);
    assert!(
        matches!(
            states.as_slice(),
            [
                Connecting,
                Running,
                Timeout {
                    outcome: ExitOutcome::TimedOut { .. }
                }
            ]
        ),
        "{states:?}"
    );
    assert_eq!(result.exit_code(), 1);

    // A local error before the command starts (a missing working directory).
    let mut req = request(local_hosts(1), "true");
    req.spec.cwd = Some("/nonexistent/fleetdeck-test".into());
    let (result, events) = run_collect(req, None).await;
    assert!(
        matches!(
            states_of(&events, 0).as_slice(),
            [
                Connecting,
                Error {
                    kind: ErrorKind::Io,
                    ..
                }
            ]
        ),
        "{events:?}"
    );
    let line = result.hosts[0].first_error_line.as_deref().unwrap_or("");
    assert!(line.contains("node00"), "{line}");

    // A host whose transport is not in this build: an error for that host, not a panic.
    let mut targets = local_hosts(2);
    targets[1].transport = TransportKind::Agent;
    let (result, events) = run_collect(request(targets, "true"), None).await;
    assert_eq!(states_of(&events, 0).last(), Some(&Ok));
    match states_of(&events, 1).as_slice() {
        [
            Error {
                kind: ErrorKind::Io,
                message,
            },
        ] => {
            assert!(message.contains("transport agent is not available in this build"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(result.status.as_str(), "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_slides_and_never_exceeds_the_fanout() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let (slow, release) = (dir.path().join("slow"), dir.path().join("release"));
    // The first host to take the `slow` lock holds its slot until the test releases it (at
    // most 30 s); every other host ends at once.
    let command = format!(
        "echo start >> {log}; \
         if mkdir {slow} 2>/dev/null; then i=0; \
           while [ ! -e {release} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; fi; \
         echo end >> {log}",
        log = sh_path(&log),
        slow = sh_path(&slow),
        release = sh_path(&release)
    );
    let mut req = request(local_hosts(8), &command);
    req.fanout = 3;
    let task = tokio::spawn(async move { run_collect(req, None).await });
    // Seven hosts finish while the slow one still holds its slot: the window slid past it.
    wait_until("the other seven hosts to end", || {
        lines(&log).iter().filter(|l| *l == "end").count() == 7
    })
    .await;
    std::fs::write(&release, b"").unwrap();
    let (result, _) = task.await.unwrap();
    assert_eq!(result.status.as_str(), "ok");
    let log = lines(&log);
    assert_eq!(log.len(), 16);
    let max = max_concurrency(&log);
    assert!((1..=3).contains(&max), "{max} hosts at once: {log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_run_strictly_one_after_another() {
    for (hosts, batch, fanout, size) in [(7, Limit::Count(3), 10, 3), (8, Limit::Percent(25), 1, 2)]
    {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let command = format!(
            "echo start >> {log}; sleep 0.05; echo end >> {log}",
            log = sh_path(&log)
        );
        let mut req = request(local_hosts(hosts), &command);
        req.batch = Some(batch);
        req.fanout = fanout;
        let (result, _) = run_collect(req, None).await;
        assert_eq!(result.status.as_str(), "ok");
        let log = lines(&log);
        assert_eq!(log.len(), 2 * hosts);
        // Hosts start in order, so the k-th start belongs to batch k / size, and every host
        // of the earlier batches must have ended before it.
        let (mut starts, mut ends) = (0, 0);
        for line in &log {
            if line == "start" {
                assert!(
                    ends >= (starts / size) * size,
                    "start #{starts} before its batch could begin: {log:?}"
                );
                starts += 1;
            } else {
                ends += 1;
            }
        }
        assert!(max_concurrency(&log) <= size.min(fanout));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_fail_skips_the_rest() {
    let mut req = request(local_hosts(6), "echo broken >&2; exit 1");
    req.fanout = 1;
    req.max_fail = Some(Limit::Count(2));
    let (result, events) = run_collect(req, None).await;
    let labels: Vec<&str> = result.hosts.iter().map(|h| h.state.label()).collect();
    assert_eq!(
        labels,
        [
            "failed", "failed", "skipped", "skipped", "skipped", "skipped"
        ]
    );
    for (i, host) in result.hosts.iter().enumerate().skip(2) {
        let skipped = HostState::Skipped {
            reason: "max-fail reached: 2 failed".into(),
        };
        assert_eq!(host.state, skipped);
        assert_eq!(states_of(&events, i), [skipped]);
    }
    assert_eq!(result.hosts[0].first_error_line.as_deref(), Some("broken"));
    assert_eq!((result.status.as_str(), result.exit_code()), ("failed", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_in_flight_hosts_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let command = format!("echo $$ >> {}; sleep 30", sh_path(&pids));
    let mut req = request(local_hosts(5), &command);
    req.fanout = 2;
    let cancel = CancellationToken::new();
    let (tx, rx) = mpsc::channel(64);
    let collector = collector(rx);
    let token = cancel.clone();
    let task = tokio::spawn(async move { run(req, &transports(), None, tx, token).await });
    wait_until("two hosts to start", || lines(&pids).len() == 2).await;
    cancel.cancel();
    let result = tokio::time::timeout(PATIENCE, task)
        .await
        .expect("the run ended after cancel")
        .unwrap();
    let events = collector.await.unwrap();
    let labels: Vec<&str> = result.hosts.iter().map(|h| h.state.label()).collect();
    assert_eq!(
        labels,
        ["cancelled", "cancelled", "skipped", "skipped", "skipped"]
    );
    assert_eq!(
        result.hosts[4].state,
        HostState::Skipped {
            reason: "run cancelled".into()
        }
    );
    assert_eq!(states_of(&events, 0).last(), Some(&HostState::Cancelled));
    assert_eq!(
        (result.status.as_str(), result.exit_code()),
        ("cancelled", 130)
    );
    // Every process the in-flight hosts started goes away (each ran in its own group). The
    // killed `sleep`s are reaped by init, so their group may linger for a moment.
    for pid in lines(&pids) {
        let pgid: i32 = pid.trim().parse().unwrap();
        // SAFETY: signal 0 only checks whether the process group exists.
        wait_until(&format!("process group {pgid} to end"), || unsafe {
            libc::kill(-pgid, 0) != 0
        })
        .await;
    }
}

fn seq_text(n: u32) -> Vec<u8> {
    (1..=n)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect()
}

fn home_records(dir: &Path) -> (Home, Records) {
    let home = Home::under(dir);
    let records = Records::new(&home, &StoreSettings::default());
    (home, records)
}

/// Starts `req`, recorded, with events queued in a channel of `capacity` that nobody reads
/// until the caller does.
fn spawn_unread(
    req: RunRequest,
    records: Records,
    capacity: usize,
) -> (JoinHandle<RunResult>, mpsc::Receiver<EngineEvent>) {
    let (tx, rx) = mpsc::channel(capacity);
    let task = tokio::spawn(async move {
        run(
            req,
            &transports(),
            Some(&records),
            tx,
            CancellationToken::new(),
        )
        .await
    });
    (task, rx)
}

/// Appends the events still to come to `events`, until the run drops its sender.
async fn drain(rx: &mut mpsc::Receiver<EngineEvent>, events: &mut Vec<EngineEvent>) {
    while let Some(ev) = tokio::time::timeout(PATIENCE, rx.recv()).await.unwrap() {
        events.push(ev);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_front_end_loses_the_oldest_output_and_is_told_how_much() {
    let dir = tempfile::tempdir().unwrap();
    let (_home, records) = home_records(dir.path());
    let done = dir.path().join("done");
    let cap = 64 * 1024;
    let mut req = request(
        local_hosts(1),
        &format!("seq 1 300000; touch {}", sh_path(&done)),
    );
    req.output_cap = cap;
    let id = req.id.clone();
    // A front end that reads nothing until the command has finished.
    let (task, mut rx) = spawn_unread(req, records, 1);
    wait_until("the command to finish", || done.exists()).await;
    let mut events = Vec::new();
    drain(&mut rx, &mut events).await;
    let result = task.await.unwrap();

    let expected = seq_text(300_000);
    let host = &result.hosts[0];
    assert_eq!(host.state, HostState::Ok);
    assert_eq!(host.bytes_out, expected.len() as u64);
    let received = output_of(&events, 0, Stream::Stdout);
    let drops: Vec<(usize, u64)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            EngineEvent::Dropped { bytes_dropped, .. } => Some((i, *bytes_dropped)),
            _ => None,
        })
        .collect();
    let &(last_drop_at, total_dropped) = drops.last().expect("some output was dropped");
    assert_eq!(received.len() as u64 + total_dropped, expected.len() as u64);
    // The newest output is what was kept.
    assert!(received.ends_with(&expected[expected.len() - cap..]));
    assert!(
        drops.len() as u64 <= total_dropped / (64 * 1024) + 1,
        "{drops:?}"
    );
    let final_state_at = events
        .iter()
        .position(|e| {
            matches!(
                e,
                EngineEvent::State {
                    state: HostState::Ok,
                    ..
                }
            )
        })
        .unwrap();
    assert!(last_drop_at < final_state_at);

    // The record keeps the first `cap` bytes, then says how much was not recorded.
    let (_home, records) = home_records(dir.path());
    let report = read_all_as::<OutputRecord>(&records.run_output_path(&id)).unwrap();
    let outputs: Vec<OutputRecord> = report.records.into_iter().map(|(_, r)| r).collect();
    let (note, data) = outputs.split_last().unwrap();
    let recorded: String = data.iter().map(|r| r.data.as_str()).collect();
    assert_eq!(recorded.as_bytes(), &expected[..cap]);
    assert!(data.iter().all(|r| r.data.len() <= 16 * 1024));
    assert!(note.data.starts_with(NOT_RECORDED_PREFIX), "{note:?}");
    assert!(
        note.data
            .contains(&format!("{} more bytes", expected.len() - cap)),
        "{note:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_host_does_not_hold_up_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (_home, records) = home_records(dir.path());
    let path = |name: &str| dir.path().join(name);
    let cap = 1 << 20;
    // The first host to take the lock floods 50 MB, then stays running until released (at
    // most 30 s); the other prints one line.
    let command = format!(
        "if mkdir {lock} 2>/dev/null; then yes | head -c 50000000; touch {flood_done}; \
           i=0; while [ ! -e {release} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; \
         else echo quick; touch {quick_done}; fi",
        lock = sh_path(&path("flood")),
        flood_done = sh_path(&path("flood-done")),
        quick_done = sh_path(&path("quick-done")),
        release = sh_path(&path("release")),
    );
    let mut req = request(local_hosts(2), &command);
    req.output_cap = cap;
    let id = req.id.clone();
    let (task, mut rx) = spawn_unread(req, records, 2);
    // Nobody reads events, yet both commands get all their output out: no host waits for
    // the front end.
    wait_until("both commands to write everything", || {
        path("flood-done").exists() && path("quick-done").exists()
    })
    .await;
    // The quick host's result reaches the front end behind at most the flood's retained
    // output (the cap), not behind its 50 MB: the flood is still running and silent now.
    let mut events = Vec::new();
    let mut quick = None;
    while quick.is_none() {
        let ev = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .unwrap()
            .expect("the quick host's result");
        if let EngineEvent::State {
            host,
            state: HostState::Ok,
        } = &ev
        {
            quick = Some(*host);
        }
        events.push(ev);
    }
    let quick = quick.unwrap();
    let flooder = 1 - quick;
    let flood_bytes_before: usize = events
        .iter()
        .map(|e| match e {
            EngineEvent::Output { host, bytes, .. } if *host == flooder => bytes.len(),
            _ => 0,
        })
        .sum();
    // The cap, plus what sat in the channel (2 events) and in the forwarder's hand (1).
    assert!(
        flood_bytes_before <= cap + 3 * 32 * 1024,
        "{flood_bytes_before} flood bytes before the quick host's result"
    );
    assert!(
        !states_of(&events, flooder)
            .iter()
            .any(HostState::is_terminal)
    );

    std::fs::write(path("release"), b"").unwrap();
    drain(&mut rx, &mut events).await;
    let result = task.await.unwrap();
    assert!(result.hosts.iter().all(|h| h.state == HostState::Ok));
    assert_eq!(result.hosts[flooder].bytes_out, 50_000_000);
    assert_eq!(result.hosts[quick].bytes_out, 6);
    assert_eq!(output_of(&events, quick, Stream::Stdout), b"quick\n");
    let dropped = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Dropped { bytes_dropped, .. } => Some(*bytes_dropped),
            _ => None,
        })
        .max()
        .expect("flood output was dropped");
    let flood_received = output_of(&events, flooder, Stream::Stdout).len() as u64;
    assert_eq!(flood_received + dropped, 50_000_000);
    // The flood's record stopped at the cap.
    let (_home, records) = home_records(dir.path());
    let size = std::fs::metadata(records.run_output_path(&id))
        .unwrap()
        .len();
    assert!(size < 2 * cap as u64, "run output file is {size} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_history_output_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let (home, records) = home_records(dir.path());
    let req = request(local_hosts(3), "echo hello; echo warn >&2");
    let id = req.id.clone();
    let (result, _) = run_collect(req, Some(&records)).await;
    assert_eq!((result.status.as_str(), result.exit_code()), ("ok", 0));
    assert_eq!(result.targets, "node[00-02]");
    assert_eq!(id.len(), 26, "a ULID");

    let history = read_all_as::<RunResult>(&home.history_file()).unwrap();
    assert_eq!(history.records.len(), 1);
    assert_eq!(history.records[0].1, result);

    let outputs = read_all_as::<OutputRecord>(&records.run_output_path(&id)).unwrap();
    for host in ["node00", "node01", "node02"] {
        let of = |stream| -> String {
            outputs
                .records
                .iter()
                .filter(|(_, r)| r.host == host && r.stream == stream)
                .map(|(_, r)| r.data.as_str())
                .collect()
        };
        assert_eq!(of(Stream::Stdout), "hello\n");
        assert_eq!(of(Stream::Stderr), "warn\n");
    }

    let audit = read_all_as::<AuditRecord>(&records.audit_path()).unwrap();
    let audit: Vec<AuditRecord> = audit.records.into_iter().map(|(_, r)| r).collect();
    let results: Vec<&str> = audit.iter().map(|a| a.result.as_str()).collect();
    assert_eq!(results, ["started", "ok"]);
    for a in &audit {
        assert_eq!((a.action.as_str(), a.run_id.as_str()), ("run", id.as_str()));
        assert_eq!((a.targets.as_str(), a.count), ("node[00-02]", 3));
        assert_eq!(a.what, "echo hello; echo warn >&2");
        assert_eq!(a.who, current_user());
    }
    assert_eq!(records.history_path(), home.history_file());
    assert!(records.run_output_path(&id).starts_with(home.runs_dir()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_home_still_returns_the_result() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data folder should be: every record fails.
    let home = Home::under(dir.path());
    std::fs::create_dir_all(home.data_dir.parent().unwrap()).unwrap();
    std::fs::write(&home.data_dir, b"not a folder").unwrap();
    let records = Records::new(&home, &StoreSettings::default());
    let (result, events) = run_collect(request(local_hosts(2), "echo hi"), Some(&records)).await;
    assert_eq!(result.status.as_str(), "ok");
    assert_eq!(output_of(&events, 1, Stream::Stdout), b"hi\n");
}
