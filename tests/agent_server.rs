//! `fleetdeck agent`, end to end: real `agent init` / `agent run` processes on 127.0.0.1,
//! talked to over TLS (the certificate pinned by fingerprint) with a WebSocket client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetdeck::protocol::{
    self, CheckResult, ErrorCode, ExitOutcome, Frame, Message, Operation, Scope, Stream,
    cert_fingerprint,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, WebSocket};

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");
/// Every wait in these tests is bounded by this.
const WAIT: Duration = Duration::from_secs(20);

struct Agent {
    child: Option<Child>,
    _tmp: tempfile::TempDir,
    home: PathBuf,
    dir: PathBuf,
    addr: SocketAddr,
    fingerprint: [u8; 32],
    read_token: String,
    exec_token: String,
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `agent init` with extra allowlist globs, `edit` applied to agent.toml, then `agent run`.
fn start_agent(allow: &[&str], edit: impl FnOnce(String) -> String) -> Agent {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("agent");
    let mut init = Command::new(BIN);
    init.args([
        "--home",
        home.to_str().unwrap(),
        "agent",
        "init",
        "--name",
        "test-agent",
        "--dir",
    ])
    .arg(&dir);
    for a in allow {
        init.args(["--allow", a]);
    }
    let out = init.output().unwrap();
    assert!(
        out.status.success(),
        "init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml_path = dir.join("agent.toml");
    let text = std::fs::read_to_string(&toml_path).unwrap();
    std::fs::write(&toml_path, edit(text)).unwrap();
    let cert = CertificateDer::from_pem_file(dir.join("cert.pem")).unwrap();
    let fingerprint = protocol::parse_fingerprint(&cert_fingerprint(cert.as_ref())).unwrap();
    let read_token = std::fs::read_to_string(dir.join("read.token"))
        .unwrap()
        .trim()
        .to_string();
    let exec_token = std::fs::read_to_string(dir.join("exec.token"))
        .unwrap()
        .trim()
        .to_string();
    let mut agent = Agent {
        child: None,
        _tmp: tmp,
        home,
        dir,
        addr: "127.0.0.1:1".parse().unwrap(),
        fingerprint,
        read_token,
        exec_token,
    };
    agent.launch();
    agent
}

impl Agent {
    /// Starts `agent run` and waits for its ready file.
    fn launch(&mut self) {
        let ready = self
            .dir
            .parent()
            .unwrap()
            .join(format!("ready-{}", Instant::now().elapsed().as_nanos()));
        let _ = std::fs::remove_file(&ready);
        let child = Command::new(BIN)
            .args([
                "--home",
                self.home.to_str().unwrap(),
                "agent",
                "run",
                "--listen",
                "127.0.0.1:0",
                "--dir",
            ])
            .arg(&self.dir)
            .arg("--ready-file")
            .arg(&ready)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + WAIT;
        let url = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && text.ends_with('\n')
            {
                break text.trim().to_string();
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                let mut err = String::new();
                self.child
                    .as_mut()
                    .unwrap()
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("agent exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "agent did not become ready");
            std::thread::sleep(Duration::from_millis(20));
        };
        self.addr = url.strip_prefix("wss://").unwrap().parse().unwrap();
    }

    fn connect(&self, token: Option<&str>) -> Result<Client, tungstenite::Error> {
        connect_pinned(self.addr, self.fingerprint, token)
    }

    /// Connected with the exec token, hellos exchanged.
    fn exec_client(&self) -> Client {
        let mut c = self.connect(Some(&self.exec_token)).unwrap();
        c.hello();
        c
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }
}

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

struct Client {
    ws: WebSocket<Tls>,
}

fn connect_pinned(
    addr: SocketAddr,
    fingerprint: [u8; 32],
    token: Option<&str>,
) -> Result<Client, tungstenite::Error> {
    // Exactly the TLS a console uses: the certificate pinned by its SHA-256.
    let (config, _presented) =
        fleetdeck::transport::agent::pinned_client_config(fingerprint).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let tls = rustls::StreamOwned::new(conn, tcp);
    let mut request = format!("wss://{addr}/").into_client_request().unwrap();
    if let Some(t) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    match tungstenite::client::client(request, tls) {
        Ok((ws, _)) => Ok(Client { ws }),
        Err(tungstenite::HandshakeError::Failure(e)) => Err(e),
        Err(tungstenite::HandshakeError::Interrupted(_)) => {
            panic!("blocking handshake interrupted")
        }
    }
}

impl Client {
    fn send_text(&mut self, text: &str) {
        self.ws
            .send(WsMessage::Text(text.to_string().into()))
            .unwrap();
    }

    fn send(&mut self, msg: Message) {
        self.send_text(&Frame::new(msg).encode());
    }

    /// The next protocol frame, skipping heartbeats; None when the connection closed.
    fn next(&mut self) -> Option<Message> {
        self.next_any(false)
    }

    fn next_any(&mut self, heartbeats: bool) -> Option<Message> {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "no frame within {WAIT:?}");
            match self.ws.read() {
                Ok(WsMessage::Text(t)) => {
                    let msg = Frame::decode(t.as_str()).unwrap().msg;
                    if heartbeats || !matches!(msg, Message::Heartbeat(_)) {
                        return Some(msg);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("read ended: {e}");
                    return None;
                }
            }
        }
    }

    fn hello(&mut self) -> protocol::Hello {
        self.hello_as("tester@test")
    }

    fn hello_as(&mut self, consumer: &str) -> protocol::Hello {
        let Some(Message::Hello(server)) = self.next() else {
            panic!("no hello")
        };
        self.send(Message::Hello(protocol::Hello {
            software: "test".into(),
            name: consumer.into(),
            scopes: vec![],
            heartbeat_s: None,
            max_frame_bytes: None,
        }));
        server
    }

    fn exec(&mut self, id: &str, op: Operation) {
        self.send(Message::Exec { id: id.into(), op });
    }

    /// Runs a job to its end: (stdout, stderr, the exit message).
    fn run(&mut self, id: &str, op: Operation) -> Outcome {
        self.exec(id, op);
        self.collect(id)
    }

    fn collect(&mut self, id: &str) -> Outcome {
        let mut o = Outcome::default();
        loop {
            match self.next().expect("connection closed mid-job") {
                Message::Started { id: j, pid } if j == id => o.pid = pid,
                Message::Output {
                    id: j,
                    stream,
                    data,
                } if j == id => {
                    let bytes = protocol::decode_bytes(&data).unwrap();
                    assert!(bytes.len() <= protocol::MAX_OUTPUT_CHUNK);
                    match stream {
                        Stream::Stdout => o.stdout.extend(bytes),
                        Stream::Stderr => o.stderr.extend(bytes),
                    }
                }
                Message::Exit {
                    id: j,
                    outcome,
                    usage,
                    checks,
                    ..
                } if j == id => {
                    o.exit = Some(outcome);
                    o.usage = usage;
                    o.checks = checks;
                    return o;
                }
                Message::Error {
                    id: Some(j),
                    code,
                    message,
                } if j == id => {
                    o.error = Some((code, message));
                    return o;
                }
                other => panic!("unexpected frame for job {id}: {other:?}"),
            }
        }
    }
}

#[derive(Debug, Default)]
struct Outcome {
    pid: Option<u32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit: Option<ExitOutcome>,
    usage: Option<protocol::Usage>,
    checks: Vec<CheckResult>,
    error: Option<(ErrorCode, String)>,
}

impl Outcome {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    fn refused(&self) -> ErrorCode {
        self.error
            .as_ref()
            .unwrap_or_else(|| panic!("not refused: {self:?}"))
            .0
    }
}

fn cmd(command: &str, args: &[&str]) -> Operation {
    Operation::ShellCommand {
        command: command.into(),
        args: args.iter().map(|s| s.to_string()).collect(),
        shell: false,
        cwd: None,
        env: vec![],
        stdin: None,
        timeout_ms: None,
        idle_timeout_ms: None,
    }
}

fn sh(script: &str) -> Operation {
    Operation::ShellCommand {
        command: script.into(),
        args: vec![],
        shell: true,
        cwd: None,
        env: vec![],
        stdin: None,
        timeout_ms: None,
        idle_timeout_ms: None,
    }
}

fn with(
    op: Operation,
    f: impl FnOnce(
        &mut Option<String>,
        &mut Vec<(String, String)>,
        &mut Option<String>,
        &mut Option<u64>,
        &mut Option<u64>,
    ),
) -> Operation {
    let Operation::ShellCommand {
        command,
        args,
        shell,
        mut cwd,
        mut env,
        mut stdin,
        mut timeout_ms,
        mut idle_timeout_ms,
    } = op
    else {
        unreachable!()
    };
    f(
        &mut cwd,
        &mut env,
        &mut stdin,
        &mut timeout_ms,
        &mut idle_timeout_ms,
    );
    Operation::ShellCommand {
        command,
        args,
        shell,
        cwd,
        env,
        stdin,
        timeout_ms,
        idle_timeout_ms,
    }
}

fn unchanged(s: String) -> String {
    s
}

/// True once `pid` is gone (or a zombie nobody reaped yet).
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn init_keeps_tokens_hashed_and_files_private() {
    let agent = start_agent(&[], unchanged);
    for f in [
        "key.pem",
        "read.token",
        "exec.token",
        "tokens.toml",
        "agent.toml",
    ] {
        let mode = std::fs::metadata(agent.dir.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    let hashes = std::fs::read_to_string(agent.dir.join("tokens.toml")).unwrap();
    assert!(!hashes.contains(&agent.exec_token) && !hashes.contains(&agent.read_token));
    // A second init refuses to overwrite; --force replaces the tokens.
    let again = Command::new(BIN)
        .args(["agent", "init", "--dir"])
        .arg(&agent.dir)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = Command::new(BIN)
        .args(["agent", "init", "--force", "--san", "10.1.2.3", "--dir"])
        .arg(&agent.dir)
        .output()
        .unwrap();
    assert!(forced.status.success());
    let out = String::from_utf8_lossy(&forced.stdout);
    let new_exec = std::fs::read_to_string(agent.dir.join("exec.token")).unwrap();
    assert!(!out.contains(new_exec.trim()), "a token reached stdout");
    let cert = CertificateDer::from_pem_file(agent.dir.join("cert.pem")).unwrap();
    let fp = cert_fingerprint(cert.as_ref());
    assert!(out.contains(&format!("fingerprint = \"{fp}\"")), "{out}");
    assert!(out.contains("url = \"wss://10.1.2.3:7443\""), "{out}");
    assert!(out.contains("transport = \"agent\""), "{out}");
}

#[test]
fn tokens_are_checked_before_the_upgrade() {
    let agent = start_agent(&[], unchanged);
    for token in [None, Some("wrong"), Some("")] {
        match agent.connect(token) {
            Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401, "{token:?}"),
            Err(e) => panic!("{token:?}: {e}"),
            Ok(_) => panic!("{token:?} was let in"),
        }
    }
    // The wrong certificate pin is refused by the client.
    let mut other = agent.fingerprint;
    other[0] ^= 1;
    assert!(connect_pinned(agent.addr, other, Some(&agent.exec_token)).is_err());

    let mut read = agent.connect(Some(&agent.read_token)).unwrap();
    let hello = read.hello();
    assert_eq!(hello.scopes, vec![Scope::Read]);
    assert_eq!(hello.name, "test-agent");
    assert_eq!(hello.max_frame_bytes, Some(protocol::MAX_FRAME_BYTES));
    assert_eq!(
        read.run("r1", cmd("echo", &["no"])).refused(),
        ErrorCode::Forbidden
    );
    read.send(Message::Cancel { id: "r1".into() });
    assert!(matches!(
        read.next(),
        Some(Message::Error {
            code: ErrorCode::Forbidden,
            ..
        })
    ));
    // Heartbeats still come, with metrics.
    let hb = loop {
        if let Some(Message::Heartbeat(hb)) = read.next_any(true) {
            break hb;
        }
    };
    assert!(hb.metrics.mem_total_bytes > 0, "{hb:?}");

    let mut exec = agent.exec_client();
    let o = exec.run("e1", cmd("echo", &["yes"]));
    assert_eq!(o.stdout(), "yes\n");
}

#[test]
fn a_console_without_hello_is_pinged_then_closed_with_1008() {
    use tungstenite::protocol::frame::coding::CloseCode;
    let agent = start_agent(&[], unchanged);
    let mut c = agent.connect(Some(&agent.read_token)).unwrap();
    let (mut pinged, mut refused) = (false, false);
    // Each read waits at most WAIT (the socket's timeout); the agent closes after 10 s.
    let mut close = None;
    for _ in 0..100 {
        match c.ws.read().unwrap() {
            WsMessage::Ping(_) => pinged = true,
            WsMessage::Text(t) => {
                if let Message::Error { code, message, .. } = Frame::decode(t.as_str()).unwrap().msg
                {
                    assert_eq!(code, ErrorCode::Malformed, "{message}");
                    assert!(message.contains("hello"), "{message}");
                    refused = true;
                }
            }
            WsMessage::Close(frame) => {
                close = frame;
                break;
            }
            _ => {}
        }
    }
    assert!(pinged && refused, "pinged {pinged}, refused {refused}");
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Policy));
}

#[test]
fn shell_command_reports_output_exit_signal_and_usage() {
    let agent = start_agent(&["/bin/sh"], unchanged);
    let mut c = agent.exec_client();

    let o = c.run("1", cmd("echo", &["hello", "world"]));
    assert_eq!(o.stdout(), "hello world\n");
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 0 }));
    assert!(o.pid.is_some() && o.usage.is_some());

    let o = c.run("2", sh("echo out; echo err >&2; exit 3"));
    assert_eq!(o.stdout(), "out\n");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "err\n");
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 3 }));

    let o = c.run("3", sh("kill -KILL $$"));
    assert_eq!(
        o.exit,
        Some(ExitOutcome::Signal {
            signal: "KILL".into()
        })
    );

    let secret = protocol::encode_bytes(b"from stdin\n");
    let op = with(cmd("cat", &[]), |_, _, stdin, _, _| *stdin = Some(secret));
    assert_eq!(c.run("4", op).stdout(), "from stdin\n");

    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().canonicalize().unwrap();
    let op = with(sh("pwd; echo $GREETING"), |dir, env, _, _, _| {
        *dir = Some(cwd.to_str().unwrap().into());
        env.push(("GREETING".into(), "hi".into()));
    });
    assert_eq!(c.run("5", op).stdout(), format!("{}\nhi\n", cwd.display()));

    // The same id may be reused once its job ended; a running one may not.
    c.exec("6", cmd("sleep", &["5"]));
    assert!(matches!(c.next(), Some(Message::Started { .. })));
    assert_eq!(c.run("6", cmd("echo", &[])).refused(), ErrorCode::BadId);
    c.send(Message::Cancel { id: "6".into() });
    assert_eq!(c.collect("6").exit, Some(ExitOutcome::Cancelled));
    c.send(Message::Cancel { id: "nope".into() });
    assert!(matches!(
        c.next(),
        Some(Message::Error {
            code: ErrorCode::BadId,
            ..
        })
    ));
}

