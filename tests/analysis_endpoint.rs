//! The analysis client against a loopback OpenAI-compatible endpoint written here: what is
//! sent (hunted for planted secrets), how the answer is read, and every way the endpoint can
//! fail (down, 500, invalid JSON, hanging, trickling forever, too large, no choices), each a
//! clear error within the configured bounds.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fleetdeck::config::Settings;
use fleetdeck::incident::analysis::{AnalysisClient, AnalysisError, AnalysisInput, REDACTED};
use fleetdeck::incident::facts::{IncidentFacts, Severity, Source};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How the endpoint answers every request.
#[derive(Clone)]
enum Mode {
    /// A whole answer.
    Answer { status: u16, body: String },
    /// Reads the request, never answers.
    Hang,
    /// Headers, then one byte of a never-ending body every 50 ms.
    Trickle,
    /// Headers without a length, then 64 KiB writes until the client goes away.
    Flood,
}

/// What the endpoint saw: each request's head and body.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<(String, String)>>,
}

struct Endpoint {
    addr: SocketAddr,
    seen: Arc<Seen>,
    server: JoinHandle<()>,
}

impl Endpoint {
    async fn start(mode: Mode) -> Endpoint {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let server = tokio::spawn(serve(listener, mode, Arc::clone(&seen)));
        Endpoint { addr, seen, server }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/chat/completions", self.addr)
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.seen.requests.lock().unwrap().clone()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, mode: Mode, seen: Arc<Seen>) {
    let mut connections = JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        connections.spawn(answer(stream, mode.clone(), Arc::clone(&seen)));
    }
}

/// Reads one request (head, then a Content-Length body; at most 1 MiB) and answers it.
async fn answer(mut stream: TcpStream, mode: Mode, seen: Arc<Seen>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, body) = loop {
        let Ok(n) = stream.read(&mut buf).await else {
            return;
        };
        if n == 0 || data.len() > 1 << 20 {
            return;
        }
        data.extend_from_slice(&buf[..n]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if data.len() >= end + 4 + length {
            let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]).into_owned();
            break (head, body);
        }
    };
    seen.requests.lock().unwrap().push((head, body));
    match mode {
        Mode::Answer { status, body } => {
            let text = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(text.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
        Mode::Hang => std::future::pending::<()>().await,
        Mode::Trickle => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            // Bounded by the client: the write fails once it hangs up (and the test's drop).
            while stream.write_all(b"d").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Mode::Flood => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 64 << 10];
            while stream.write_all(&chunk).await.is_ok() {}
        }
    }
}

fn completion(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "loopback-model-1",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content },
            "finish_reason": "stop"
        }]
    })
    .to_string()
}

/// Settings for `url` through config.toml's own parser.
fn settings(url: &str, extra: &str) -> Settings {
    let text = format!(
        "[analysis]\nendpoint = \"{url}\"\nmodel = \"test-model\"\napi_key_env = \"\"\n{extra}"
    );
    Settings::parse(Path::new("config.toml"), &text).unwrap()
}

fn input() -> AnalysisInput {
    AnalysisInput {
        incident: IncidentFacts {
            source: Source::Agent,
            title: "nginx.service failed".into(),
            severity: Severity::Critical,
            labels: BTreeMap::from([("unit".to_string(), "nginx.service".to_string())]),
            annotations: BTreeMap::new(),
            hosts: vec!["web01".into(), "web02".into()],
        },
        hint: Some("restart it".into()),
        samples: vec!["web01 cpu 12% mem 40% disk 71%".into()],
        run_errors: vec!["run 01J on web01: Job for nginx.service failed".into()],
        log_excerpt: "nginx: [emerg] bind() to 0.0.0.0:80 failed".into(),
        actions: vec!["service-restart".into(), "service-status".into()],
    }
}

