//! `fleetdeck demo [--hosts N]`: a live fleet in one command. Makes a temporary home, starts N
//! real agents (this same binary, `agent init` + `agent run`) on 127.0.0.1 with TLS, random
//! ports and their own tokens and certificates, writes a hosts.toml that pins each agent's
//! fingerprint, adds the shipped example actions that suit them, and opens the console on it. When the console
//! exits (or on error, panic or a signal) every agent it started is stopped, by pid, and the
//! temporary home is removed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::demo_story;
use crate::cli::DemoArgs;
use crate::config::home::ensure_private_dir;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::protocol::cert_fingerprint;

/// How long an agent may take to start listening.
const READY_WAIT: Duration = Duration::from_secs(20);
/// Between SIGTERM and SIGKILL when stopping agents.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// Environments and roles handed out round-robin, so selectors have something to pick.
const ENVS: [&str; 3] = ["prod", "staging", "dev"];
const ROLES: [&str; 4] = ["web", "web", "db", "cache"];

/// The actions the demo home gets: the shipped examples (examples/actions/, the one source
/// of truth) that make sense on its agents, copied as they are. Left out: service-restart
/// (it would restart real units of this machine), db-row-count (needs hosts tagged
/// `postgres`) and kubectl-rollout-* (local hosts tagged `kubectl`): no demo host qualifies.
const ACTIONS: [(&str, &str); 6] = [
    (
        "disk-usage.toml",
        include_str!("../../examples/actions/disk-usage.toml"),
    ),
    (
        "file-validation.toml",
        include_str!("../../examples/actions/file-validation.toml"),
    ),
    (
        "http-health.toml",
        include_str!("../../examples/actions/http-health.toml"),
    ),
    (
        "log-tail-grep.toml",
        include_str!("../../examples/actions/log-tail-grep.toml"),
    ),
    (
        "package-version.toml",
        include_str!("../../examples/actions/package-version.toml"),
    ),
    (
        "service-status.toml",
        include_str!("../../examples/actions/service-status.toml"),
    ),
];

/// The agents started, shared with the signal watcher so either can stop them.
#[derive(Default)]
struct Started {
    pids: Vec<u32>,
    stopped: bool,
}

/// The temporary home and its agents; dropping it stops the agents and removes the folder.
struct Fleet {
    root: PathBuf,
    started: Arc<Mutex<Started>>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        cleanup(&self.root, &self.started);
    }
}

/// Stops every agent by pid (TERM, then KILL after a grace period; reaped either way) and
/// removes the temporary home. Runs once, whoever calls it first.
fn cleanup(root: &Path, started: &Mutex<Started>) {
    // Held throughout, so a second caller (signal vs. normal exit) waits until it is done.
    let mut s = started
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if s.stopped {
        return;
    }
    s.stopped = true;
    stop_pids(&s.pids);
    s.pids.clear();
    demo_story::stop_action_services(&agent_dirs(root));
    if let Err(e) = std::fs::remove_dir_all(root) {
        eprintln!("fleetdeck demo: could not remove {}: {e}", root.display());
    }
}

/// Each demo agent's name and folder.
fn agent_dirs(root: &Path) -> Vec<(String, PathBuf)> {
    std::fs::read_dir(root.join("agents"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()
        })
        .unwrap_or_default()
}