#[test]
fn allowlist_bypass_attempts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let tools = tmp.path().canonicalize().unwrap().join("tools");
    std::fs::create_dir(&tools).unwrap();
    let glob = format!("{}/*", tools.display());
    // A real program in the allowed folder runs; a symlink there to rm resolves to rm.
    std::fs::copy("/bin/echo", tools.join("myecho")).unwrap();
    std::os::unix::fs::symlink("/bin/rm", tools.join("innocent")).unwrap();
    let agent = start_agent(&[&glob], unchanged);
    let mut c = agent.exec_client();

    assert_eq!(
        c.run("ok", cmd(tools.join("myecho").to_str().unwrap(), &["fine"]))
            .stdout(),
        "fine\n"
    );
    let attempts = [
        cmd(
            tools.join("innocent").to_str().unwrap(),
            &["-rf", "/nonexistent"],
        ),
        cmd("rm", &["/nonexistent"]),
        cmd("/usr/bin/../bin/rm", &["/nonexistent"]),
        cmd(
            &format!("{}/../../../../../../usr/bin/rm", tools.display()),
            &[],
        ),
        with(
            cmd("../../../../../../../usr/bin/rm", &[]),
            |cwd, _, _, _, _| *cwd = Some(tools.to_str().unwrap().into()),
        ),
        sh("rm -rf /nonexistent"),
        with(cmd("echo", &[]), |_, env, _, _, _| {
            env.push(("LD_PRELOAD".into(), "/tmp/evil.so".into()))
        }),
        with(cmd("echo", &[]), |cwd, _, _, _, _| {
            *cwd = Some("/root".into())
        }),
        with(cmd("ls", &[]), |cwd, _, _, _, _| {
            *cwd = Some(agent.dir.to_str().unwrap().into())
        }),
    ];
    for (i, op) in attempts.into_iter().enumerate() {
        let o = c.run(&format!("bad{i}"), op.clone());
        assert_eq!(o.refused(), ErrorCode::Policy, "{op:?}: {o:?}");
    }
    // Relative names go through PATH to the allowed real file.
    assert_eq!(
        c.run("path", cmd("echo", &["via PATH"])).stdout(),
        "via PATH\n"
    );
}

