//! The engine's guard rails against real local processes and real (refused) TCP connections:
//! retries with backoff, success criteria, one action per host across runs, the shared
//! fan-out budget, pause and resume, the circuit breaker (in a context and across two
//! `fleetdeck run` processes), and a lock-requiring action without a lock manager.

mod support;

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fleetdeck::config::Settings;
use fleetdeck::config::settings::BreakerSettings;
use fleetdeck::config::units::HumanDuration;
use fleetdeck::engine::breaker::Breaker;
use fleetdeck::engine::{
    EngineEvent, HostResult, HostState, Limit, Records, RetryOn, RetryPolicy, RunContext,
    RunControl, RunRequest, RunResult, Stream, SuccessCriteria, Transports, run_in,
};
use fleetdeck::inventory::{Host, TransportKind};
use fleetdeck::transport::local::LocalTransport;
use fleetdeck::transport::ssh::{SshOptions, SshTransport};
use fleetdeck::transport::{ErrorKind, ExitOutcome};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use support::engine::{PATIENCE, local, local_hosts, request};

fn retry(attempts: u32, on: &[RetryOn]) -> RetryPolicy {
    RetryPolicy {
        attempts,
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        on: on.to_vec(),
    }
}

fn local_transports() -> Transports {
    Transports::new().with(TransportKind::Local, Arc::new(LocalTransport))
}

/// A context with `settings` changed by `change`.
fn context(transports: Transports, change: impl FnOnce(&mut Settings)) -> RunContext {
    let mut settings = Settings::default();
    change(&mut settings);
    RunContext::new(transports, &settings, None)
}

/// A run in flight: its events as they come, and its result at the end.
struct Running {
    events: Arc<Mutex<Vec<EngineEvent>>>,
    task: JoinHandle<RunResult>,
}

impl Running {
    fn start(req: RunRequest, ctx: &RunContext, control: RunControl) -> Self {
        Self::start_recorded(req, ctx, control, None)
    }

    fn start_recorded(
        req: RunRequest,
        ctx: &RunContext,
        control: RunControl,
        records: Option<Records>,
    ) -> Self {
        let (tx, mut rx) = mpsc::channel(64);
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        tokio::spawn(async move {
            while let Some(ev) = rx.recv().await {
                sink.lock().unwrap().push(ev);
            }
        });
        let ctx = ctx.clone();
        let task =
            tokio::spawn(async move { run_in(req, &ctx, records.as_ref(), tx, control).await });
        Running { events, task }
    }

    async fn finish(self) -> (RunResult, Vec<EngineEvent>) {
        let result = tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("run finished")
            .unwrap();
        // The collector may still hold the last events: wait for RunFinished.
        let events = self.events.clone();
        wait_until("the last event", || {
            events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, EngineEvent::RunFinished { .. }))
        })
        .await;
        let all = self.events.lock().unwrap().clone();
        (result, all)
    }

    fn snapshot(&self) -> Vec<EngineEvent> {
        self.events.lock().unwrap().clone()
    }
}

async fn run_alone(req: RunRequest, ctx: &RunContext) -> (RunResult, Vec<EngineEvent>) {
    let (control, _pause) = RunControl::new(CancellationToken::new());
    Running::start(req, ctx, control).finish().await
}

fn states_of(events: &[EngineEvent], host: usize) -> Vec<HostState> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::State { host: h, state } if *h == host => Some(state.clone()),
            _ => None,
        })
        .collect()
}

