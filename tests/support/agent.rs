//! Real `fleetdeck agent` processes for tests and measurements: `agent init` in a folder,
//! `agent run` on a random loopback port (TLS, certificate pinned by fingerprint), stopped by
//! pid when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fleetdeck::inventory::{AgentEndpoint, Host, TransportKind};

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");
/// Upper bound for an agent to start or stop (never asserted as a duration).
const PATIENCE: Duration = Duration::from_secs(30);

/// One agent: its folder (from `agent init`), its process and where it listens.
pub struct Agent {
    pub dir: PathBuf,
    pub child: Option<Child>,
    pub url: String,
}

impl Agent {
    /// `agent init` in `dir` (allowing /bin/sh, heartbeat 1s, optional extra agent.toml
    /// text such as watchers), then `agent run` on a random port.
    pub fn start(dir: &Path, name: &str, extra_toml: &str) -> Agent {
        let out = Command::new(BIN)
            .args(["agent", "init", "--dir"])
            .arg(dir)
            .args(["--name", name, "--allow", "/bin/sh"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "agent init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let toml_path = dir.join("agent.toml");
        let toml = std::fs::read_to_string(&toml_path).unwrap();
        let toml = toml.replacen("heartbeat = \"5s\"", "heartbeat = \"1s\"", 1);
        std::fs::write(&toml_path, format!("{toml}\n{extra_toml}")).unwrap();
        let mut agent = Agent {
            dir: dir.to_path_buf(),
            child: None,
            url: String::new(),
        };
        agent.run("127.0.0.1:0");
        agent
    }

    /// (Re)starts `agent run` listening on `listen`; waits for its ready file.
    pub fn run(&mut self, listen: &str) {
        self.run_with(listen, &[]);
    }

    pub fn run_with(&mut self, listen: &str, extra: &[&str]) {
        let ready = self.dir.join("ready");
        let _ = std::fs::remove_file(&ready);
        let log = std::fs::File::create(self.dir.join("agent.log")).unwrap();
        let child = Command::new(BIN)
            .args(["agent", "run", "--dir"])
            .arg(&self.dir)
            .args(["--listen", listen, "--ready-file"])
            .arg(&ready)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let start = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && !text.trim().is_empty()
            {
                self.url = text.trim().to_string();
                return;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "agent did not start: {}",
                std::fs::read_to_string(self.dir.join("agent.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.dir.join("cert.pem"))
    }

    pub fn token(&self) -> PathBuf {
        self.dir.join("exec.token")
    }

    /// A hosts.toml `[[hosts]]` entry named `name` for this agent (exec token, pinned).
    pub fn hosts_entry(&self, name: &str) -> String {
        format!(
            "[[hosts]]\nname = \"{name}\"\ntransport = \"agent\"\nagent = {{ url = \"{}\", fingerprint = \"{}\", token_file = \"{}\" }}\n\n",
            self.url,
            self.fingerprint(),
            self.token().display()
        )
    }

    /// A host entry for this agent with the given token file and pin.
    pub fn host(&self, name: &str) -> Host {
        host_for(name, &self.url, &self.token(), Some(self.fingerprint()))
    }

    /// SIGKILL, like a crash or a pulled plug; reaped.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (graceful shutdown), reaped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child process.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
            let start = Instant::now();
            while start.elapsed() < PATIENCE {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn fingerprint_of(pem: &Path) -> String {
    let text = std::fs::read_to_string(pem).unwrap();
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    fleetdeck::protocol::cert_fingerprint(&der)
}

pub fn host_for(name: &str, url: &str, token: &Path, fingerprint: Option<String>) -> Host {
    let mut h = Host::ad_hoc(name);
    h.transport = TransportKind::Agent;
    h.in_inventory = true;
    h.agent = Some(AgentEndpoint {
        url: url.to_string(),
        token_file: Some(token.display().to_string()),
        read_token_file: None,
        fingerprint,
    });
    h
}
