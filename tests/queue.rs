//! The run queue through the library API with real local processes: priorities, capacity,
//! cancelling waiting and running runs, pause and resume between batches, and exactly one
//! `RunFinished` for every accepted submission. Runs that must wait are held by a blocker
//! run whose command waits for a file the test creates; order is observed from events.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fleetdeck::config::Home;
use fleetdeck::config::settings::{QueueSettings, StoreSettings};
use fleetdeck::engine::queue::QueueCounts;
use fleetdeck::engine::{
    AuditRecord, EngineEvent, HostState, Limit, Priority, Records, RunContext, RunQueue,
    RunRequest, RunResult, Steer, SubmitError, Transports, current_user,
};
use fleetdeck::inventory::{Host, TransportKind};
use fleetdeck::store::read_all_as;
use fleetdeck::transport::local::LocalTransport;
use support::engine::PATIENCE;
use tokio::sync::mpsc;

fn local_hosts(prefix: &str, n: usize) -> Vec<Host> {
    support::engine::local_hosts(prefix, n)
}

fn request(targets: Vec<Host>, command: &str, priority: Priority) -> RunRequest {
    RunRequest {
        priority,
        ..support::engine::request(targets, command)
    }
}

fn queue(capacity: u32, max_running: u32, records: Option<Records>) -> RunQueue {
    let transports = Transports::new().with(TransportKind::Local, Arc::new(LocalTransport));
    let settings = QueueSettings {
        capacity,
        max_running,
        ..QueueSettings::default()
    };
    RunQueue::new(RunContext::plain(transports), records, &settings)
}

fn sh(p: &Path) -> String {
    shlex::try_quote(&p.to_string_lossy()).unwrap().into_owned()
}

/// A command that waits (at most a minute, polling) until `file` exists.
fn wait_for(file: &Path) -> String {
    format!(
        "for i in $(seq 1 1200); do [ -e {f} ] && exit 0; sleep 0.05; done; exit 1",
        f = sh(file)
    )
}

fn touch(file: &Path) {
    std::fs::write(file, b"go").unwrap();
}

/// Events of every run submitted with clones of one sender, until `finished` runs ended.
async fn collect(rx: &mut mpsc::Receiver<EngineEvent>, finished: usize) -> Vec<EngineEvent> {
    let mut all = Vec::new();
    let mut seen = 0;
    while seen < finished {
        let event = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .expect("the queue went quiet")
            .expect("every sender dropped before the runs finished");
        if matches!(event, EngineEvent::RunFinished { .. }) {
            seen += 1;
        }
        all.push(event);
    }
    all
}

/// Waits until `rx` brings an event `pred` accepts, keeping every event.
async fn until(
    rx: &mut mpsc::Receiver<EngineEvent>,
    seen: &mut Vec<EngineEvent>,
    what: &str,
    pred: impl Fn(&EngineEvent) -> bool,
) {
    loop {
        let event = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("waited too long for {what}"))
            .unwrap_or_else(|| panic!("the run ended before {what}"));
        let done = pred(&event);
        seen.push(event);
        if done {
            return;
        }
    }
}

fn started_order(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::RunStarted { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

fn finished(events: &[EngineEvent]) -> Vec<&RunResult> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::RunFinished { result } => Some(&**result),
            _ => None,
        })
        .collect()
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    read_all_as::<T>(path)
        .unwrap()
        .records
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

fn home_records(dir: &Path) -> (Home, Records) {
    let home = Home::under(dir);
    home.ensure_writable_dirs().unwrap();
    let records = Records::new(&home, &StoreSettings::default());
    (home, records)
}