fn text_of(events: &[EngineEvent], host: usize, stream: Stream) -> String {
    let bytes: Vec<u8> = events
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
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
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

/// A shell loop that waits (bounded) until `file` exists.
fn wait_for_file(file: &Path) -> String {
    format!(
        "i=0; while [ ! -e '{}' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done",
        file.display()
    )
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

// ---------------------------------------------------------------- retries

#[tokio::test]
async fn a_failing_command_is_retried_until_it_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("counter");
    let home = fleetdeck::config::Home::under(dir.path());
    let records = Records::new(&home, &Settings::default().store);
    let command = format!(
        "n=$(cat '{c}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{c}'; echo try $n; \
         echo oops $n >&2; [ $n -ge 3 ]",
        c = counter.display()
    );
    let mut req = request(vec![local("flaky")], &command);
    req.guards.retry = retry(5, &[RetryOn::Failed]);
    let id = req.id.clone();
    let ctx = context(local_transports(), |_| {});
    let (control, _pause) = RunControl::new(CancellationToken::new());
    let (result, events) = Running::start_recorded(req, &ctx, control, Some(records.clone()))
        .finish()
        .await;

    let host = &result.hosts[0];
    assert_eq!(host.state, HostState::Ok, "{host:?}");
    assert_eq!(host.attempts, 3);
    assert_eq!(host.exit_code, Some(0));
    assert_eq!(host.first_error_line, None);
    // Back to Connecting before each attempt.
    let states = states_of(&events, 0);
    assert_eq!(
        states
            .iter()
            .filter(|s| **s == HostState::Connecting)
            .count(),
        3,
        "{states:?}"
    );
    assert_eq!(states.last(), Some(&HostState::Ok));
    // Every attempt's output stays, with a note between attempts.
    assert_eq!(text_of(&events, 0, Stream::Stdout), "try 1\ntry 2\ntry 3\n");
    let stderr = text_of(&events, 0, Stream::Stderr);
    assert!(
        stderr.starts_with(
            "oops 1\n[fleetdeck: attempt 1 of 5 failed (failed: exit code 1); retrying in "
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n[fleetdeck: attempt 2 of 5 failed (failed: exit code 1"),
        "{stderr}"
    );
    assert_eq!(count(&stderr, "; retrying in "), 2, "{stderr}");
    assert!(stderr.ends_with("oops 3\n"), "{stderr}");
    // The notes are recorded with the output.
    let recorded = fs::read_to_string(records.run_output_path(&id)).unwrap();
    assert_eq!(count(&recorded, "retrying in"), 2, "{recorded}");
    assert_eq!(
        result.hosts[0].bytes_out,
        "try 1\ntry 2\ntry 3\n".len() as u64
    );
}

#[tokio::test]
async fn attempts_run_out_and_the_last_failure_stands() {
    let mut req = request(local_hosts("n", 2), "echo broken >&2; exit 4");
    req.guards.retry = retry(3, &[RetryOn::Failed, RetryOn::Unreachable]);
    let (result, _) = run_alone(req, &context(local_transports(), |_| {})).await;
    for host in &result.hosts {
        assert_eq!(
            host.state,
            HostState::Failed {
                outcome: ExitOutcome::Code { code: 4 }
            }
        );
        assert_eq!(host.attempts, 3);
        assert_eq!(host.exit_code, Some(4));
        assert_eq!(host.first_error_line.as_deref(), Some("broken"));
    }
    assert_eq!(result.exit_code(), 1);
}

#[tokio::test]
async fn only_the_listed_failure_classes_are_retried() {
    let ctx = context(local_transports(), |_| {});
    // A failed command is not retried when only unreachable hosts are.
    let mut req = request(vec![local("a")], "exit 1");
    req.guards.retry = retry(4, &[RetryOn::Unreachable]);
    let (result, events) = run_alone(req, &ctx).await;
    assert_eq!(result.hosts[0].attempts, 1);
    assert!(!text_of(&events, 0, Stream::Stderr).contains("retrying"));

    // A timeout is not retried when only failures are.
    let mut req = request(vec![local("b")], "sleep 30");
    req.spec.timeout = Some(Duration::from_millis(300));
    req.guards.retry = retry(4, &[RetryOn::Failed]);
    let (result, _) = run_alone(req, &ctx).await;
    assert!(
        matches!(result.hosts[0].state, HostState::Timeout { .. }),
        "{:?}",
        result.hosts[0]
    );
    assert_eq!(result.hosts[0].attempts, 1);

    // ... and is when timeouts are.
    let mut req = request(vec![local("c")], "sleep 30");
    req.spec.timeout = Some(Duration::from_millis(300));
    req.guards.retry = retry(2, &[RetryOn::Timeout]);
    let (result, _) = run_alone(req, &ctx).await;
    assert!(matches!(result.hosts[0].state, HostState::Timeout { .. }));
    assert_eq!(result.hosts[0].attempts, 2);
}

#[tokio::test]
async fn a_cancel_during_the_backoff_ends_the_host_at_once() {
    let mut req = request(vec![local("slowpoke")], "exit 1");
    // An hour of backoff (jittered): the cancel must not wait for it.
    req.guards.retry = RetryPolicy {
        attempts: 3,
        backoff: Duration::from_secs(3600),
        max_backoff: Duration::from_secs(3600),
        on: vec![RetryOn::Failed],
    };
    let cancel = CancellationToken::new();
    let (control, _pause) = RunControl::new(cancel.clone());
    let running = Running::start(req, &context(local_transports(), |_| {}), control);
    wait_until("the first retry note", || {
        text_of(&running.snapshot(), 0, Stream::Stderr).contains("retrying in")
    })
    .await;
    cancel.cancel();
    let (result, events) = running.finish().await;
    assert_eq!(result.hosts[0].state, HostState::Cancelled);
    // Full jitter may make a wait tiny; never does it make all of them tiny.
    assert!(result.hosts[0].attempts <= 2, "{:?}", result.hosts[0]);
    assert_eq!(states_of(&events, 0).last(), Some(&HostState::Cancelled));
    assert_eq!(result.status.as_str(), "cancelled");
}

// ------------------------------------------------------- success criteria

fn criteria_run(command: &str, success: SuccessCriteria) -> RunRequest {
    let mut req = request(vec![local("svc")], command);
    req.guards.success = success;
    req
}

#[tokio::test]
async fn listed_exit_codes_count_as_success() {
    let ctx = context(local_transports(), |_| {});
    let ok_codes = SuccessCriteria {
        exit_codes: vec![0, 3],
        ..Default::default()
    };
    let (result, _) = run_alone(criteria_run("exit 3", ok_codes.clone()), &ctx).await;
    assert_eq!(result.hosts[0].state, HostState::Ok);
    assert_eq!(result.hosts[0].exit_code, Some(3));
    assert_eq!(result.exit_code(), 0);
    let (result, _) = run_alone(criteria_run("exit 2", ok_codes), &ctx).await;
    assert_eq!(result.hosts[0].exit_code, Some(2));
    assert!(result.hosts[0].state.is_failure());

    // Ad-hoc commands (default guards) are as they always were.
    let (result, _) = run_alone(
        criteria_run("echo nope >&2; exit 3", Default::default()),
        &ctx,
    )
    .await;
    assert_eq!(
        result.hosts[0].state,
        HostState::Failed {
            outcome: ExitOutcome::Code { code: 3 }
        }
    );
    assert_eq!(result.hosts[0].first_error_line.as_deref(), Some("nope"));
}

#[tokio::test]
async fn output_must_contain_text_even_split_across_chunks() {
    let ctx = context(local_transports(), |_| {});
    let wants = |text: &str| SuccessCriteria {
        output_contains: vec![text.to_string()],
        ..Default::default()
    };
    // The pauses make the pieces arrive as separate chunks.
    let command =
        "printf 'Active: act'; sleep 0.2; printf 'ive (run'; sleep 0.2; printf 'ning)\\n'";
    let (result, events) = run_alone(criteria_run(command, wants("active (running)")), &ctx).await;
    assert_eq!(
        result.hosts[0].state,
        HostState::Ok,
        "{:?}",
        result.hosts[0]
    );
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, EngineEvent::Output { .. }))
            .count()
            >= 2,
        "the output came in pieces"
    );

    // Also found in stderr.
    let (result, _) = run_alone(criteria_run("echo ready >&2", wants("ready")), &ctx).await;
    assert_eq!(result.hosts[0].state, HostState::Ok);

    let (result, events) = run_alone(
        criteria_run("echo inactive", wants("active (running)")),
        &ctx,
    )
    .await;
    let host = &result.hosts[0];
    assert_eq!(
        host.state,
        HostState::Failed {
            outcome: ExitOutcome::Code { code: 0 }
        }
    );
    let why = "success criteria not met: output lacks \"active (running)\"";
    assert_eq!(host.first_error_line.as_deref(), Some(why));
    assert_eq!(host.exit_code, Some(0));
    assert_eq!(
        text_of(&events, 0, Stream::Stderr),
        format!("[fleetdeck: {why}]\n")
    );
    assert_eq!(result.exit_code(), 1);
}

#[tokio::test]
async fn output_must_not_contain_text() {
    let ctx = context(local_transports(), |_| {});
    let refuses = SuccessCriteria {
        output_not_contains: vec!["ERROR".into()],
        ..Default::default()
    };
    let (result, _) = run_alone(criteria_run("echo all good", refuses.clone()), &ctx).await;
    assert_eq!(result.hosts[0].state, HostState::Ok);
    let (result, _) = run_alone(
        criteria_run(
            "echo ER; sleep 0.2; echo 'ROR: nope' >&2; printf ERR; sleep 0.2; echo OR",
            refuses,
        ),
        &ctx,
    )
    .await;
    assert_eq!(
        result.hosts[0].first_error_line.as_deref(),
        Some("success criteria not met: output contains \"ERROR\"")
    );
}

#[tokio::test]
async fn a_host_slower_than_max_duration_failed() {
    let ctx = context(local_transports(), |_| {});
    let quick = SuccessCriteria {
        max_duration: Some(Duration::from_millis(100)),
        ..Default::default()
    };
    let (result, _) = run_alone(criteria_run("sleep 0.5", quick), &ctx).await;
    let line = result.hosts[0].first_error_line.clone().unwrap_or_default();
    assert!(result.hosts[0].state.is_failure(), "{:?}", result.hosts[0]);
    assert!(
        line.starts_with("success criteria not met: took ")
            && line.ends_with("more than the 0.1s allowed"),
        "{line}"
    );
    let roomy = SuccessCriteria {
        max_duration: Some(PATIENCE),
        ..Default::default()
    };
    let (result, _) = run_alone(criteria_run("true", roomy), &ctx).await;
    assert_eq!(result.hosts[0].state, HostState::Ok);
}

#[tokio::test]
async fn unmet_criteria_can_be_retried() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("n");
    let command = format!(
        "n=$(cat '{c}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{c}'; \
         [ $n -ge 2 ] && echo 'active (running)' || echo starting",
        c = counter.display()
    );
    let mut req = criteria_run(
        &command,
        SuccessCriteria {
            output_contains: vec!["active (running)".into()],
            ..Default::default()
        },
    );
    req.guards.retry = retry(3, &[RetryOn::Failed]);
    let (result, events) = run_alone(req, &context(local_transports(), |_| {})).await;
    assert_eq!(result.hosts[0].state, HostState::Ok);
    assert_eq!(result.hosts[0].attempts, 2);
    let stderr = text_of(&events, 0, Stream::Stderr);
    assert!(
        stderr.contains("[fleetdeck: attempt 1 of 3 failed (failed: exit code 0; success criteria not met: output lacks \"active (running)\"); retrying in"),
        "{stderr}"
    );
}

