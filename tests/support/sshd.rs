//! A private OpenSSH server on 127.0.0.1 that plays a whole fleet.
//!
//! One `sshd` (its own host key, config, pid and log, all in a temp dir) serves every "host".
//! Aliases `h001..hNNN` in a generated `ssh_config` point at it with `HostKeyAlias hNNN`, so each
//! alias has its own `known_hosts` entry and behaves like a distinct host to a client.
//! See SSH-NOTES.md, "A loopback OpenSSH fleet for tests and benchmarks".
//!
//! ```ignore
//! mod support;
//! use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};
//!
//! #[test]
//! fn runs_everywhere() {
//!     if !sshd_or_skip("runs_everywhere") {
//!         return;
//!     }
//!     let fleet = SshdFleet::start(FleetOptions { hosts: 20, ..Default::default() }).unwrap();
//!     // fleet.ssh_config_path(), fleet.known_hosts_path(), fleet.write_hosts_toml(..) ...
//! }
//! ```

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{free_port, stop_child};
use tempfile::TempDir;

/// The OpenSSH server binary the harness runs (sshd must be started by absolute path).
pub const SSHD_PATH: &str = "/usr/sbin/sshd";
/// Passphrase of [`SshdFleet::encrypted_user_key_path`].
pub const ENCRYPTED_KEY_PASSPHRASE: &str = "fleetdeck-test";
/// `MaxStartups` used when [`FleetOptions::max_startups`] is `None`: high enough for fan-out.
pub const RAISED_MAX_STARTUPS: &str = "1000:30:2000";
/// OpenSSH's own `MaxStartups` default, for the test that proves throttling is handled.
pub const DEFAULT_MAX_STARTUPS: &str = "10:30:100";

const READY_TIMEOUT: Duration = Duration::from_secs(10);
const PORT_ATTEMPTS: usize = 5;

/// What kind of fleet to start. `Default` gives 3 hosts, OpenSSH's default `MaxSessions` (10),
/// a raised `MaxStartups`, the default key exchange and no extra config.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Number of aliases, named `h001..hNNN` (zero-padded to at least 3 digits).
    pub hosts: usize,
    /// `MaxSessions` (channels per connection). `None`: OpenSSH's default, 10.
    pub max_sessions: Option<u32>,
    /// `MaxStartups` (unauthenticated connections). `None`: [`RAISED_MAX_STARTUPS`];
    /// `Some(DEFAULT_MAX_STARTUPS.into())` for OpenSSH's default throttling.
    pub max_startups: Option<String>,
    /// `KexAlgorithms` of the server, e.g. `"curve25519-sha256"` (much cheaper than 9.x's
    /// default post-quantum kex). `None`: OpenSSH's default list.
    pub kex: Option<String>,
    /// Extra `sshd_config` lines. They are written BEFORE the harness's settings, so they win
    /// (sshd keeps the first value it reads for most keywords). From the first line starting
    /// with `Match` on, they are written at the end of the file instead, as sshd requires.
    pub extra_config: Vec<String>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            hosts: 3,
            max_sessions: None,
            max_startups: None,
            kex: None,
            extra_config: Vec::new(),
        }
    }
}

/// A running private sshd plus everything a client needs to reach it. Dropping it stops the
/// sshd (SIGTERM to its pid, then SIGKILL after a grace period) and deletes the temp dir.
#[derive(Debug)]
pub struct SshdFleet {
    child: Option<Child>,
    pid: u32,
    port: u16,
    user: String,
    aliases: Vec<String>,
    host_public_key: String,
    sshd_config: PathBuf,
    ssh_config: PathBuf,
    known_hosts: PathBuf,
    user_key: PathBuf,
    encrypted_user_key: PathBuf,
    rsa_user_key: PathBuf,
    log: PathBuf,
    stderr_log: PathBuf,
    // Declared last: removed only after the sshd using it has been stopped (Drop runs first).
    dir: TempDir,
}