fn stop_pids(pids: &[u32]) {
    let pids: Vec<i32> = pids.iter().filter_map(|p| i32::try_from(*p).ok()).collect();
    for &pid in &pids {
        // SAFETY: kill(2) on agents this process started (its own children, not yet reaped,
        // so the pids cannot have been reused).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + STOP_GRACE;
    let mut left = pids;
    while !left.is_empty() {
        left.retain(|&pid| !reaped(pid));
        if left.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            for &pid in &left {
                // SAFETY: as above.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            for &pid in &left {
                // SAFETY: waiting for our own child; blocks only until the KILL lands.
                unsafe {
                    libc::waitpid(pid, std::ptr::null_mut(), 0);
                }
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Whether our child `pid` has exited (and is now reaped).
fn reaped(pid: i32) -> bool {
    // SAFETY: non-blocking wait for our own child.
    let r = unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
    r == pid || r == -1
}

/// One started agent.
struct Agent {
    name: String,
    dir: PathBuf,
    url: String,
    fingerprint: String,
    pid: u32,
}

pub fn run(args: &DemoArgs, verbose: u8) -> Result<ExitCode, Error> {
    use std::io::IsTerminal;
    // Say so before starting anything rather than after.
    if !args.print_home && !std::io::stdout().is_terminal() {
        return Err(Error::Invalid(
            "the demo opens the console, which needs a terminal, and stdout is not one; \
             `fleetdeck demo --print-home` starts the agents without it"
                .to_string(),
        ));
    }
    let exe = std::env::current_exe()
        .map_err(|e| Error::Invalid(format!("demo: cannot find this program's own path: {e}")))?;
    let root = std::env::temp_dir().join(format!(
        "fleetdeck-demo-{}-{}",
        std::process::id(),
        ulid::Ulid::new().to_string().to_lowercase()
    ));
    ensure_private_dir(&root)?;
    let fleet = Fleet {
        root: root.clone(),
        started: Arc::new(Mutex::new(Started::default())),
    };
    watch_signals(root.clone(), fleet.started.clone());

    let home = Home::under(&root.join("home"));
    let agents = start_agents(&exe, &root, args.hosts, &fleet.started)?;
    write_home(&home, &agents)?;
    let settings = Settings::load(&home.config_file()).map_err(|d| Error::Config(vec![d]))?;

    if args.print_home {
        print_and_wait(&home, &root, &agents)?;
        return Ok(ExitCode::SUCCESS);
    }
    let _log = super::start_logging(&home, verbose, &settings);
    let result = super::tui::run(&home, &settings, super::tui::ConsoleOptions::default());
    drop(fleet);
    result
}

/// Appends `text` to the file at `path` (the agent's own config, just written by init).
fn append(path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| Error::Invalid(format!("demo: cannot add to {}: {e}", path.display())))
}

/// Runs `agent init` for each host, then starts them all and waits for each to listen.
fn start_agents(
    exe: &Path,
    root: &Path,
    count: u32,
    started: &Arc<Mutex<Started>>,
) -> Result<Vec<Agent>, Error> {
    let width = if count >= 100 { 3 } else { 2 };
    let mut pending = Vec::new();
    for i in 1..=count {
        let name = format!("demo{i:0width$}");
        let dir = root.join("agents").join(&name);
        let out = Command::new(exe)
            .args(["agent", "init", "--dir"])
            .arg(&dir)
            .args(["--name", &name, "--allow", "/bin/sh"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Invalid(format!("demo: cannot run `agent init`: {e}")))?;
        if !out.status.success() {
            return Err(Error::Invalid(format!(
                "demo: `fleetdeck agent init` failed for {name}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        append(&dir.join("agent.toml"), &demo_story::watcher_toml(&name))?;
        // The service runs before its agent starts: its watcher's first look finds it (no
        // incident opened and resolved at once on a healthy host).
        if !demo_story::starts_stopped(usize::try_from(i - 1).unwrap_or(0), count as usize) {
            let pid = demo_story::start_service(&name, &dir)?;
            started
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .pids
                .push(pid);
        }
        let log = std::fs::File::create(dir.join("agent.log"))
            .map_err(|e| Error::Invalid(format!("demo: cannot create {}: {e}", dir.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::Invalid(format!("demo: agent log: {e}")))?;
        let ready = dir.join("ready");
        let mut cmd = Command::new(exe);
        cmd.args(["agent", "run", "--dir"])
            .arg(&dir)
            .args(["--listen", "127.0.0.1:0", "--ready-file"])
            .arg(&ready)
            .env(demo_story::ENV_HOST, &name)
            .env(demo_story::ENV_DIR, &dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        demo_story::die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| Error::Invalid(format!("demo: cannot start agent {name}: {e}")))?;
        let pid = child.id();
        started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pids
            .push(pid);
        // Reaped by `cleanup` through waitpid; dropping a std Child neither kills nor waits.
        drop(child);
        // For scripts and tests that want to see the agents go.
        write(&dir.join("agent.pid"), &format!("{pid}\n"))?;
        pending.push((name, dir, ready, pid));
    }
    let deadline = Instant::now() + READY_WAIT;
    let mut agents = Vec::new();
    for (name, dir, ready, pid) in pending {
        let url = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && let Some(url) = text.lines().next().filter(|l| !l.trim().is_empty())
            {
                break url.trim().to_string();
            }
            if reaped(i32::try_from(pid).unwrap_or(-1)) {
                return Err(Error::Invalid(format!(
                    "demo: agent {name} exited at start: {}",
                    last_lines(&dir.join("agent.log"))
                )));
            }
            if Instant::now() >= deadline {
                return Err(Error::Invalid(format!(
                    "demo: agent {name} did not start listening within {} s: {}",
                    READY_WAIT.as_secs(),
                    last_lines(&dir.join("agent.log"))
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let fingerprint = pem_fingerprint(&dir.join("cert.pem"))?;
        agents.push(Agent {
            name,
            dir,
            url,
            fingerprint,
            pid,
        });
    }
    Ok(agents)
}

fn last_lines(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    let shown: Vec<&str> = lines.into_iter().rev().collect();
    if shown.is_empty() {
        "(no output)".to_string()
    } else {
        shown.join(" | ")
    }
}

/// The pin of the certificate in a PEM file (the first certificate in it).
fn pem_fingerprint(path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Invalid(format!("demo: cannot read {}: {e}", path.display())))?;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = crate::protocol::decode_bytes(body.trim()).map_err(|e| {
        Error::Invalid(format!(
            "demo: {} holds no readable certificate: {e}",
            path.display()
        ))
    })?;
    if der.is_empty() {
        return Err(Error::Invalid(format!(
            "demo: {} holds no certificate",
            path.display()
        )));
    }
    Ok(cert_fingerprint(&der))
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// hosts.toml with each agent's url, token and pin; and the sample actions.
fn write_home(home: &Home, agents: &[Agent]) -> Result<(), Error> {
    home.ensure_writable_dirs()?;
    ensure_private_dir(&home.config_dir)?;
    let mut hosts = String::from(
        "# Generated by `fleetdeck demo`: local agents on 127.0.0.1, TLS with pinned \
         certificates.\n# Try selectors like env:prod, tag:web, demo[01-04], @edge.\n",
    );
    for (i, agent) in agents.iter().enumerate() {
        let env = ENVS[i % ENVS.len()];
        let role = ROLES[i % ROLES.len()];
        let zone = if i % 2 == 0 { "zone-a" } else { "zone-b" };
        let groups = if role == "web" {
            "[\"edge\"]"
        } else {
            "[\"core\"]"
        };
        let _ = write!(
            hosts,
            "\n[[hosts]]\nname = {}\ntransport = \"agent\"\nenv = {}\ntags = [{}, {}]\n\
             groups = {groups}\nagent = {{ url = {}, token_file = {}, fingerprint = {} }}\n",
            toml_str(&agent.name),
            toml_str(env),
            toml_str(role),
            toml_str(zone),
            toml_str(&agent.url),
            toml_str(&agent.dir.join("exec.token").to_string_lossy()),
            toml_str(&agent.fingerprint),
        );
    }
    write(&home.hosts_file(), &hosts)?;
    write_actions(home)
}

/// The sample actions, under actions/.
fn write_actions(home: &Home) -> Result<(), Error> {
    let actions = home.actions_dir();
    ensure_private_dir(&actions)?;
    for (file, text) in ACTIONS.iter().chain([&demo_story::ACTION]) {
        write(&actions.join(file), text)?;
    }
    write(&home.runbooks_file(), demo_story::RUNBOOKS)
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    crate::config::home::write_private_file(path, text.as_bytes())
}

/// `--print-home`: say where everything is, then keep the agents up until stdin closes or a
/// signal comes (for scripts and tests).
fn print_and_wait(home: &Home, root: &Path, agents: &[Agent]) -> Result<(), Error> {
    use std::io::{Read, Write};
    let mut out = String::new();
    let _ = writeln!(
        out,
        "home {}",
        home.root.as_deref().unwrap_or(root).display()
    );
    for a in agents {
        let _ = writeln!(out, "agent {} pid {} url {}", a.name, a.pid, a.url);
    }
    out.push_str("ready\n");
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Invalid(format!("demo: cannot write to stdout: {e}")))?;
    drop(stdout);
    // Signals are handled by `watch_signals`; here only stdin's end is waited for.
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

/// SIGTERM, SIGINT and SIGHUP stop the agents and remove the home before the process ends
/// (the console also quits on SIGTERM by itself; whichever comes first cleans up once).
fn watch_signals(root: PathBuf, started: Arc<Mutex<Started>>) {
    let spawned = std::thread::Builder::new()
        .name("demo-signals".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::hangup()),
                ) else {
                    return;
                };
                let code = tokio::select! {
                    _ = term.recv() => 128 + libc::SIGTERM,
                    _ = int.recv() => 128 + libc::SIGINT,
                    _ = hup.recv() => 128 + libc::SIGHUP,
                };
                // The console may be mid-quit after SIGTERM: give it a moment to restore
                // the terminal itself.
                tokio::time::sleep(Duration::from_millis(300)).await;
                cleanup(&root, &started);
                ratatui::restore();
                std::process::exit(code);
            });
        });
    if let Err(e) = spawned {
        tracing::warn!("demo: signals will not clean up: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_fingerprint_matches_the_der() {
        let dir = tempfile::tempdir().unwrap();
        let der = b"\x30\x03\x02\x01\x01".to_vec();
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            crate::protocol::encode_bytes(&der)
        );
        std::fs::write(dir.path().join("c.pem"), pem).unwrap();
        assert_eq!(
            pem_fingerprint(&dir.path().join("c.pem")).unwrap(),
            cert_fingerprint(&der)
        );
        std::fs::write(dir.path().join("bad.pem"), "nothing").unwrap();
        assert!(pem_fingerprint(&dir.path().join("bad.pem")).is_err());
    }

    #[test]
    fn every_demo_action_loads_without_problems() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::under(dir.path());
        write_actions(&home).unwrap();
        let catalog = match crate::action::Catalog::load(&home) {
            Ok(catalog) => catalog,
            Err(problems) => panic!("the demo's actions have problems: {problems:?}"),
        };
        let mut files: Vec<String> = ACTIONS
            .iter()
            .chain([&demo_story::ACTION])
            .map(|(f, _)| f.trim_end_matches(".toml").to_string())
            .collect();
        files.sort();
        let names: Vec<String> = catalog.names().map(str::to_string).collect();
        assert_eq!(names, files);
    }
}