// ------------------------------------------------ batches and max-fail

#[tokio::test]
async fn batches_and_max_fail_still_stop_the_rest_with_retries() {
    let mut req = request(local_hosts("b", 6), "exit 1");
    req.batch = Some(Limit::Count(2));
    req.max_fail = Some(Limit::Count(1));
    req.guards.retry = retry(2, &[RetryOn::Failed]);
    let (result, _) = run_alone(req, &context(local_transports(), |_| {})).await;
    let failed: Vec<&HostResult> = result
        .hosts
        .iter()
        .filter(|h| h.state.is_failure())
        .collect();
    assert!(
        !failed.is_empty() && failed.len() <= 2,
        "{:?}",
        result.hosts
    );
    assert!(failed.iter().all(|h| h.attempts == 2));
    for h in &result.hosts[2..] {
        assert!(
            matches!(&h.state, HostState::Skipped { reason } if reason.starts_with("max-fail reached")),
            "{h:?}"
        );
    }
}

// ------------------------------------------- one action per host, budget

#[tokio::test]
async fn a_host_runs_one_action_at_a_time_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let release = dir.path().join("release");
    let ctx = context(local_transports(), |_| {});
    let first = request(
        vec![local("web01")],
        &format!(
            "echo A-start >> '{l}'; {wait}; echo A-end >> '{l}'",
            l = log.display(),
            wait = wait_for_file(&release)
        ),
    );
    let first_id = first.id.clone();
    let (control, _p1) = RunControl::new(CancellationToken::new());
    let a = Running::start(first, &ctx, control);
    wait_until("the first run to start", || log.exists()).await;

    let second = request(
        vec![local("web01")],
        &format!("echo B >> '{}'", log.display()),
    );
    let (control, _p2) = RunControl::new(CancellationToken::new());
    let b = Running::start(second, &ctx, control);
    let note = format!("[fleetdeck: waiting: host busy with run {first_id}]\n");
    wait_until("the second run's host to wait", || {
        text_of(&b.snapshot(), 0, Stream::Stderr) == note
    })
    .await;
    // Still pending: it has not even begun connecting.
    assert!(states_of(&b.snapshot(), 0).is_empty(), "{:?}", b.snapshot());
    fs::write(&release, "").unwrap();
    let (ra, _) = a.finish().await;
    let (rb, events_b) = b.finish().await;
    assert_eq!(ra.hosts[0].state, HostState::Ok);
    assert_eq!(rb.hosts[0].state, HostState::Ok);
    assert_eq!(
        states_of(&events_b, 0),
        [HostState::Connecting, HostState::Running, HostState::Ok]
    );
    assert_eq!(fs::read_to_string(&log).unwrap(), "A-start\nA-end\nB\n");
}