#[test]
fn cancel_kills_the_whole_process_group() {
    let agent = start_agent(&["/bin/sh"], unchanged);
    let mut c = agent.exec_client();
    // A child in the background and a grandchild: both must go.
    c.exec(
        "j",
        sh("sleep 300 & echo $!; sh -c 'sleep 301 & echo $!; wait' & wait"),
    );
    let mut pids = Vec::new();
    let mut text = String::new();
    assert!(matches!(c.next(), Some(Message::Started { .. })));
    while pids.len() < 2 {
        match c.next() {
            Some(Message::Output { data, .. }) => {
                text.push_str(&String::from_utf8_lossy(
                    &protocol::decode_bytes(&data).unwrap(),
                ));
                pids = text
                    .lines()
                    .filter_map(|l| l.trim().parse::<u32>().ok())
                    .collect();
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(pids.iter().all(|p| !process_gone(*p)));
    c.send(Message::Cancel { id: "j".into() });
    let o = c.collect("j");
    assert_eq!(o.exit, Some(ExitOutcome::Cancelled));
    for pid in pids {
        wait_until(&format!("pid {pid} to go"), || process_gone(pid));
    }
}

#[test]
fn timeouts_kill_and_say_which() {
    let agent = start_agent(&["/bin/sh"], |t| {
        t.replace("max_timeout = \"1h\"", "max_timeout = \"2s\"")
            .replace("default_timeout = \"10m\"", "default_timeout = \"1s\"")
    });
    let mut c = agent.exec_client();
    let op = with(cmd("sleep", &["30"]), |_, _, _, timeout, _| {
        *timeout = Some(300)
    });
    assert_eq!(
        c.run("t", op).exit,
        Some(ExitOutcome::TimedOut { after_ms: 300 })
    );
    let op = with(sh("echo start; sleep 30"), |_, _, _, _, idle| {
        *idle = Some(300)
    });
    let o = c.run("i", op);
    assert_eq!(o.stdout(), "start\n");
    assert_eq!(o.exit, Some(ExitOutcome::IdleTimedOut { after_ms: 300 }));
    // A longer request is cut to the policy's ceiling.
    let op = with(cmd("sleep", &["30"]), |_, _, _, timeout, _| {
        *timeout = Some(600_000)
    });
    assert_eq!(
        c.run("c", op).exit,
        Some(ExitOutcome::TimedOut { after_ms: 2000 })
    );
}

#[test]
fn output_over_the_cap_is_dropped_with_a_note() {
    let agent = start_agent(&[], |t| {
        t.replace("output_cap = \"8MiB\"", "output_cap = \"4KiB\"")
    });
    let mut c = agent.exec_client();
    let o = c.run("big", cmd("head", &["-c", "200000", "/dev/zero"]));
    assert_eq!(o.stdout.len(), 4096);
    let note = String::from_utf8_lossy(&o.stderr);
    assert!(note.contains("195904 bytes of output dropped"), "{note}");
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 0 }));
}