#[tokio::test]
async fn planted_secrets_never_reach_the_endpoint() {
    let endpoint = Endpoint::start(Mode::Answer {
        status: 200,
        body: completion("Port 80 is taken. Run `service-restart` after freeing it.\u{1b}[2J"),
    })
    .await;
    // The key lives in an environment variable only this test uses.
    let key_var = "FLEETDECK_TEST_ANALYSIS_KEY_7731";
    let api_key = "sk-loopbacktestkey0123456789abcdef";
    // SAFETY: set once before any thread of this test reads the environment; the name is
    // unique to this test binary.
    unsafe { std::env::set_var(key_var, api_key) };
    let secret_param = "Zq-param-secret-8812";
    let agent_token = "4f".repeat(32);
    let mut s = settings(&endpoint.url(), "redact = [\"acct-[0-9]{6}\"]\n");
    s.analysis.api_key_env = key_var.to_string();
    let client = AnalysisClient::new(&s.analysis, [secret_param, agent_token.as_str()]).unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains(api_key) && !shown.contains(secret_param),
        "{shown}"
    );

    let mut input = input();
    input
        .incident
        .labels
        .insert("customer".into(), "acct-123456".into());
    input
        .incident
        .annotations
        .insert("description".into(), format!("deploy used {secret_param}"));
    input.samples.push(format!("agent token {agent_token}"));
    input
        .run_errors
        .push("curl -H 'Authorization: Bearer abcDEF123456789.xyz' failed".into());
    input
        .run_errors
        .push("psql: connection with password=hunter2xyz refused".into());
    input.log_excerpt.push_str(&format!(
        "\nleaked key {api_key}\nDB_URL=postgres://app:s3cretpw@db1/app\n"
    ));

    let analysis = client.analyse(&input).await.unwrap();
    assert_eq!(analysis.model, "loopback-model-1");
    assert_eq!(
        analysis.suggested_action.as_deref(),
        Some("service-restart")
    );
    assert!(!analysis.text.contains('\u{1b}'), "{:?}", analysis.text);

    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    let (head, body) = &requests[0];
    for planted in [
        secret_param,
        agent_token.as_str(),
        api_key,
        "acct-123456",
        "abcDEF123456789",
        "hunter2xyz",
        "s3cretpw",
    ] {
        assert!(!body.contains(planted), "{planted} was sent:\n{body}");
    }
    assert!(body.contains(REDACTED), "{body}");
    // The key travels only as the bearer token.
    assert!(
        head.to_ascii_lowercase().contains(&format!(
            "authorization: bearer {}",
            api_key.to_ascii_lowercase()
        )),
        "{head}"
    );
    // What is not secret is there, in the chat-completions shape.
    let sent: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(sent["model"], "test-model");
    assert_eq!(sent["stream"], false);
    let user = sent["messages"][1]["content"].as_str().unwrap();
    for expected in [
        "nginx.service failed",
        "web[01-02]",
        "bind() to 0.0.0.0:80",
        "service-status",
    ] {
        assert!(user.contains(expected), "{expected} missing:\n{user}");
    }
}