#[tokio::test]
async fn allow_concurrent_shares_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let release = dir.path().join("release");
    let ctx = context(local_transports(), |_| {});
    let first = request(
        vec![local("web01")],
        &format!(
            "echo A-start >> '{l}'; {wait}; echo A-end >> '{l}'",
            l = log.display(),
            wait = wait_for_file(&release)
        ),
    );
    let (control, _p1) = RunControl::new(CancellationToken::new());
    let a = Running::start(first, &ctx, control);
    wait_until("the first run to start", || log.exists()).await;
    let mut second = request(
        vec![local("web01")],
        &format!("echo B >> '{}'", log.display()),
    );
    second.guards.allow_concurrent = true;
    let (rb, _) = run_alone(second, &ctx).await;
    assert_eq!(rb.hosts[0].state, HostState::Ok);
    fs::write(&release, "").unwrap();
    let (ra, _) = a.finish().await;
    assert_eq!(ra.hosts[0].state, HostState::Ok);
    assert_eq!(fs::read_to_string(&log).unwrap(), "A-start\nB\nA-end\n");
}

#[tokio::test]
async fn the_fanout_budget_is_shared_by_runs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    // Each host says when it starts and ends; with a budget of 1, never two at once.
    let command = format!(
        "echo \"start $FLEETDECK_HOST\" >> '{l}'; sleep 0.05; echo \"end $FLEETDECK_HOST\" >> '{l}'",
        l = log.display()
    );
    let ctx = context(local_transports(), |s| s.queue.fanout_budget = 1);
    let (c1, _p1) = RunControl::new(CancellationToken::new());
    let (c2, _p2) = RunControl::new(CancellationToken::new());
    let a = Running::start(request(local_hosts("a", 3), &command), &ctx, c1);
    let b = Running::start(request(local_hosts("b", 3), &command), &ctx, c2);
    let (ra, _) = a.finish().await;
    let (rb, _) = b.finish().await;
    assert!(
        ra.hosts
            .iter()
            .chain(&rb.hosts)
            .all(|h| h.state == HostState::Ok)
    );
    let lines: Vec<String> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 12, "{lines:?}");
    for pair in lines.chunks(2) {
        let host = pair[0].strip_prefix("start ").expect("a start");
        assert_eq!(pair[1], format!("end {host}"), "{lines:?}");
    }
}