#[test]
fn busy_when_max_jobs_are_running() {
    let agent = start_agent(&[], |t| t.replace("max_jobs = 8", "max_jobs = 1"));
    let mut c = agent.exec_client();
    c.exec("a", cmd("sleep", &["30"]));
    assert!(matches!(c.next(), Some(Message::Started { .. })));
    assert_eq!(c.run("b", cmd("echo", &[])).refused(), ErrorCode::Busy);
    c.send(Message::Cancel { id: "a".into() });
    assert_eq!(c.collect("a").exit, Some(ExitOutcome::Cancelled));
    assert_eq!(c.run("b", cmd("echo", &["free"])).stdout(), "free\n");
}

#[test]
fn file_validation_checks_and_refuses_forbidden_paths() {
    let agent = start_agent(&[], unchanged);
    let mut c = agent.exec_client();
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("data.bin");
    std::fs::write(&f, vec![7u8; 300_000]).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &vec![7u8; 300_000]);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let op = |sha: &str, size: f64| Operation::FileValidation {
        path: f.to_str().unwrap().into(),
        exists: Some(true),
        readable: Some(true),
        size_gt_mb: Some(size),
        modified_within_s: Some(600),
        sha256: Some(sha.into()),
    };
    let o = c.run("good", op(&hex, 0.1));
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 0 }), "{o:?}");
    assert_eq!(o.checks.len(), 5);
    assert!(o.checks.iter().all(|c| c.ok));
    assert!(o.stdout().contains("ok   sha256:"), "{}", o.stdout());

    let o = c.run("bad", op(&"0".repeat(64), 1.0));
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 1 }));
    let failed: Vec<&str> = o
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| c.check.as_str())
        .collect();
    assert_eq!(failed, ["size_gt_mb", "sha256"]);
    assert!(
        o.stdout().contains("FAIL size_gt_mb: size 0.3 MB"),
        "{}",
        o.stdout()
    );

    let missing = Operation::FileValidation {
        path: tmp.path().join("nope").to_str().unwrap().into(),
        exists: None,
        readable: None,
        size_gt_mb: None,
        modified_within_s: None,
        sha256: None,
    };
    assert_eq!(
        c.run("missing", missing).exit,
        Some(ExitOutcome::Code { code: 1 })
    );

    for path in [
        "/etc/shadow".to_string(),
        agent.dir.join("key.pem").display().to_string(),
        "relative".into(),
    ] {
        let op = Operation::FileValidation {
            path: path.clone(),
            exists: Some(true),
            readable: None,
            size_gt_mb: None,
            modified_within_s: None,
            sha256: None,
        };
        assert_eq!(
            c.run("forbidden", op).refused(),
            ErrorCode::Policy,
            "{path}"
        );
    }
}