fn go_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn higher_priorities_start_first_and_equal_ones_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let go = go_file(dir.path(), "go");
    let q = queue(8, 1, None);
    let (tx, mut rx) = mpsc::channel(256);
    let blocker = q
        .submit(
            request(local_hosts("b", 1), &wait_for(&go), Priority::Low),
            tx.clone(),
        )
        .unwrap();
    let mut ids = Vec::new();
    for (name, priority) in [
        ("low", Priority::Low),
        ("normal", Priority::Normal),
        ("high", Priority::High),
        ("normal2", Priority::Normal),
    ] {
        let req = request(local_hosts(name, 1), &format!("echo {name}"), priority);
        ids.push(q.submit(req, tx.clone()).unwrap());
    }
    drop(tx);
    let (low, normal, high, normal2) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let snap = q.snapshot();
    let queued: Vec<(&str, usize, Priority)> = snap
        .queued
        .iter()
        .map(|e| (e.id.as_str(), e.position, e.priority))
        .collect();
    assert_eq!(
        queued,
        [
            (high.as_str(), 1, Priority::High),
            (normal.as_str(), 2, Priority::Normal),
            (normal2.as_str(), 3, Priority::Normal),
            (low.as_str(), 4, Priority::Low),
        ]
    );
    assert_eq!(snap.running.len(), 1);
    assert_eq!(snap.running[0].id, blocker);
    assert_eq!(snap.queued[0].command, "echo high");
    assert_eq!(snap.queued[0].hosts, 1);
    assert_eq!(
        q.counts(),
        QueueCounts {
            queued: 4,
            running: 1,
            paused: 0
        }
    );
    touch(&go);
    let events = collect(&mut rx, 5).await;
    assert_eq!(
        started_order(&events),
        [&blocker, high, normal, normal2, low].map(String::clone)
    );
    // Each run started only once the one before it had finished (max_running 1): the
    // recorded times say so (RFC 3339 UTC, milliseconds, sorts as text). Events of two runs
    // reach a shared channel through separate relays, so their interleaving is not the test.
    let results = finished(&events);
    let by_id = |id: &String| *results.iter().find(|r| &r.id == id).unwrap();
    let order = [&blocker, high, normal, normal2, low];
    for pair in order.windows(2) {
        let (before, after) = (by_id(pair[0]), by_id(pair[1]));
        assert!(
            after.started >= before.finished,
            "{} started at {} before {} finished at {}",
            after.command,
            after.started,
            before.command,
            before.finished
        );
    }
    assert!(
        results.iter().all(|r| r.status.as_str() == "ok"),
        "{results:?}"
    );
    assert!(
        rx.recv().await.is_none(),
        "nothing after the last RunFinished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_run_over_capacity_is_refused_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (_home, records) = home_records(dir.path());
    let go = go_file(dir.path(), "go");
    let q = queue(2, 1, Some(records.clone()));
    let (tx, mut rx) = mpsc::channel(256);
    let mut accepted = vec![
        q.submit(
            request(local_hosts("b", 1), &wait_for(&go), Priority::Normal),
            tx.clone(),
        )
        .unwrap(),
    ];
    for i in 0..2 {
        let req = request(local_hosts("w", 2), &format!("echo {i}"), Priority::Normal);
        accepted.push(q.submit(req, tx.clone()).unwrap());
    }
    let extra = request(local_hosts("x", 1), "echo too many", Priority::High);
    let extra_id = extra.id.clone();
    let refused = q.submit(extra, tx.clone()).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "queue full (2 waiting): cancel or wait"
    );
    assert!(matches!(refused, SubmitError::Full { capacity: 2, .. }));
    // The request comes back whole, to submit again once there is room.
    let back = refused.into_request();
    assert_eq!(back.id, extra_id);
    assert_eq!(back.display_command, "echo too many");
    assert_eq!(q.snapshot().queued.len(), 2);
    // Resubmitting a run already queued is refused too.
    let dup = request(local_hosts("w", 1), "echo dup", Priority::Normal);
    let dup = RunRequest {
        id: accepted[1].clone(),
        ..dup
    };
    assert!(matches!(
        q.submit(dup, tx.clone()),
        Err(SubmitError::DuplicateId { .. })
    ));
    drop(tx);
    touch(&go);
    let events = collect(&mut rx, 3).await;
    let mut done: Vec<String> = finished(&events).iter().map(|r| r.id.clone()).collect();
    done.sort();
    accepted.sort();
    assert_eq!(done, accepted, "exactly one RunFinished per accepted run");
    assert!(!started_order(&events).contains(&extra_id));
    assert!(rx.recv().await.is_none());
    let history: Vec<RunResult> = read(&records.history_path());
    let mut recorded: Vec<String> = history.iter().map(|r| r.id.clone()).collect();
    recorded.sort();
    assert_eq!(recorded, accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_waiting_run_records_it_cancelled_and_a_running_one_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (_home, records) = home_records(dir.path());
    let go = go_file(dir.path(), "never");
    let q = queue(4, 1, Some(records.clone()));
    let (btx, mut brx) = mpsc::channel(256);
    let blocker = q
        .submit(
            request(local_hosts("b", 1), &wait_for(&go), Priority::Normal),
            btx,
        )
        .unwrap();
    let (wtx, mut wrx) = mpsc::channel(256);
    let waiting = q
        .submit(
            request(local_hosts("web", 3), "echo never runs", Priority::High),
            wtx,
        )
        .unwrap();
    let mut changes = q.changes();
    changes.borrow_and_update();
    assert!(q.cancel(&waiting));
    assert!(changes.has_changed().unwrap(), "a cancel is a change");
    assert!(q.snapshot().queued.is_empty());
    let events = collect(&mut wrx, 1).await;
    assert!(matches!(
        events[0],
        EngineEvent::RunStarted { hosts: 3, .. }
    ));
    let result = finished(&events)[0].clone();
    assert_eq!(result.id, waiting);
    assert_eq!(result.status.as_str(), "cancelled");
    assert_eq!(result.exit_code(), 130);
    assert_eq!(result.hosts.len(), 3);
    for h in &result.hosts {
        assert!(
            matches!(h.state, HostState::Skipped { .. }),
            "{}: {:?}",
            h.host,
            h.state
        );
    }
    assert!(wrx.recv().await.is_none(), "one RunFinished, then the end");
    // Cancelling it again finds nothing; the running blocker is cancelled next.
    assert!(!q.cancel(&waiting));
    assert!(q.cancel(&blocker));
    let events = collect(&mut brx, 1).await;
    let result = finished(&events)[0];
    assert_eq!(result.id, blocker);
    assert_eq!(result.status.as_str(), "cancelled");
    assert!(brx.recv().await.is_none());
    assert!(!q.cancel("01NOSUCHRUN00000000000000"));

    let history: Vec<RunResult> = read(&records.history_path());
    let recorded = history.iter().find(|r| r.id == waiting).unwrap();
    assert_eq!(recorded.status.as_str(), "cancelled");
    assert_eq!(recorded.targets, "web[00-02]");
    let audit: Vec<AuditRecord> = read(&records.audit_path());
    let cancels: Vec<(&str, &str, &str, usize)> = audit
        .iter()
        .filter(|a| a.action == "cancel")
        .map(|a| {
            (
                a.run_id.as_str(),
                a.result.as_str(),
                a.targets.as_str(),
                a.count,
            )
        })
        .collect();
    assert_eq!(
        cancels,
        [
            (waiting.as_str(), "queued run removed", "web[00-02]", 3),
            (blocker.as_str(), "requested", "b00", 1),
        ]
    );
    let first = audit.iter().find(|a| a.action == "cancel").unwrap();
    assert_eq!(first.who, current_user());
    assert_eq!(first.what, "echo never runs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_run_starts_no_new_host_until_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let (_home, records) = home_records(dir.path());
    let q = queue(4, 2, Some(records.clone()));
    // Host i waits for go-i; all but the first are released from the start, so a pause that
    // did not hold would let them run at once.
    let hosts = local_hosts("p", 4);
    for h in &hosts[1..] {
        touch(&dir.path().join(format!("go-{}", h.name)));
    }
    let command = format!(
        "for i in $(seq 1 1200); do [ -e {d}/go-$FLEETDECK_HOST ] && exit 0; sleep 0.05; done; exit 1",
        d = sh(dir.path())
    );
    let mut req = request(hosts, &command, Priority::Normal);
    req.batch = Some(Limit::Count(1));
    req.fanout = 1;
    let (tx, mut rx) = mpsc::channel(256);
    let id = q.submit(req, tx).unwrap();
    let mut seen = Vec::new();
    until(&mut rx, &mut seen, "the first host running", |e| {
        matches!(
            e,
            EngineEvent::State {
                host: 0,
                state: HostState::Running
            }
        )
    })
    .await;
    assert_eq!(q.pause(&id), Steer::Requested);
    assert_eq!(q.pause(&id), Steer::Unchanged);
    assert!(q.snapshot().running[0].paused);
    assert_eq!(q.counts().paused, 1);
    touch(&dir.path().join("go-p00"));
    until(&mut rx, &mut seen, "the first host ok", |e| {
        matches!(
            e,
            EngineEvent::State {
                host: 0,
                state: HostState::Ok
            }
        )
    })
    .await;
    // Paused: the next hosts stay pending (their commands would end at once if started).
    let quiet = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    assert!(quiet.is_err(), "an event while paused: {quiet:?}");
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, EngineEvent::State { host: 1.., .. })),
        "a host started while paused: {seen:?}"
    );
    assert_eq!(q.resume(&id), Steer::Requested);
    assert_eq!(q.resume(&id), Steer::Unchanged);
    let events = collect(&mut rx, 1).await;
    let result = finished(&events)[0];
    assert_eq!(result.status.as_str(), "ok", "{result:?}");
    assert!(result.hosts.iter().all(|h| h.state == HostState::Ok));
    assert_eq!(q.pause(&id), Steer::NotFound);

    let audit: Vec<AuditRecord> = read(&records.audit_path());
    let steering: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action == "pause" || a.action == "resume")
        .map(|a| (a.action.as_str(), a.result.as_str()))
        .collect();
    assert_eq!(steering, [("pause", "requested"), ("resume", "requested")]);
    assert!(audit.iter().all(|a| a.run_id == id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_runs_cannot_be_paused_and_shutdown_records_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let (_home, records) = home_records(dir.path());
    let go = go_file(dir.path(), "never");
    let q = queue(8, 1, Some(records.clone()));
    let (tx, mut rx) = mpsc::channel(256);
    let mut ids = vec![
        q.submit(
            request(local_hosts("b", 2), &wait_for(&go), Priority::Normal),
            tx.clone(),
        )
        .unwrap(),
    ];
    for i in 0..3 {
        let req = request(local_hosts("q", 1), &format!("echo {i}"), Priority::Low);
        ids.push(q.submit(req, tx.clone()).unwrap());
    }
    assert_eq!(q.pause(&ids[1]), Steer::Queued);
    assert!(
        q.shutdown(PATIENCE).await,
        "every run ended within the grace"
    );
    let late = request(local_hosts("l", 1), "echo late", Priority::High);
    assert!(matches!(
        q.submit(late, tx.clone()),
        Err(SubmitError::Closed { .. })
    ));
    drop(tx);
    let events = collect(&mut rx, 4).await;
    let mut done: Vec<(String, String)> = finished(&events)
        .iter()
        .map(|r| (r.id.clone(), r.status.to_string()))
        .collect();
    done.sort();
    let mut want: Vec<(String, String)> = ids
        .iter()
        .map(|id| (id.clone(), "cancelled".to_string()))
        .collect();
    want.sort();
    assert_eq!(done, want);
    assert!(rx.recv().await.is_none());
    let history: Vec<RunResult> = read(&records.history_path());
    assert_eq!(history.len(), 4);
}

/// A front end that goes away without a shutdown (its runtime dropped while runs wait) must
/// not hang: the dropped running run frees its place, and the waiting run given that place
/// is dropped with the runtime too.
#[test]
fn dropping_the_runtime_while_runs_wait_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let go = go_file(dir.path(), "go");
    let blocker = wait_for(&go);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (q, rx) = rt.block_on(async {
            let q = queue(4, 1, None);
            let (tx, rx) = mpsc::channel(256);
            q.submit(
                request(local_hosts("b", 1), &blocker, Priority::Normal),
                tx.clone(),
            )
            .unwrap();
            for i in 0..2 {
                let req = request(local_hosts("w", 1), &format!("echo {i}"), Priority::Normal);
                q.submit(req, tx.clone()).unwrap();
            }
            (q, rx)
        });
        assert_eq!(q.counts().queued, 2);
        drop(rt);
        drop((q, rx));
        let _ = done_tx.send(());
    });
    let ended = done_rx.recv_timeout(PATIENCE);
    touch(&go);
    assert!(ended.is_ok(), "dropping the runtime hung the queue");
}