// ------------------------------------------------------------------ pause

#[tokio::test]
async fn pause_holds_the_next_batch_until_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let command = format!(
        "touch '{d}/started.'\"$FLEETDECK_HOST\"; {wait}",
        d = dir.path().display(),
        wait = wait_for_file(&gate)
    );
    let started = || {
        fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("started.")
            })
            .count()
    };
    let mut req = request(local_hosts("p", 4), &command);
    req.batch = Some(Limit::Count(2));
    let (control, pause): (RunControl, watch::Sender<bool>) =
        RunControl::new(CancellationToken::new());
    let run = Running::start(req, &context(local_transports(), |_| {}), control);
    wait_until("the first batch to start", || started() == 2).await;
    pause.send(true).unwrap();
    fs::write(&gate, "").unwrap();
    wait_until("the first batch to end", || {
        let events = run.snapshot();
        (0..2).all(|h| states_of(&events, h).last() == Some(&HostState::Ok))
    })
    .await;
    // Paused: the second batch does not start (given ample time to, were it not paused).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(started(), 2);
    let events = run.snapshot();
    assert!(states_of(&events, 2).is_empty() && states_of(&events, 3).is_empty());
    pause.send(false).unwrap();
    let (result, _) = run.finish().await;
    assert_eq!(started(), 4);
    assert!(
        result.hosts.iter().all(|h| h.state == HostState::Ok),
        "{:?}",
        result.hosts
    );
}

#[tokio::test]
async fn a_cancel_while_paused_skips_the_rest() {
    let cancel = CancellationToken::new();
    let (control, pause) = RunControl::new(cancel.clone());
    pause.send(true).unwrap();
    let run = Running::start(
        request(local_hosts("q", 3), "true"),
        &context(local_transports(), |_| {}),
        control,
    );
    wait_until("the run to start", || {
        run.snapshot()
            .iter()
            .any(|e| matches!(e, EngineEvent::RunStarted { .. }))
    })
    .await;
    cancel.cancel();
    let (result, _) = run.finish().await;
    assert_eq!(result.status.as_str(), "cancelled");
    for h in &result.hosts {
        assert_eq!(
            h.state,
            HostState::Skipped {
                reason: "run cancelled".into()
            }
        );
    }
}

// ---------------------------------------------------------------- breaker

/// An SSH transport with an empty ssh config and its own known_hosts.
fn ssh_transports(dir: &Path) -> Transports {
    let config = dir.join("ssh_config");
    fs::write(&config, "").unwrap();
    let ssh = SshTransport::new(SshOptions {
        ssh_config: Some(config),
        extra_known_hosts: Vec::new(),
        fleetdeck_known_hosts: dir.join("known_hosts"),
        accept_new: false,
        max_handshakes: 8,
        max_channels_per_connection: 8,
        passphrase: None,
    })
    .unwrap();
    local_transports().with(TransportKind::Ssh, Arc::new(ssh))
}

