//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on 127.0.0.1, on a free
//! port, with clustering off, its storage in a temporary folder and a config whose one
//! receiver sends nothing. Dropping it stops Alertmanager by its pid.
//!
//! ```ignore
//! mod support;
//! use support::alertmanager::{Alertmanager, alertmanager_or_skip};
//!
//! #[test]
//! fn polls() {
//!     if !alertmanager_or_skip("polls") {
//!         return;
//!     }
//!     let am = Alertmanager::start().unwrap();
//!     // am.url() is "http://127.0.0.1:PORT"
//! }
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::ready::{on_a_free_port, when_ready};
use super::stop_child;
use tempfile::TempDir;

/// Debian's package installs Alertmanager here.
pub const ALERTMANAGER_PATH: &str = "/usr/bin/prometheus-alertmanager";

/// How long a started Alertmanager may take to answer /-/ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// One route to one receiver without any integration: alerts are kept, nothing is sent.
const CONFIG: &str = "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n";

/// A running Alertmanager.
#[derive(Debug)]
pub struct Alertmanager {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    // Declared last: removed only after the Alertmanager writing into it has been stopped.
    dir: TempDir,
}

impl Alertmanager {
    /// Starts Alertmanager on a free loopback port and waits (at most 20 s) until /-/ready
    /// answers 200.
    pub fn start() -> io::Result<Alertmanager> {
        Self::start_with(CONFIG)
    }

    /// As [`Alertmanager::start`], with `config` as alertmanager.yml (routes, receivers).
    pub fn start_with(config_text: &str) -> io::Result<Alertmanager> {
        if !Path::new(ALERTMANAGER_PATH).is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{ALERTMANAGER_PATH} not found: install prometheus-alertmanager"),
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("fleetdeck-alertmanager-")
            .tempdir()?;
        let config = dir.path().join("alertmanager.yml");
        fs::write(&config, config_text)?;
        let storage = dir.path().join("data");
        fs::create_dir_all(&storage)?;
        let log = dir.path().join("alertmanager.log");
        let (port, child) = on_a_free_port(|port| spawn_ready(port, &config, &storage, &log))?;
        Ok(Alertmanager {
            child: Some(child),
            port,
            log,
            dir,
        })
    }

    /// `http://127.0.0.1:PORT` (the base URL `[alertmanager] url` takes).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Alertmanager's own log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child);
        }
    }
}

/// Call first in every Alertmanager test: `if !alertmanager_or_skip("name") { return; }`.
/// Without it: a skip note and false, except under CI (`CI` set), where it panics.
pub fn alertmanager_or_skip(test: &str) -> bool {
    super::installed_or_skip(test, ALERTMANAGER_PATH, "prometheus-alertmanager")
}

fn spawn_ready(port: u16, config: &Path, storage: &Path, log: &Path) -> io::Result<Child> {
    let log_file = fs::File::create(log)?;
    let child = Command::new(ALERTMANAGER_PATH)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", storage.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // Empty: no cluster listener, no gossip, no peers.
        .arg("--cluster.listen-address=")
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()?;
    when_ready(child, "alertmanager", port, "/-/ready", log, READY_TIMEOUT)
}