/// A one-thread HTTP server answering each request with `status` and `body`.
fn http_server(status: u16, body: &'static str, requests: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for _ in 0..requests {
            let Ok((mut s, _)) = listener.accept() else {
                return;
            };
            s.set_read_timeout(Some(WAIT)).unwrap();
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
        }
    });
    addr
}

#[test]
fn service_health_checks_status_body_and_json() {
    let agent = start_agent(&[], unchanged);
    let mut c = agent.exec_client();
    let up = http_server(200, r#"{"status":"ok","n":3}"#, 2);
    let health = |addr: SocketAddr, want: &str| Operation::ServiceHealth {
        url: format!("http://{addr}/health"),
        expect_status: Some(200),
        body_contains: Some("status".into()),
        json_field: Some(protocol::JsonFieldCheck {
            pointer: "/status".into(),
            equals: serde_json::json!(want),
        }),
        timeout_ms: Some(5000),
    };
    let o = c.run("up", health(up, "ok"));
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 0 }), "{o:?}");
    assert_eq!(o.checks.len(), 3);
    assert!(
        o.stdout().contains("ok   json_field: /status is \"ok\""),
        "{}",
        o.stdout()
    );
    let o = c.run("wrong", health(up, "degraded"));
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 1 }));

    let down = http_server(503, "{}", 1);
    let o = c.run("down", health(down, "ok"));
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 1 }));
    assert!(
        o.checks
            .iter()
            .any(|c| c.check == "status" && !c.ok && c.detail.contains("503"))
    );

    // Nothing listens there: the request itself fails, reported as a check.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let o = c.run("closed", health(closed, "ok"));
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 1 }));
    assert_eq!(o.checks[0].check, "request");

    let bad = Operation::ServiceHealth {
        url: "file:///etc/passwd".into(),
        expect_status: None,
        body_contains: None,
        json_field: None,
        timeout_ms: None,
    };
    assert_eq!(c.run("scheme", bad).refused(), ErrorCode::Malformed);
}

