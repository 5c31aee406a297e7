//! Agent protocol v1 compatibility: frames recorded from a real `fleetdeck agent` and the
//! agent transport (tests/fixtures/protocol/v1, never edited to match new code) must decode
//! with today's code to the values they carried, field by field, and encode back to the same
//! JSON. The engine's vocabulary (`transport::ExitOutcome`, `transport::AgentOp`) converts to
//! and from the wire's own types, checked here against the same recordings: a rename on
//! either side fails these tests instead of an agent that was deployed earlier.

use std::collections::{BTreeMap, BTreeSet};

use fleetdeck::protocol::{
    Alert, CheckResult, DiskUsage, ErrorCode, ExitOutcome, Frame, Heartbeat, Hello, JsonFieldCheck,
    LockInfo, LockStatus, Message, Metrics, Operation, Scope, Severity, Stream, Usage, VERSION,
};
use fleetdeck::transport::{self, AgentOp};
use serde::Deserialize;
use serde_json::{Value, json};

const FRAMES: &str = include_str!("fixtures/protocol/v1/frames.jsonl");

/// One line of frames.jsonl (see the README beside it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Recorded {
    name: String,
    from: String,
    client: String,
    recorded: String,
    text: String,
}

fn recorded() -> BTreeMap<String, Recorded> {
    let mut all = BTreeMap::new();
    for (n, line) in FRAMES.lines().enumerate() {
        let r: Recorded =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("frames.jsonl:{}: {e}", n + 1));
        assert!(["console", "agent"].contains(&r.from.as_str()), "{r:?}");
        assert!(
            ["agent_transport", "raw_client", "none"].contains(&r.client.as_str()),
            "{r:?}"
        );
        assert!(
            ["live", "serialized"].contains(&r.recorded.as_str()),
            "{r:?}"
        );
        assert!(all.insert(r.name.clone(), r).is_none(), "duplicate name");
    }
    all
}