/// `name` as an ssh host on a loopback port nothing listens on.
fn dead_ssh_host(name: &str) -> Host {
    let mut h = Host::ad_hoc(name);
    h.address = Some("127.0.0.1".into());
    h.port = Some(support::cli::closed_port());
    h.transport = TransportKind::Ssh;
    h
}

fn unreachable_kind(r: &RunResult) -> Option<ErrorKind> {
    match &r.hosts[0].state {
        HostState::Unreachable { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[tokio::test]
async fn the_breaker_opens_skips_fast_then_probes_once() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("breakers.json");
    let breaker_settings = |cooldown: Duration| BreakerSettings {
        failures: 2,
        cooldown: HumanDuration(cooldown),
    };
    // An hour's cool-down first, so "open" cannot pass while the test looks at it.
    let mut ctx = context(ssh_transports(dir.path()), |_| {});
    ctx.breaker = Breaker::load(&breaker_settings(Duration::from_secs(3600)), &saved);
    let dead = dead_ssh_host("db01");
    for _ in 0..2 {
        let (r, _) = run_alone(request(vec![dead.clone()], "true"), &ctx).await;
        assert_eq!(
            unreachable_kind(&r),
            Some(ErrorKind::Connect),
            "{:?}",
            r.hosts
        );
    }
    assert_eq!(ctx.breaker.status("db01"), (2, true));

    // Open: skipped at once, without touching the transport.
    let (r, events) = run_alone(request(vec![dead.clone()], "true"), &ctx).await;
    assert_eq!(unreachable_kind(&r), Some(ErrorKind::CircuitOpen));
    let line = r.hosts[0].first_error_line.clone().unwrap();
    assert!(
        line.starts_with("db01: skipped: 2 consecutive connection failures (last: ")
            && line.contains("connection refused")
            && line.contains("; next probe after "),
        "{line}"
    );
    assert_eq!(states_of(&events, 0).len(), 1, "no Connecting: {events:?}");
    assert_eq!(r.exit_code(), 3);

    // The same counts with a short cool-down (a changed setting applies to open breakers).
    ctx.breaker = Breaker::load(&breaker_settings(Duration::from_millis(300)), &saved);
    assert_eq!(ctx.breaker.status("db01").0, 2);

    // After the cool-down one probe goes through; it fails, so the breaker re-opens.
    wait_until("the cool-down", || !ctx.breaker.status("db01").1).await;
    let (r, events) = run_alone(request(vec![dead.clone()], "true"), &ctx).await;
    assert_eq!(unreachable_kind(&r), Some(ErrorKind::Connect));
    assert_eq!(states_of(&events, 0)[0], HostState::Connecting);
    assert_eq!(ctx.breaker.status("db01").0, 3);

    // Next cool-down: the host answers now (the same name on a transport that connects);
    // while the probe runs, other attempts are still skipped; its success closes the breaker.
    wait_until("the second cool-down", || !ctx.breaker.status("db01").1).await;
    let gate = dir.path().join("gate");
    let mut probe = request(vec![local("db01")], &wait_for_file(&gate));
    probe.guards.allow_concurrent = true;
    let (control, _p) = RunControl::new(CancellationToken::new());
    let probing = Running::start(probe, &ctx, control);
    wait_until("the probe to run", || {
        states_of(&probing.snapshot(), 0).contains(&HostState::Running)
    })
    .await;
    let mut other = request(vec![local("db01")], "true");
    other.guards.allow_concurrent = true;
    let (r, _) = run_alone(other, &ctx).await;
    assert_eq!(unreachable_kind(&r), Some(ErrorKind::CircuitOpen));
    assert!(
        r.hosts[0]
            .first_error_line
            .as_deref()
            .unwrap()
            .ends_with("a probe is under way"),
        "{:?}",
        r.hosts[0]
    );
    fs::write(&gate, "").unwrap();
    let (r, _) = probing.finish().await;
    assert_eq!(r.hosts[0].state, HostState::Ok);
    assert_eq!(ctx.breaker.status("db01"), (0, false));
    let (r, _) = run_alone(request(vec![local("db01")], "true"), &ctx).await;
    assert_eq!(r.hosts[0].state, HostState::Ok);
}

#[tokio::test]
async fn each_new_ssh_connection_asks_the_rate_limiter() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(ssh_transports(dir.path()), |_| {});
    let limiter = fleetdeck::transport::rate::global();
    let before = limiter.requests();
    let (r, _) = run_alone(request(vec![dead_ssh_host("db03")], "true"), &ctx).await;
    assert_eq!(unreachable_kind(&r), Some(ErrorKind::Connect));
    // Other tests of this binary connect too: at least this one's attempt was counted.
    assert!(limiter.requests() > before);
}

#[tokio::test]
async fn retries_count_toward_the_breaker_and_stop_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(ssh_transports(dir.path()), |s| {
        s.breaker.failures = 2;
        s.breaker.cooldown.0 = Duration::from_secs(3600);
    });
    let mut req = request(vec![dead_ssh_host("db02")], "true");
    req.guards.retry = retry(5, &[RetryOn::Unreachable]);
    let (r, events) = run_alone(req, &ctx).await;
    assert_eq!(
        unreachable_kind(&r),
        Some(ErrorKind::CircuitOpen),
        "{:?}",
        r.hosts
    );
    // Two attempts were made; the third was refused by the open breaker.
    assert_eq!(r.hosts[0].attempts, 2);
    let stderr = text_of(&events, 0, Stream::Stderr);
    assert_eq!(
        count(&stderr, "failed (unreachable: connect: "),
        2,
        "{stderr}"
    );
}