impl SshdFleet {
    /// Generates keys and configs in a fresh temp dir, starts sshd on a free loopback port and
    /// waits (at most 10 s) until it answers with an SSH banner.
    pub fn start(opts: FleetOptions) -> io::Result<SshdFleet> {
        if !sshd_available() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{SSHD_PATH} not found: install openssh-server"),
            ));
        }
        ensure_privsep_dir();

        let dir = tempfile::Builder::new()
            .prefix("fleetdeck-sshd-")
            .tempdir()?;
        let d = dir.path();
        let host_key = d.join("ssh_host_ed25519_key");
        let user_key = d.join("id_ed25519");
        let encrypted_user_key = d.join("id_ed25519_encrypted");
        let rsa_user_key = d.join("id_rsa");

        // ssh-keygen runs in parallel: RSA generation dominates start-up time otherwise.
        // Every spawned ssh-keygen is waited for (no zombies), then the first error reported.
        let keygens = [
            spawn_keygen(&host_key, "ed25519", ""),
            spawn_keygen(&user_key, "ed25519", ""),
            spawn_keygen(&encrypted_user_key, "ed25519", ENCRYPTED_KEY_PASSPHRASE),
            spawn_keygen(&rsa_user_key, "rsa", ""),
        ];
        let results: Vec<io::Result<()>> = keygens
            .into_iter()
            .map(|k| k.and_then(finish_keygen))
            .collect();
        results.into_iter().collect::<io::Result<()>>()?;

        let host_public_key = public_key_text(&host_key)?;
        let mut authorized = String::new();
        for key in [&user_key, &encrypted_user_key, &rsa_user_key] {
            authorized.push_str(&public_key_text(key)?);
            authorized.push('\n');
        }
        let authorized_keys = d.join("authorized_keys");
        fs::write(&authorized_keys, authorized)?;

        let user = current_user()?;
        let width = opts.hosts.to_string().len().max(3);
        let aliases: Vec<String> = (1..=opts.hosts).map(|i| format!("h{i:0width$}")).collect();

        let sshd_config = d.join("sshd_config");
        let log = d.join("sshd.log");
        let stderr_log = d.join("sshd.stderr");
        let pid_file = d.join("sshd.pid");
        let penalties = supports_per_source_penalties();

        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            let config = render_sshd_config(&SshdConfigParams {
                opts: &opts,
                port,
                host_key: &host_key,
                pid_file: &pid_file,
                authorized_keys: &authorized_keys,
                disable_penalties: penalties,
            });
            fs::write(&sshd_config, config)?;
            // A fresh log per attempt, so readiness checks never see an earlier attempt's lines.
            fs::write(&log, "")?;
            let stderr_file = fs::File::create(&stderr_log)?;

            let mut child = Command::new(SSHD_PATH)
                .arg("-D")
                .arg("-f")
                .arg(&sshd_config)
                .arg("-E")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(stderr_file.try_clone()?)
                .stderr(stderr_file)
                .spawn()?;

            match wait_ready(&mut child, port, &log, &stderr_log) {
                Ok(()) => {
                    let pid = child.id();
                    let mut fleet = SshdFleet {
                        child: Some(child),
                        pid,
                        port,
                        user,
                        aliases,
                        host_public_key,
                        sshd_config,
                        ssh_config: d.join("ssh_config"),
                        known_hosts: d.join("known_hosts"),
                        user_key,
                        encrypted_user_key,
                        rsa_user_key,
                        log,
                        stderr_log,
                        dir,
                    };
                    // On error here, dropping `fleet` stops the sshd.
                    fleet.write_client_files()?;
                    return Ok(fleet);
                }
                Err(Startup::PortTaken(msg)) => {
                    stop_child(&mut child);
                    last_error = Some(msg);
                }
                Err(Startup::Failed(msg)) => {
                    stop_child(&mut child);
                    return Err(io::Error::other(msg));
                }
            }
        }
        Err(io::Error::other(format!(
            "sshd: no free port after {PORT_ATTEMPTS} attempts; last: {}",
            last_error.unwrap_or_default()
        )))
    }

    fn write_client_files(&mut self) -> io::Result<()> {
        let key = self
            .host_public_key
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let mut known = String::new();
        for alias in &self.aliases {
            let _ = writeln!(known, "{alias} {key}");
        }
        let _ = writeln!(known, "[127.0.0.1]:{} {key}", self.port);
        fs::write(&self.known_hosts, known)?;

        let mut cfg = String::from("# Generated by the fleetdeck sshd test harness.\n");
        for alias in &self.aliases {
            let _ = write!(
                cfg,
                "\nHost {alias}\n\
                 \x20   HostName 127.0.0.1\n\
                 \x20   Port {port}\n\
                 \x20   User {user}\n\
                 \x20   HostKeyAlias {alias}\n\
                 \x20   IdentityFile {key}\n\
                 \x20   IdentitiesOnly yes\n\
                 \x20   UserKnownHostsFile {known}\n\
                 \x20   StrictHostKeyChecking yes\n\
                 \x20   BatchMode yes\n\
                 \x20   ConnectTimeout 5\n",
                port = self.port,
                user = self.user,
                key = cfg_path(&self.user_key),
                known = cfg_path(&self.known_hosts),
            );
        }
        // Keep the system's known hosts and host-key rotation out of the tests.
        cfg.push_str("\nHost *\n    GlobalKnownHostsFile /dev/null\n    UpdateHostKeys no\n");
        fs::write(&self.ssh_config, cfg)
    }

    /// The loopback port sshd listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// The temp dir holding keys, configs and logs (deleted on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Client config: one `Host hNNN` block per alias (HostName, Port, User, HostKeyAlias,
    /// IdentityFile, UserKnownHostsFile, StrictHostKeyChecking yes, BatchMode yes).
    pub fn ssh_config_path(&self) -> &Path {
        &self.ssh_config
    }

    /// One `hNNN ssh-ed25519 …` line per alias plus a `[127.0.0.1]:PORT ssh-ed25519 …` line.
    pub fn known_hosts_path(&self) -> &Path {
        &self.known_hosts
    }

    /// Unencrypted ed25519 user key (the one the ssh_config uses); `.pub` next to it.
    pub fn user_key_path(&self) -> &Path {
        &self.user_key
    }

    /// ed25519 user key encrypted with [`ENCRYPTED_KEY_PASSPHRASE`]; authorized too.
    pub fn encrypted_user_key_path(&self) -> &Path {
        &self.encrypted_user_key
    }

    /// Unencrypted RSA user key; authorized too.
    pub fn rsa_user_key_path(&self) -> &Path {
        &self.rsa_user_key
    }

    /// The server's host key as `ssh-ed25519 AAAA…` (no comment).
    pub fn host_public_key(&self) -> &str {
        &self.host_public_key
    }

    /// `h001..hNNN`.
    pub fn aliases(&self) -> Vec<String> {
        self.aliases.clone()
    }

    /// The login user (the user running the tests).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Pid of the sshd listener process (the harness's own child).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// sshd's log (`-E`, LogLevel VERBOSE).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The generated `sshd_config`.
    pub fn sshd_config_path(&self) -> &Path {
        &self.sshd_config
    }

    /// The last `lines` lines of sshd's log and stderr, for assertion messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, &self.stderr_log, lines)
    }

    /// The system client aimed at `alias`: `ssh -F ssh_config alias` with stdin from /dev/null
    /// (override with `.stdin(..)`). Append `--` and the remote command.
    pub fn ssh_command(&self, alias: &str) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.arg("-F")
            .arg(&self.ssh_config)
            .arg(alias)
            .stdin(Stdio::null());
        cmd
    }

    /// Writes a minimal fleetdeck hosts.toml: one `[[hosts]]` entry per alias with
    /// `name = "hNNN"` and `tags = ["test"]` (addresses come from the ssh_config).
    pub fn write_hosts_toml(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let mut out = String::from("# Generated by the fleetdeck sshd test harness.\n");
        for alias in &self.aliases {
            let _ = write!(out, "\n[[hosts]]\nname = \"{alias}\"\ntags = [\"test\"]\n");
        }
        fs::write(path, out)
    }
}