/// The recorded frame `name`, decoded (its version checked).
fn decoded(name: &str) -> Message {
    let all = recorded();
    let r = all
        .get(name)
        .unwrap_or_else(|| panic!("no recorded frame `{name}`"));
    let frame = Frame::decode(&r.text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(frame.v, VERSION, "{name}");
    frame.msg
}

const TMP: &str = "/tmp/.tmp6pQAKm";

fn exit(
    id: &str,
    outcome: ExitOutcome,
    duration_ms: u64,
    usage: Option<(u64, u64, u64)>,
) -> Message {
    Message::Exit {
        id: id.into(),
        outcome,
        duration_ms,
        usage: usage.map(|(user_ms, sys_ms, max_rss_kb)| Usage {
            user_ms,
            sys_ms,
            max_rss_kb,
        }),
        checks: vec![],
    }
}

fn check(name: &str, ok: bool, detail: &str) -> CheckResult {
    CheckResult {
        check: name.into(),
        ok,
        detail: detail.into(),
    }
}

fn error(id: Option<&str>, code: ErrorCode, message: &str) -> Message {
    Message::Error {
        id: id.map(str::to_string),
        code,
        message: message.into(),
    }
}

fn agent_hello(scopes: Vec<Scope>) -> Message {
    Message::Hello(Hello {
        software: "fleetdeck 0.1.0".into(),
        name: "a1".into(),
        scopes,
        heartbeat_s: Some(1),
        max_frame_bytes: Some(262_144),
    })
}

fn holder(owner: &str, run_id: &str, remaining_ms: u64, reason: Option<&str>) -> LockInfo {
    LockInfo {
        owner: owner.into(),
        run_id: run_id.into(),
        remaining_ms,
        reason: reason.map(str::to_string),
    }
}

fn lock_result(id: &str, status: LockStatus, holder: Option<LockInfo>) -> Message {
    Message::LockResult {
        id: id.into(),
        status,
        holder,
    }
}

fn file_validation_full() -> Operation {
    Operation::FileValidation {
        path: format!("{TMP}/data.bin"),
        exists: Some(true),
        readable: Some(true),
        size_gt_mb: Some(0.001),
        modified_within_s: Some(3600),
        sha256: Some("e4fde89f39bc53b90e9935a8015b80dd6e4135485e894094a3517fa250e344ae".into()),
    }
}

fn file_validation_nulls() -> Operation {
    Operation::FileValidation {
        path: format!("{TMP}/missing.txt"),
        exists: Some(true),
        readable: None,
        size_gt_mb: None,
        modified_within_s: None,
        sha256: None,
    }
}

fn service_health_full() -> Operation {
    Operation::ServiceHealth {
        url: "http://127.0.0.1:37205/health".into(),
        expect_status: Some(200),
        body_contains: Some("ok".into()),
        json_field: Some(JsonFieldCheck {
            pointer: "/status".into(),
            equals: json!("ok"),
        }),
        timeout_ms: Some(5000),
    }
}

fn service_health_nulls() -> Operation {
    Operation::ServiceHealth {
        url: "http://127.0.0.1:37205/health".into(),
        expect_status: Some(503),
        body_contains: None,
        json_field: Some(JsonFieldCheck {
            pointer: "/version".into(),
            equals: json!(4),
        }),
        timeout_ms: None,
    }
}

/// What each recorded frame said, written out field by field.
fn expected(name: &str) -> Message {
    let exec = |id: &str, op: Operation| Message::Exec { id: id.into(), op };
    match name {
        "hello_console" => Message::Hello(Hello {
            software: "fleetdeck 0.1.0".into(),
            name: "alice@laptop".into(),
            scopes: vec![],
            heartbeat_s: None,
            max_frame_bytes: None,
        }),
        "exec_shell_command_full" => exec(
            "j1",
            Operation::ShellCommand {
                command: "IFS= read -r X; echo \"got $X\"; echo oops >&2; exit 3".into(),
                args: vec![],
                shell: true,
                cwd: Some("/tmp".into()),
                env: vec![("GREETING".into(), "hi".into())],
                stdin: Some("c2VjcmV0Cg==".into()),
                timeout_ms: Some(30_000),
                idle_timeout_ms: Some(20_000),
            },
        ),
        "exec_shell_command_minimal" => exec(
            "j2",
            Operation::ShellCommand {
                command: "true".into(),
                args: vec![],
                shell: true,
                cwd: None,
                env: vec![],
                stdin: None,
                timeout_ms: None,
                idle_timeout_ms: None,
            },
        ),
        "exec_shell_command_args" => exec(
            "args",
            Operation::ShellCommand {
                command: "echo".into(),
                args: vec!["one".into(), "two words".into()],
                shell: false,
                cwd: Some("/".into()),
                env: vec![],
                stdin: None,
                timeout_ms: Some(5000),
                idle_timeout_ms: None,
            },
        ),
        "exec_file_validation_full" => exec("j7", file_validation_full()),
        "exec_file_validation_nulls" => exec("j8", file_validation_nulls()),
        "exec_service_health_full" => exec("j10", service_health_full()),
        "exec_service_health_nulls" => exec("j11", service_health_nulls()),
        "cancel" => Message::Cancel { id: "j6".into() },
        "ack" => Message::Ack { seq: 1 },
        "lock_with_reason" => Message::Lock {
            id: "j12".into(),
            name: "a1".into(),
            owner: "alice@laptop".into(),
            run_id: "01RUNA".into(),
            ttl_ms: 600_000,
            reason: Some("disk swap".into()),
        },
        "lock_without_reason" => Message::Lock {
            id: "j13".into(),
            name: "a1".into(),
            owner: "bob@desk".into(),
            run_id: "01RUNB".into(),
            ttl_ms: 600_000,
            reason: None,
        },
        "unlock" => Message::Unlock {
            id: "j14".into(),
            name: "a1".into(),
            run_id: "01RUNB".into(),
            force: false,
        },
        "unlock_force" => Message::Unlock {
            id: "j15".into(),
            name: "a1".into(),
            run_id: "01RUNB".into(),
            force: true,
        },
        "hello_agent_exec_scope" => agent_hello(vec![Scope::Read, Scope::Exec]),
        "hello_agent_read_scope" => agent_hello(vec![Scope::Read]),
        "heartbeat" => Message::Heartbeat(Heartbeat {
            jobs: 0,
            last_alert_seq: 0,
            metrics: Metrics {
                cpu_pct: 100.0,
                mem_used_bytes: 2_501_926_912,
                mem_total_bytes: 25_276_182_528,
                swap_used_bytes: 0,
                swap_total_bytes: 0,
                load1: 6.54,
                load5: 6.32,
                load15: 4.93,
                uptime_s: 2061,
                disks: vec![DiskUsage {
                    mount: "/".into(),
                    used_bytes: 237_292_396_544,
                    total_bytes: 270_553_174_016,
                }],
                net_rx_bytes_per_s: 0,
                net_tx_bytes_per_s: 0,
            },
        }),
        "started_with_pid" => Message::Started {
            id: "j1".into(),
            pid: Some(9289),
        },
        "started_without_pid" => Message::Started {
            id: "j7".into(),
            pid: None,
        },
        "output_stdout" => Message::Output {
            id: "j1".into(),
            stream: Stream::Stdout,
            data: "Z290IHNlY3JldAo=".into(),
        },
        "output_stderr" => Message::Output {
            id: "j1".into(),
            stream: Stream::Stderr,
            data: "b29wcwo=".into(),
        },
        "exit_code_with_usage" => exit("j1", ExitOutcome::Code { code: 3 }, 2, Some((1, 0, 31176))),
        "exit_signal" => exit(
            "j3",
            ExitOutcome::Signal {
                signal: "TERM".into(),
            },
            1,
            Some((1, 0, 31304)),
        ),
        "exit_timed_out" => exit(
            "j4",
            ExitOutcome::TimedOut { after_ms: 300 },
            301,
            Some((1, 0, 31304)),
        ),
        "exit_idle_timed_out" => exit(
            "j5",
            ExitOutcome::IdleTimedOut { after_ms: 300 },
            306,
            Some((3, 0, 31304)),
        ),
        "exit_cancelled" => exit("j6", ExitOutcome::Cancelled, 3, Some((1, 0, 31304))),
        "exit_no_status" => exit("7", ExitOutcome::NoStatus, 41, None),
        "exit_checks_passed" => Message::Exit {
            id: "j7".into(),
            outcome: ExitOutcome::Code { code: 0 },
            duration_ms: 0,
            usage: None,
            checks: vec![
                check("exists", true, &format!("{TMP}/data.bin exists")),
                check("readable", true, &format!("{TMP}/data.bin is readable")),
                check("size_gt_mb", true, "size 0.0 MB (want > 0.001 MB)"),
                check(
                    "modified_within_s",
                    true,
                    "modified 0 s ago (want within 3600 s)",
                ),
                check(
                    "sha256",
                    true,
                    "sha256 e4fde89f39bc53b90e9935a8015b80dd6e4135485e894094a3517fa250e344ae",
                ),
            ],
        },
        "exit_checks_failed" => Message::Exit {
            id: "j11".into(),
            outcome: ExitOutcome::Code { code: 1 },
            duration_ms: 0,
            usage: None,
            checks: vec![
                check("status", false, "status 200 (want 503)"),
                check("json_field", false, "/version is 3 (want 4)"),
            ],
        },
        "alert_raised" => Message::Alert(Alert {
            seq: 1,
            ts: "2026-12-07T17:51:21.693Z".into(),
            watcher: "app-errors".into(),
            severity: Severity::Warning,
            summary: format!("1 new line match /ERROR/ in {TMP}/app.log"),
            detail: Some("ERROR disk on fire".into()),
            resolved: false,
        }),
        "alert_resolved" => Message::Alert(Alert {
            seq: 2,
            ts: "2026-12-07T17:51:22.693Z".into(),
            watcher: "app-errors".into(),
            severity: Severity::Warning,
            summary: format!(
                "resolved: no new lines match /ERROR/ in {TMP}/app.log (1 matched meanwhile)"
            ),
            detail: Some(format!("was: 1 new line match /ERROR/ in {TMP}/app.log")),
            resolved: true,
        }),
        "lock_result_taken" => lock_result("j12", LockStatus::Taken, None),
        "lock_result_held" => lock_result(
            "j13",
            LockStatus::Held,
            Some(holder("alice@laptop", "01RUNA", 599_998, Some("disk swap"))),
        ),
        "lock_result_released" => lock_result(
            "j15",
            LockStatus::Released,
            Some(holder("alice@laptop", "01RUNA", 599_997, Some("disk swap"))),
        ),
        "lock_result_none" => lock_result("j16", LockStatus::None, None),
        "lock_result_reclaimed" => lock_result(
            "j18",
            LockStatus::Reclaimed,
            Some(holder("alice@laptop", "01RUNA", 0, None)),
        ),
        "error_policy" => error(
            Some("j9"),
            ErrorCode::Policy,
            "`/etc/shadow` is a forbidden path",
        ),
        "error_forbidden" => error(
            Some("r1"),
            ErrorCode::Forbidden,
            "this token has the read scope: it cannot run operations",
        ),
        "error_malformed_without_id" => error(
            None,
            ErrorCode::Malformed,
            "not JSON: expected ident at line 1 column 2",
        ),
        "error_malformed_with_id" => error(
            Some("bad-op"),
            ErrorCode::Malformed,
            "bad frame: unknown variant `reboot`, expected one of `shell_command`, \
             `file_validation`, `service_health`",
        ),
        "error_version" => error(
            None,
            ErrorCode::Version,
            "protocol version 9 is not supported (this side speaks 1)",
        ),
        "error_too_large" => error(
            None,
            ErrorCode::TooLarge,
            "frame of 262175 bytes is over the 262144-byte limit",
        ),
        "error_bad_id" => error(Some("nope"), ErrorCode::BadId, "no running job has this id"),
        "error_busy" => error(
            Some("s4"),
            ErrorCode::Busy,
            "3 jobs are running already (the policy's max_jobs)",
        ),
        "error_failed" => error(
            Some("noexec"),
            ErrorCode::Failed,
            &format!("cannot start {TMP}/noexec: No such file or directory (os error 2)"),
        ),
        other => panic!("recorded frame `{other}` has no expected value in this test"),
    }
}

#[test]
fn every_recorded_frame_decodes_to_its_values_and_encodes_back_to_the_same_json() {
    for (name, r) in recorded() {
        let msg = decoded(&name);
        assert_eq!(msg, expected(&name), "{name}: {}", r.text);
        // Key order may differ; keys, values and what is left out may not.
        let again: Value = serde_json::from_str(&Frame::new(msg).encode()).unwrap();
        let was: Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(again, was, "{name} encodes differently");
    }
}

#[test]
fn the_recordings_cover_every_frame_type_outcome_and_error_code() {
    let all = recorded();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in all.values() {
        let v: Value = serde_json::from_str(&r.text).unwrap();
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let ty = field("type").unwrap();
        seen.entry(format!("type from {}", r.from))
            .or_default()
            .insert(ty);
        for (key, kind) in [("outcome", "outcome"), ("code", "error code")] {
            if let Some(x) = field(key) {
                seen.entry(kind.to_string()).or_default().insert(x);
            }
        }
        if let Some(op) = v
            .get("op")
            .and_then(|o| o.get("op"))
            .and_then(Value::as_str)
        {
            seen.entry("op".to_string())
                .or_default()
                .insert(op.to_string());
        }
        if let Some(status) = field("status") {
            seen.entry("lock status".to_string())
                .or_default()
                .insert(status);
        }
    }
    let want = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        seen["type from console"],
        want(&["ack", "cancel", "exec", "hello", "lock", "unlock"])
    );
    assert_eq!(
        seen["type from agent"],
        want(&[
            "alert",
            "error",
            "exit",
            "heartbeat",
            "hello",
            "lock_result",
            "output",
            "started"
        ])
    );
    assert_eq!(
        seen["outcome"],
        want(&[
            "cancelled",
            "code",
            "idle_timed_out",
            "no_status",
            "signal",
            "timed_out"
        ])
    );
    assert_eq!(
        seen["error code"],
        want(&[
            "bad_id",
            "busy",
            "failed",
            "forbidden",
            "malformed",
            "policy",
            "too_large",
            "version"
        ])
    );
    assert_eq!(
        seen["op"],
        want(&["file_validation", "service_health", "shell_command"])
    );
    assert_eq!(
        seen["lock status"],
        want(&["held", "none", "reclaimed", "released", "taken"])
    );
    // Only what the agent could not be made to send was serialized rather than recorded.
    let serialized: Vec<&str> = all
        .values()
        .filter(|r| r.recorded == "serialized")
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(serialized, ["exit_no_status"]);
}