#[test]
fn the_breaker_is_remembered_across_runs_of_the_cli() {
    let home = support::cli::home_with(&support::cli::unreachable_host("gone"));
    support::cli::write_config(
        home.path(),
        "config.toml",
        "[breaker]\nfailures = 1\ncooldown = \"1h\"\n",
    );
    let first = support::cli::run(home.path(), &["run", "-t", "gone", "--", "true"]);
    assert_eq!(first.code, 3, "{}", first.stderr);
    assert!(!first.stderr.contains("skipped:"), "{}", first.stderr);
    let state = home.path().join("state/breakers.json");
    let saved = fs::read_to_string(&state).unwrap();
    assert!(saved.contains("\"gone\""), "{saved}");

    let second = support::cli::run(home.path(), &["run", "-t", "gone", "--json", "--", "true"]);
    assert_eq!(second.code, 3, "{}", second.stderr);
    let all = format!("{}{}", second.stdout, second.stderr);
    assert!(
        all.contains("gone: skipped: 1 consecutive connection failures (last: "),
        "{all}"
    );
    assert!(all.contains("circuit_open"), "{all}");

    // A corrupt file is not fatal: it is replaced.
    fs::write(&state, "{ torn").unwrap();
    let third = support::cli::run(home.path(), &["run", "-t", "gone", "--", "true"]);
    assert_eq!(third.code, 3, "{}", third.stderr);
    assert!(!third.stderr.contains("skipped:"), "{}", third.stderr);
    assert!(
        fs::read_to_string(&state)
            .unwrap()
            .contains("\"failures\": 1")
    );
}

// ------------------------------------------------------------------ locks