#[test]
fn hostile_frames_get_error_frames_and_nothing_breaks() {
    let agent = start_agent(&[], unchanged);
    let mut c = agent.exec_client();
    let cases = [
        ("not json".to_string(), ErrorCode::Malformed),
        (
            r#"{"v":1,"type":"launch"}"#.to_string(),
            ErrorCode::Malformed,
        ),
        (
            r#"{"v":9,"type":"ack","seq":1}"#.to_string(),
            ErrorCode::Version,
        ),
        (
            r#"{"v":1,"type":"exec","id":"x","op":{"op":"shell_command"}}"#.to_string(),
            ErrorCode::Malformed,
        ),
        (
            r#"{"v":1,"type":"exit","id":"x","code":0,"duration_ms":1}"#.to_string(),
            ErrorCode::Malformed,
        ),
        // Over the protocol's frame limit but under the transport's: refused, connection kept.
        (
            format!(
                r#"{{"v":1,"type":"cancel","id":"{}"}}"#,
                "x".repeat(protocol::MAX_FRAME_BYTES)
            ),
            ErrorCode::TooLarge,
        ),
    ];
    for (text, code) in cases {
        c.send_text(&text);
        match c.next() {
            Some(Message::Error { code: got, .. }) => {
                assert_eq!(got, code, "{}", &text[..text.len().min(80)])
            }
            other => panic!("{other:?}"),
        }
    }
    c.ws.send(WsMessage::Binary(vec![1, 2, 3].into())).unwrap();
    assert!(matches!(
        c.next(),
        Some(Message::Error {
            code: ErrorCode::Malformed,
            ..
        })
    ));
    assert_eq!(c.run("still", cmd("echo", &["alive"])).stdout(), "alive\n");

    // Far over every limit: this connection is closed (1009), the agent carries on.
    let huge = "y".repeat(8 * protocol::MAX_FRAME_BYTES);
    let _ = c.ws.send(WsMessage::Text(huge.into()));
    let mut closed = false;
    for _ in 0..10 {
        match c.next() {
            None => {
                closed = true;
                break;
            }
            Some(Message::Error { code, .. }) => assert_eq!(code, ErrorCode::TooLarge),
            Some(other) => panic!("{other:?}"),
        }
    }
    assert!(closed);
    let mut again = agent.exec_client();
    assert_eq!(again.run("after", cmd("echo", &["ok"])).stdout(), "ok\n");
}