impl Drop for SshdFleet {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child);
        }
    }
}

/// True when the OpenSSH server binary is installed.
pub fn sshd_available() -> bool {
    Path::new(SSHD_PATH).is_file()
}

/// Call first in every sshd test: `if !sshd_or_skip("name") { return; }`. Without sshd it
/// prints a skip note and returns false, except under CI (`CI` set), where it panics: a
/// missing sshd in CI must fail loudly, not pass silently.
pub fn sshd_or_skip(test: &str) -> bool {
    super::installed_or_skip(test, SSHD_PATH, "openssh-server")
}

/// Generates a key pair at `path` (+ `.pub`) with `ssh-keygen -q -t KIND -N PASSPHRASE`.
pub fn ssh_keygen(path: &Path, kind: &str, passphrase: &str) -> io::Result<()> {
    finish_keygen(spawn_keygen(path, kind, passphrase)?)
}

/// Runs `cmd` with stdout and stderr captured, killing it and failing with `TimedOut` if it has
/// not finished within `timeout`. Stdin is whatever `cmd` says (null via `ssh_command`).
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> io::Result<Output> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let out = reader_thread(child.stdout.take());
    let err = reader_thread(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{cmd:?} did not finish within {timeout:?}"),
            ));
        }
        thread::sleep(Duration::from_millis(10));
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn reader_thread(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

enum Startup {
    /// Another process took the port between our probe and sshd's bind: retry on a new port.
    PortTaken(String),
    Failed(String),
}

struct SshdConfigParams<'a> {
    opts: &'a FleetOptions,
    port: u16,
    host_key: &'a Path,
    pid_file: &'a Path,
    authorized_keys: &'a Path,
    disable_penalties: bool,
}