#[tokio::test]
async fn a_lock_requiring_action_without_a_lock_manager_is_refused() {
    let mut req = request(vec![local("web01")], "true");
    req.guards.lock_ttl = Some(Duration::from_secs(60));
    let (r, _) = run_alone(req, &context(local_transports(), |_| {})).await;
    match &r.hosts[0].state {
        HostState::Error { kind, message } => {
            assert_eq!(*kind, ErrorKind::Locked);
            assert!(message.contains("requires a lock"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.exit_code(), 1);
}

#[tokio::test]
async fn the_lock_is_held_around_all_attempts_and_released() {
    use fleetdeck::engine::locks::LockManager;
    let dir = tempfile::tempdir().unwrap();
    let home = fleetdeck::config::Home::under(&dir.path().join("home"));
    let remote = dir.path().join("remote");
    let mut settings = Settings::default();
    settings.locks.remote_dir = remote.display().to_string();
    let locks = Arc::new(LockManager::new(
        &home,
        &settings.locks,
        "tester@here".into(),
    ));
    let ctx = RunContext::new(local_transports(), &settings, Some(locks.clone()));
    let host = local("web01");

    // Held by another run: refused, naming the holder; the command never runs.
    let other = locks
        .acquire(
            &host,
            Arc::new(LocalTransport),
            "OTHERRUN",
            PATIENCE,
            PATIENCE,
        )
        .await
        .unwrap();
    let mut req = request(vec![host.clone()], "echo ran");
    req.guards.lock_ttl = Some(PATIENCE);
    let (r, events) = run_alone(req, &ctx).await;
    match &r.hosts[0].state {
        HostState::Error { kind, message } => {
            assert_eq!(*kind, ErrorKind::Locked);
            assert!(message.contains("OTHERRUN"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(text_of(&events, 0, Stream::Stdout), "");
    other.release().await.unwrap();

    // Free: held while every attempt runs (the command sees it), given back after the last.
    let dir_listing = format!("ls '{}'; exit 1", remote.display());
    let mut req = request(vec![host.clone()], &dir_listing);
    req.guards.lock_ttl = Some(PATIENCE);
    req.guards.retry = retry(2, &[RetryOn::Failed]);
    let (r, events) = run_alone(req, &ctx).await;
    assert_eq!(r.hosts[0].attempts, 2);
    let out = text_of(&events, 0, Stream::Stdout);
    assert_eq!(count(&out, "web01"), 2, "{out}");
    assert_eq!(locks.local_holder("web01").unwrap(), None);
    let left: Vec<_> = fs::read_dir(&remote).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A run that outlives its lock's TTL keeps the lock: it is renewed while the host works,
/// so another console (another home, the same host) is still refused after the first expiry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_renews_its_lock_past_the_ttl() {
    use fleetdeck::engine::locks::LockManager;
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("remote");
    let go = dir.path().join("go");
    let mut settings = Settings::default();
    settings.locks.remote_dir = remote.display().to_string();
    let home = fleetdeck::config::Home::under(&dir.path().join("home"));
    let locks = Arc::new(LockManager::new(&home, &settings.locks, "a@one".into()));
    let other_home = fleetdeck::config::Home::under(&dir.path().join("other"));
    let other = LockManager::new(&other_home, &settings.locks, "b@two".into());
    let ctx = RunContext::new(local_transports(), &settings, Some(locks.clone()));
    let host = local("web01");

    // Waits (bounded) for the test to say go.
    let cmd = format!(
        "for i in $(seq 600); do [ -e '{}' ] && exit 0; sleep 0.1; done; exit 1",
        go.display()
    );
    let mut req = request(vec![host.clone()], &cmd);
    req.guards.lock_ttl = Some(Duration::from_secs(3));
    let (control, _pause) = RunControl::new(CancellationToken::new());
    let running = Running::start(req, &ctx, control);

    let deadline = std::time::Instant::now() + PATIENCE;
    let first = loop {
        if let Some(h) = locks.local_holder("web01").unwrap() {
            break h;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the lock was never taken"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Past the first expiry: renewed here, and still held on the host.
    while !first.is_expired() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first expiry never came"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let now = locks
        .local_holder("web01")
        .unwrap()
        .expect("still held here");
    assert_eq!(now.run_id, first.run_id);
    assert_ne!(now.expires, first.expires, "renewed");
    let refused = other
        .acquire(
            &host,
            Arc::new(LocalTransport),
            "OTHERRUN",
            PATIENCE,
            PATIENCE,
        )
        .await
        .err()
        .expect("another console is refused");
    assert_eq!(refused.kind, ErrorKind::Locked, "{}", refused.message);
    assert!(
        refused.message.contains(&first.run_id),
        "{}",
        refused.message
    );

    fs::write(&go, "").unwrap();
    let (r, _) = running.finish().await;
    assert_eq!(r.hosts[0].state, HostState::Ok);
    assert_eq!(locks.local_holder("web01").unwrap(), None);
    let left: Vec<_> = fs::read_dir(&remote).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

// ------------------------------------------------------------- real sshd

#[tokio::test]
async fn retries_and_criteria_over_a_real_sshd_reuse_the_connection() {
    use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};
    if !sshd_or_skip("retries_and_criteria_over_a_real_sshd_reuse_the_connection") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 1,
        ..FleetOptions::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ssh = SshTransport::new(SshOptions {
        ssh_config: Some(fleet.ssh_config_path().to_path_buf()),
        extra_known_hosts: Vec::new(),
        fleetdeck_known_hosts: dir.path().join("known_hosts"),
        accept_new: false,
        max_handshakes: 8,
        max_channels_per_connection: 8,
        passphrase: None,
    })
    .unwrap();
    let ctx = context(
        local_transports().with(TransportKind::Ssh, Arc::new(ssh.clone())),
        |_| {},
    );
    let mut host = Host::ad_hoc(&fleet.aliases()[0]);
    host.transport = TransportKind::Ssh;
    let counter = dir.path().join("n");
    let command = format!(
        "n=$(cat '{c}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{c}'; \
         [ $n -ge 2 ] && echo 'Active: active (running)' || echo 'Active: activating'",
        c = counter.display()
    );
    let mut req = request(vec![host], &command);
    req.guards.success.output_contains = vec!["active (running)".into()];
    req.guards.retry = retry(3, &[RetryOn::Failed]);
    let (r, events) = run_alone(req, &ctx).await;
    assert_eq!(r.hosts[0].state, HostState::Ok, "{:?}", r.hosts[0]);
    assert_eq!(r.hosts[0].attempts, 2);
    assert_eq!(
        text_of(&events, 0, Stream::Stdout),
        "Active: activating\nActive: active (running)\n"
    );
    // The second attempt ran on the pooled connection: one handshake in all.
    assert_eq!(ssh.connections_made(), 1);
    ssh.shutdown().await;
}