#[test]
fn sigterm_cancels_running_jobs_and_reports_them() {
    let mut agent = start_agent(&[], unchanged);
    let mut c = agent.exec_client();
    c.exec("long", cmd("sleep", &["300"]));
    let Some(Message::Started { pid: Some(pid), .. }) = c.next() else {
        panic!("not started")
    };
    // SAFETY: signalling the agent process this test started.
    unsafe {
        libc::kill(agent.pid() as i32, libc::SIGTERM);
    }
    let o = c.collect("long");
    assert_eq!(o.exit, Some(ExitOutcome::Cancelled));
    assert!(c.next().is_none(), "connection closes after the report");
    let mut child = agent.child.take().unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "agent did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert!(process_gone(pid));
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(out.starts_with("listening on wss://127.0.0.1:"), "{out}");
}

#[test]
fn plaintext_only_on_loopback() {
    let agent = start_agent(&[], unchanged);
    let out = Command::new(BIN)
        .args([
            "agent",
            "run",
            "--insecure-plaintext",
            "--listen",
            "0.0.0.0:0",
            "--dir",
        ])
        .arg(&agent.dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn bad_policy_is_reported_with_its_place() {
    let agent = start_agent(&[], unchanged);
    let path = agent.dir.join("agent.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("max_jobs = 8", "max_jobs = 0");
    std::fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("max_jobs"))
        .unwrap()
        + 1;
    let out = Command::new(BIN)
        .args(["agent", "run", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&agent.dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "agent.toml:{line}:12: max_jobs must be between 1 and 1024"
        )),
        "{err}"
    );
}

/// Alerts until `n` heartbeats passed with nothing new (the backlog comes before them).
fn alerts_until_quiet(c: &mut Client, n: usize) -> Vec<u64> {
    let mut seqs = Vec::new();
    let mut beats = 0;
    while beats < n {
        match c.next_any(true).expect("connection closed") {
            Message::Heartbeat(_) => beats += 1,
            Message::Alert(a) => {
                seqs.push(a.seq);
                beats = 0;
            }
            other => panic!("{other:?}"),
        }
    }
    seqs
}

#[test]
fn alerts_are_delivered_once_across_reconnects_and_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let watcher = format!(
        "\n[[watchers]]\nname = \"app\"\nkind = \"log\"\npath = {:?}\npattern = \"ERROR\"\ninterval = \"100ms\"\nquiet = \"300ms\"\n",
        log.display().to_string()
    );
    let mut agent = start_agent(&[], |t| {
        t.replace("heartbeat = \"5s\"", "heartbeat = \"1s\"") + &watcher
    });
    let append = |line: &str| {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(f, "{line}").unwrap();
    };

    let mut c = agent.connect(Some(&agent.read_token)).unwrap();
    c.hello_as("c1");
    // Let the watcher find the file's end before writing to it.
    std::thread::sleep(Duration::from_millis(500));
    append("ERROR disk on fire");
    // Bad, then resolved on the next quiet check.
    let mut got = Vec::new();
    while got.len() < 2 {
        if let Some(Message::Alert(a)) = c.next() {
            assert!(a.summary.contains("match"), "{a:?}");
            got.push((a.seq, a.resolved));
        }
    }
    assert_eq!(got, [(1, false), (2, true)]);
    c.send(Message::Ack { seq: 1 });
    drop(c);

    // Reconnected: only what was not acknowledged.
    let mut c = agent.connect(Some(&agent.read_token)).unwrap();
    c.hello_as("c1");
    assert_eq!(alerts_until_quiet(&mut c, 2), [2]);
    c.send(Message::Ack { seq: 2 });
    c.send(Message::Ack { seq: 99 });
    assert!(
        matches!(c.next(), Some(Message::Error { .. })),
        "ack beyond the newest alert is refused"
    );
    drop(c);
    let mut c = agent.connect(Some(&agent.read_token)).unwrap();
    c.hello_as("c1");
    assert_eq!(alerts_until_quiet(&mut c, 2), Vec::<u64>::new());
    drop(c);

    // After a restart: the acknowledgements held, numbering goes on.
    // SAFETY: signalling the agent process this test started.
    unsafe {
        libc::kill(agent.pid() as i32, libc::SIGTERM);
    }
    let mut old = agent.child.take().unwrap();
    wait_until("the agent to stop", || old.try_wait().unwrap().is_some());
    agent.launch();
    let mut c = agent.connect(Some(&agent.read_token)).unwrap();
    c.hello_as("c1");
    std::thread::sleep(Duration::from_millis(500));
    append("ERROR again");
    let mut seqs = Vec::new();
    while seqs.len() < 2 {
        if let Some(Message::Alert(a)) = c.next() {
            seqs.push(a.seq);
        }
    }
    assert_eq!(seqs, [3, 4]);
    let hb = loop {
        if let Some(Message::Heartbeat(hb)) = c.next_any(true) {
            break hb;
        }
    };
    assert_eq!(hb.last_alert_seq, 4);

    // Another console has acknowledged nothing: it gets all of them, in order.
    let mut other = agent.connect(Some(&agent.read_token)).unwrap();
    other.hello_as("c2");
    assert_eq!(alerts_until_quiet(&mut other, 2), [1, 2, 3, 4]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
    /// Decoding never panics, and what it refuses gets an error frame that itself decodes.
    #[test]
    fn frame_decoding_never_panics(text in "\\PC{0,300}") {
        if let Err(e) = Frame::decode(&text) {
            let answer = Frame::from_decode_error(&e).encode();
            let is_error = matches!(Frame::decode(&answer).unwrap().msg, Message::Error { .. });
            proptest::prop_assert!(is_error, "{}", answer);
        }
    }
}

/// A small deterministic generator (xorshift) so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn a_stream_of_garbage_gets_one_error_each_and_the_agent_lives_on() {
    let agent = start_agent(&[], unchanged);
    let mut c = agent.exec_client();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let base = r#"{"v":1,"type":"cancel","id":"zz"}"#;
    let printable: Vec<char> = (' '..='~').collect();
    let mut inputs: Vec<String> = vec![
        "[".repeat(10_000),
        format!("{}1{}", "[".repeat(200), "]".repeat(200)),
        r#"{"v":1e999,"type":"ack","seq":1}"#.into(),
        r#"{"v":1,"type":"ack","seq":18446744073709551616}"#.into(),
        "\u{0}\u{1}\u{7f}".into(),
        r#"{"v":1,"type":"exec","id":"","op":{"op":"shell_command","command":"echo"}}"#.into(),
        format!(
            r#"{{"v":1,"type":"exec","id":"{}","op":{{"op":"shell_command","command":"echo"}}}}"#,
            "i".repeat(65)
        ),
    ];
    for _ in 0..150 {
        let mut chars: Vec<char> = base.chars().collect();
        match rng.below(3) {
            0 => {
                let at = rng.below(chars.len());
                chars[at] = printable[rng.below(printable.len())];
            }
            1 => chars.truncate(rng.below(chars.len())),
            _ => {
                let n = rng.below(60);
                chars = (0..n)
                    .map(|_| printable[rng.below(printable.len())])
                    .collect();
            }
        }
        inputs.push(chars.into_iter().collect());
    }
    for text in &inputs {
        c.send_text(text);
        match c.next() {
            Some(Message::Error { .. }) => {}
            other => panic!("{text:?} got {other:?}"),
        }
    }
    assert_eq!(
        c.run("after", cmd("echo", &["still here"])).stdout(),
        "still here\n"
    );
}

