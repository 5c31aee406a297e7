//! A real Prometheus node_exporter (Debian's `prometheus-node-exporter`) on 127.0.0.1, on a
//! free port, for the metrics tests. Dropping it stops the exporter by its pid.
//!
//! ```ignore
//! mod support;
//! use support::node_exporter::{NodeExporter, node_exporter_or_skip};
//!
//! #[test]
//! fn scrapes() {
//!     if !node_exporter_or_skip("scrapes") {
//!         return;
//!     }
//!     let exporter = NodeExporter::start().unwrap();
//!     // exporter.url() is "http://127.0.0.1:PORT/metrics"
//! }
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use super::ready::{on_a_free_port, when_ready};
use super::stop_child;
use tempfile::TempDir;

/// Debian's package installs the exporter here.
pub const NODE_EXPORTER_PATH: &str = "/usr/bin/prometheus-node-exporter";

/// How long a started exporter may take to answer /metrics.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// A port picked free can be taken by someone else before the exporter binds it.
const PORT_ATTEMPTS: usize = 5;

/// A running node_exporter.
#[derive(Debug)]
pub struct NodeExporter {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    // Declared last: removed only after the exporter writing into it has been stopped.
    dir: TempDir,
}

impl NodeExporter {
    /// Starts the exporter on a free loopback port and waits (at most 10 s) until /metrics
    /// answers 200.
    pub fn start() -> io::Result<NodeExporter> {
        if !node_exporter_available() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{NODE_EXPORTER_PATH} not found: install prometheus-node-exporter"),
            ));
        }
        let dir = tempfile::Builder::new()
            .prefix("fleetdeck-node-exporter-")
            .tempdir()?;
        let log = dir.path().join("node_exporter.log");
        let (port, child) = on_a_free_port(|port| spawn_ready(port, &log))?;
        Ok(NodeExporter {
            child: Some(child),
            port,
            log,
            dir,
        })
    }

    /// `http://127.0.0.1:PORT/metrics`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the exporter and starts a new one on the same port (an exporter restart as a
    /// host sees it: the counters it reports come from the kernel and keep going).
    pub fn restart(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child);
        }
        // The port was ours a moment ago; a few tries cover a slow release.
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            match spawn_ready(self.port, &self.log) {
                Ok(child) => {
                    self.child = Some(child);
                    return Ok(());
                }
                Err(e) => last_error = Some(e),
            }
            thread::sleep(Duration::from_millis(100));
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("no restart attempt was made")))
    }

    /// The exporter's own log (stderr), for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child);
        }
    }
}

/// True when the exporter binary is installed.
pub fn node_exporter_available() -> bool {
    Path::new(NODE_EXPORTER_PATH).is_file()
}

/// Call first in every exporter test: `if !node_exporter_or_skip("name") { return; }`.
/// Without the exporter it prints a skip note and returns false, except under CI (`CI` set),
/// where it panics: scripts/test.sh installs it, so a missing one there is a broken setup.
pub fn node_exporter_or_skip(test: &str) -> bool {
    super::installed_or_skip(test, NODE_EXPORTER_PATH, "prometheus-node-exporter")
}

/// Starts the exporter on `port` and waits until /metrics answers; stops it on failure.
fn spawn_ready(port: u16, log: &Path) -> io::Result<Child> {
    let log_file = fs::File::create(log)?;
    let child = Command::new(NODE_EXPORTER_PATH)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()?;
    when_ready(child, "node_exporter", port, "/metrics", log, READY_TIMEOUT)
}