fn render_sshd_config(p: &SshdConfigParams<'_>) -> String {
    let opts = p.opts;
    let match_at = opts
        .extra_config
        .iter()
        .position(|l| {
            l.trim_start()
                .get(..5)
                .is_some_and(|k| k.eq_ignore_ascii_case("match"))
        })
        .unwrap_or(opts.extra_config.len());
    let (extra, matches) = opts.extra_config.split_at(match_at);

    let mut c = String::from("# Generated by the fleetdeck sshd test harness.\n");
    if !extra.is_empty() {
        c.push_str("# extra_config (first value wins in sshd_config)\n");
        for line in extra {
            let _ = writeln!(c, "{line}");
        }
    }
    let _ = writeln!(c, "Port {}", p.port);
    c.push_str("ListenAddress 127.0.0.1\n");
    let _ = writeln!(c, "HostKey {}", cfg_path(p.host_key));
    let _ = writeln!(c, "PidFile {}", cfg_path(p.pid_file));
    let _ = writeln!(c, "AuthorizedKeysFile {}", cfg_path(p.authorized_keys));
    c.push_str(
        "PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PubkeyAuthentication yes\n\
         StrictModes no\n\
         UsePAM no\n\
         UseDNS no\n\
         PermitRootLogin yes\n\
         PrintMotd no\n\
         X11Forwarding no\n\
         SetEnv SHLVL=1\n",
    );
    if let Some(n) = opts.max_sessions {
        let _ = writeln!(c, "MaxSessions {n}");
    }
    let startups = opts.max_startups.as_deref().unwrap_or(RAISED_MAX_STARTUPS);
    let _ = writeln!(c, "MaxStartups {startups}");
    if let Some(kex) = &opts.kex {
        let _ = writeln!(c, "KexAlgorithms {kex}");
    }
    if p.disable_penalties {
        // OpenSSH >= 9.8 would otherwise block 127.0.0.1 after failed auths or crashes,
        // breaking every later test that shares this sshd.
        c.push_str("PerSourcePenalties no\n");
    }
    c.push_str("LogLevel VERBOSE\nSubsystem sftp internal-sftp\n");
    for line in matches {
        let _ = writeln!(c, "{line}");
    }
    c
}