#[test]
fn large_output_arrives_whole_and_in_order() {
    // Far more than the socket and the write buffer hold: exercises back-pressure end to end.
    let agent = start_agent(&["/bin/sh"], |t| {
        t.replace("output_cap = \"8MiB\"", "output_cap = \"64MiB\"")
    });
    let mut c = agent.exec_client();
    let o = c.run(
        "big",
        sh("i=0; while [ $i -lt 4000 ]; do printf '%05d%0995d\\n' $i 0; i=$((i+1)); done"),
    );
    assert_eq!(o.exit, Some(ExitOutcome::Code { code: 0 }));
    assert_eq!(o.stdout.len(), 4000 * 1001);
    for (i, line) in o.stdout().lines().enumerate() {
        assert_eq!(&line[..5], format!("{i:05}"), "line {i}");
    }
    let o = c.run("zero", cmd("head", &["-c", "30000000", "/dev/zero"]));
    assert_eq!(o.stdout.len(), 30_000_000);
    assert!(o.stderr.is_empty());
}

#[test]
fn cancel_escalates_to_kill_when_term_is_ignored() {
    let agent = start_agent(&["/bin/sh"], |t| {
        t.replace("kill_grace = \"3s\"", "kill_grace = \"300ms\"")
    });
    let mut c = agent.exec_client();
    // SIG_IGN is inherited across exec: the shell and its sleep both ignore TERM.
    c.exec("stubborn", sh("trap '' TERM; sleep 300 & echo $!; wait"));
    assert!(matches!(c.next(), Some(Message::Started { .. })));
    let child = match c.next() {
        Some(Message::Output { data, .. }) => {
            String::from_utf8(protocol::decode_bytes(&data).unwrap())
                .unwrap()
                .trim()
                .parse::<u32>()
                .unwrap()
        }
        other => panic!("{other:?}"),
    };
    c.send(Message::Cancel {
        id: "stubborn".into(),
    });
    assert_eq!(c.collect("stubborn").exit, Some(ExitOutcome::Cancelled));
    wait_until("the TERM-proof child to be killed", || process_gone(child));
}