#[tokio::test]
async fn endpoint_failures_are_clear_errors() {
    let cases: Vec<(Mode, &str)> = vec![
        (
            Mode::Answer {
                status: 500,
                body: r#"{"error":{"message":"model overloaded"}}"#.into(),
            },
            "analysis endpoint answered HTTP 500: model overloaded",
        ),
        (
            Mode::Answer {
                status: 200,
                body: "<html>oops</html>".into(),
            },
            "not chat-completions JSON",
        ),
        (
            Mode::Answer {
                status: 200,
                body: r#"{"choices":[]}"#.into(),
            },
            "no choices in the answer",
        ),
        (Mode::Hang, "no complete answer within 1s"),
        (Mode::Trickle, "no complete answer within 1s"),
        (Mode::Flood, "analysis answer is larger than 4KiB"),
    ];
    for (mode, wanted) in cases {
        let endpoint = Endpoint::start(mode).await;
        let s = settings(&endpoint.url(), "timeout = \"1s\"\nmax_answer = \"4KiB\"\n");
        let client = AnalysisClient::new(&s.analysis, []).unwrap();
        let err = client.analyse(&input()).await.unwrap_err();
        assert!(
            err.to_string().contains(wanted),
            "wanted {wanted}, got {err}"
        );
        assert_eq!(endpoint.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_down_endpoint_or_missing_key_or_no_endpoint_is_said_plainly() {
    // A port that was just free: nothing listens there.
    let addr = {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        l.local_addr().unwrap()
    };
    let s = settings(&format!("http://{addr}/v1/chat/completions"), "");
    let client = AnalysisClient::new(&s.analysis, []).unwrap();
    let err = client.analyse(&input()).await.unwrap_err();
    assert!(matches!(err, AnalysisError::Connect(_)), "{err}");
    assert!(
        err.to_string().starts_with("analysis endpoint unreachable"),
        "{err}"
    );

    let mut s = settings(&format!("http://{addr}/"), "");
    s.analysis.api_key_env = "FLEETDECK_TEST_UNSET_KEY_VAR_55".into();
    let err = AnalysisClient::new(&s.analysis, []).unwrap_err();
    assert!(
        err.to_string().contains("FLEETDECK_TEST_UNSET_KEY_VAR_55"),
        "{err}"
    );

    let off = Settings::default();
    assert_eq!(
        AnalysisClient::new(&off.analysis, []).unwrap_err(),
        AnalysisError::Off
    );
}

/// A home with web01 (an agent host whose token file holds `token`), an open incident on
/// web01 whose alert detail quotes the token, and a failed run on web01 in history.jsonl.
fn analysis_home(
    dir: &Path,
    token: &str,
) -> (
    fleetdeck::config::Home,
    Vec<fleetdeck::inventory::Host>,
    String,
) {
    use fleetdeck::config::Home;
    use fleetdeck::incident::{Book, Observation};
    let home = Home::under(dir);
    home.ensure_writable_dirs().unwrap();
    std::fs::create_dir_all(&home.config_dir).unwrap();
    std::fs::write(home.config_dir.join("web.token"), format!("{token}\n")).unwrap();
    std::fs::write(
        home.hosts_file(),
        "[[hosts]]\nname = \"web01\"\ntransport = \"agent\"\n\
         agent = { url = \"wss://127.0.0.1:7070\", fingerprint = \"sha256:\
         0000000000000000000000000000000000000000000000000000000000000000\", \
         token_file = \"web.token\" }\n",
    )
    .unwrap();
    let hosts = fleetdeck::inventory::load::load(&home.hosts_file())
        .unwrap()
        .hosts()
        .to_vec();
    let mut book = Book::for_home(&home, &Settings::default().store).unwrap();
    let opened = book
        .observe(&Observation {
            source: Source::Agent,
            fingerprint: "web01/nginx".into(),
            title: "nginx.service failed".into(),
            severity: Severity::Critical,
            hosts: vec!["web01".into()],
            labels: BTreeMap::from([("unit".to_string(), "nginx.service".to_string())]),
            annotations: BTreeMap::from([(
                "detail".to_string(),
                format!("upstream refused token {token}; bind() to 0.0.0.0:80 failed"),
            )]),
            firing: true,
            ts: "2026-12-07T10:00:00Z".into(),
        })
        .unwrap()
        .expect("the incident opened");
    use fleetdeck::engine::{HostResult, HostState, RunResult, RunStatus};
    let run = RunResult {
        id: "01JRUNFAILEDNGINX0000000000".into(),
        user: "ana".into(),
        started: "2026-12-07T09:59:00Z".into(),
        finished: "2026-12-07T09:59:01Z".into(),
        selector: "web01".into(),
        targets: "web01".into(),
        command: "systemctl restart nginx".into(),
        status: RunStatus::Failed,
        hosts: vec![HostResult {
            host: "web01".into(),
            state: HostState::Failed {
                outcome: fleetdeck::transport::ExitOutcome::Code { code: 1 },
            },
            exit_code: Some(1),
            duration_ms: 40,
            bytes_out: 0,
            bytes_err: 60,
            first_error_line: Some(
                "Job for nginx.service failed because the control process exited".into(),
            ),
            attempts: 1,
        }],
        action: None,
    };
    let run = serde_json::to_string(&run).unwrap();
    std::fs::write(home.history_file(), format!("{run}\n")).unwrap();
    (home, hosts, opened.id)
}

/// The session asks with what it knows (the incident, its alert's detail, the run errors on
/// its hosts), never an agent token the inventory points at, and writes the answer on the
/// timeline as a suggestion with the model's name; an endpoint that fails writes nothing.
#[tokio::test]
async fn the_session_asks_about_an_incident_and_writes_the_suggestion() {
    use fleetdeck::engine::{AnalysisAsk, FleetSession, IncidentOpError, SessionOptions};
    use fleetdeck::incident::Book;
    let endpoint = Endpoint::start(Mode::Answer {
        status: 200,
        body: completion("nginx cannot bind port 80.\nFree it, then run `service-restart`."),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = "9c".repeat(32);
    let (home, hosts, id) = analysis_home(dir.path(), &token);
    let settings = settings(&endpoint.url(), "");
    let session = FleetSession::open(&home, &settings, SessionOptions::new(hosts)).unwrap();
    let ask = AnalysisAsk {
        id: id[..4].to_string(),
        hint: Some("Restart nginx.".into()),
        actions: vec!["service-restart".into()],
    };
    let written = session.analyse_incident(ask.clone()).await.unwrap();
    assert_eq!(written.incident.id, id);

    let requests = endpoint.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].1;
    assert!(!body.contains(&token), "the agent token was sent:\n{body}");
    for expected in [
        "nginx.service failed",
        "Restart nginx.",
        "Job for nginx.service failed because the control process exited",
        "bind() to 0.0.0.0:80 failed",
        "service-restart",
        REDACTED,
    ] {
        assert!(body.contains(expected), "{expected} not sent:\n{body}");
    }

    let book = Book::for_home(&home, &settings.store).unwrap();
    let incident = book.find(&id).unwrap();
    let entry = incident
        .timeline
        .iter()
        .find(|e| e.event == "analysis")
        .expect("the analysis is on the timeline");
    let text = entry.text.as_deref().unwrap();
    assert!(
        text.starts_with("suggestion from loopback-model-1: nginx cannot bind port 80."),
        "{text}"
    );
    assert!(text.contains("(action: service-restart)"), "{text}");
    let audit = std::fs::read_to_string(home.audit_file()).unwrap();
    assert!(audit.contains("\"incident-analysis\""), "{audit}");

    // A failing endpoint: a clear error, nothing more on the timeline.
    let failing = Endpoint::start(Mode::Answer {
        status: 200,
        body: "{not json".into(),
    })
    .await;
    let bad = self::settings(&failing.url(), "");
    let hosts = fleetdeck::inventory::load::load(&home.hosts_file())
        .unwrap()
        .hosts()
        .to_vec();
    let session2 = FleetSession::open(&home, &bad, SessionOptions::new(hosts)).unwrap();
    let err = session2.analyse_incident(ask).await.unwrap_err();
    assert!(matches!(err, IncidentOpError::Analysis(_)), "{err:?}");
    assert!(
        err.to_string().contains("the runbook's hint stands"),
        "{err}"
    );
    let book = Book::for_home(&home, &settings.store).unwrap();
    let analyses = book
        .find(&id)
        .unwrap()
        .timeline
        .iter()
        .filter(|e| e.event == "analysis")
        .count();
    assert_eq!(analyses, 1);
    session.shutdown(Duration::from_secs(5)).await;
    session2.shutdown(Duration::from_secs(5)).await;
}