/// Every recorded outcome in the engine's words, and back unchanged (the agent builds its
/// exits from the engine's reading of a wait status).
#[test]
fn recorded_exit_outcomes_convert_to_the_engine_vocabulary_and_back() {
    use transport::ExitOutcome as Engine;
    let cases = [
        ("exit_code_with_usage", Engine::Code { code: 3 }),
        ("exit_checks_failed", Engine::Code { code: 1 }),
        (
            "exit_signal",
            Engine::Signal {
                signal: "TERM".into(),
            },
        ),
        ("exit_timed_out", Engine::TimedOut { after_ms: 300 }),
        (
            "exit_idle_timed_out",
            Engine::IdleTimedOut { after_ms: 300 },
        ),
        ("exit_cancelled", Engine::Cancelled),
        ("exit_no_status", Engine::NoStatus),
    ];
    for (name, engine) in cases {
        let Message::Exit { outcome, .. } = decoded(name) else {
            panic!("{name} is not an exit")
        };
        assert_eq!(Engine::from(outcome.clone()), engine, "{name}");
        assert_eq!(ExitOutcome::from(engine), outcome, "{name}");
    }
}

/// An action's `[agent]` table, read as the engine's `AgentOp` (the template format), goes on
/// the wire as the agent transport sent it when these were recorded.
#[test]
fn agent_ops_from_action_templates_become_the_recorded_exec_ops() {
    let cases = [
        (
            "exec_file_validation_full",
            format!(
                "op = \"file_validation\"\npath = \"{TMP}/data.bin\"\nexists = true\n\
                 readable = true\nsize_gt_mb = 0.001\nmodified_within_s = 3600\nsha256 = \
                 \"e4fde89f39bc53b90e9935a8015b80dd6e4135485e894094a3517fa250e344ae\"\n"
            ),
        ),
        (
            "exec_file_validation_nulls",
            format!("op = \"file_validation\"\npath = \"{TMP}/missing.txt\"\nexists = true\n"),
        ),
        (
            "exec_service_health_full",
            "op = \"service_health\"\nurl = \"http://127.0.0.1:37205/health\"\n\
             expect_status = 200\nbody_contains = \"ok\"\ntimeout_ms = 5000\n\
             [json_field]\npointer = \"/status\"\nequals = \"ok\"\n"
                .to_string(),
        ),
        (
            "exec_service_health_nulls",
            "op = \"service_health\"\nurl = \"http://127.0.0.1:37205/health\"\n\
             expect_status = 503\n[json_field]\npointer = \"/version\"\nequals = 4\n"
                .to_string(),
        ),
    ];
    for (name, table) in cases {
        let op: AgentOp = toml::from_str(&table).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Message::Exec { op: recorded, .. } = decoded(name) else {
            panic!("{name} is not an exec")
        };
        assert_eq!(Operation::from(op), recorded, "{name}");
    }
}