/// Polls until our sshd logs that it listens on `port` and a TCP connect gets an `SSH-2.0-`
/// banner. The log line proves the banner comes from our sshd, not from whoever else might have
/// grabbed the port.
fn wait_ready(child: &mut Child, port: u16, log: &Path, stderr_log: &Path) -> Result<(), Startup> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let listening = format!("Server listening on 127.0.0.1 port {port}");
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let text = fs::read_to_string(log).unwrap_or_default()
                    + &fs::read_to_string(stderr_log).unwrap_or_default();
                let msg = startup_error(&format!("sshd exited with {status}"), log, stderr_log);
                return Err(if text.contains("Address already in use") {
                    Startup::PortTaken(msg)
                } else {
                    Startup::Failed(msg)
                });
            }
            Ok(None) => {}
            Err(e) => return Err(Startup::Failed(format!("waiting for sshd: {e}"))),
        }
        let logged = fs::read_to_string(log).is_ok_and(|t| t.contains(&listening));
        if logged && banner_ok(port) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Startup::Failed(startup_error(
                &format!(
                    "sshd did not accept connections on 127.0.0.1:{port} within {READY_TIMEOUT:?}"
                ),
                log,
                stderr_log,
            )));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn banner_ok(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    if stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .is_err()
    {
        return false;
    }
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while buf.len() < 8 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    buf.starts_with(b"SSH-2.0-")
}

fn startup_error(what: &str, log: &Path, stderr_log: &Path) -> String {
    format!(
        "{what}\n--- sshd log tail ({}) ---\n{}",
        log.display(),
        log_tail(log, stderr_log, 30)
    )
}

fn log_tail(log: &Path, stderr_log: &Path, lines: usize) -> String {
    let mut out = String::new();
    for path in [log, stderr_log] {
        let text = fs::read_to_string(path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        for line in &all[all.len().saturating_sub(lines)..] {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn ensure_privsep_dir() {
    // sshd running as root chroots its pre-auth child into /run/sshd. As non-root sshd does
    // not need it (and we could not create it), so errors are ignored here; sshd's own message
    // ends up in the startup error if it matters.
    let dir = Path::new("/run/sshd");
    if !dir.is_dir() && fs::create_dir_all(dir).is_ok() {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o755));
    }
}

fn spawn_keygen(path: &Path, kind: &str, passphrase: &str) -> io::Result<(Child, PathBuf)> {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", "fleetdeck-test"]);
    if kind == "rsa" {
        // 2048 bits: ~0.15 s to generate here, against ~1 s for the 3072-bit default.
        cmd.args(["-b", "2048"]);
    }
    let child = cmd
        .arg("-f")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("spawning ssh-keygen: {e}")))?;
    Ok((child, path.to_path_buf()))
}

fn finish_keygen((child, path): (Child, PathBuf)) -> io::Result<()> {
    let out = child.wait_with_output()?;
    check_status(
        out.status,
        &out.stderr,
        &format!("ssh-keygen {}", path.display()),
    )
}

fn check_status(status: ExitStatus, stderr: &[u8], what: &str) -> io::Result<()> {
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{what} failed ({status}): {}",
            String::from_utf8_lossy(stderr).trim()
        )))
    }
}

/// `TYPE BASE64` of a key's `.pub` file, without the comment.
fn public_key_text(private: &Path) -> io::Result<String> {
    let mut pub_path = private.as_os_str().to_owned();
    pub_path.push(".pub");
    let text = fs::read_to_string(&pub_path)?;
    Ok(text
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" "))
}

fn current_user() -> io::Result<String> {
    // $USER is often unset in containers and CI; `id -un` is authoritative.
    if let Ok(out) = Command::new("id").arg("-un").stderr(Stdio::null()).output() {
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !name.is_empty() {
            return Ok(name);
        }
    }
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .ok_or_else(|| io::Error::other("cannot determine the current user name"))
}

/// Whether this sshd knows `PerSourcePenalties` (OpenSSH 9.8+), from `sshd -V`.
fn supports_per_source_penalties() -> bool {
    let Ok(out) = Command::new(SSHD_PATH)
        .arg("-V")
        .stdin(Stdio::null())
        .output()
    else {
        return false;
    };
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    openssh_version(&text).is_some_and(|v| v >= (9, 8))
}

fn openssh_version(text: &str) -> Option<(u32, u32)> {
    let rest = &text[text.find("OpenSSH_")? + "OpenSSH_".len()..];
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// A path as a config value, quoted if it contains whitespace.
fn cfg_path(path: &Path) -> String {
    let s = path.display().to_string();
    if s.chars().any(char::is_whitespace) {
        format!("\"{s}\"")
    } else {
        s
    }
}
