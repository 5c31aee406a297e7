//! Shared helpers for integration tests. Each test binary does `mod support;` and uses what it
//! needs; items a given binary leaves unused are allowed to be dead code.

#![allow(dead_code)]

pub mod agent;
pub mod alertmanager;
pub mod cli;
pub mod engine;
pub mod files;
pub mod health_server;
pub mod http_stub;
pub mod node_exporter;
pub mod proc_here;
pub mod ready;
pub mod sshd;
pub mod webhook_receiver;

/// Whether a test that needs `binary` (from Debian's `package`) can run. Without it: a skip
/// note and false, except under CI (`CI` set), where it panics: scripts/test.sh installs it, so
/// a missing one there is a broken setup that must fail loudly, not pass silently.
pub fn installed_or_skip(test: &str, binary: &str, package: &str) -> bool {
    if std::path::Path::new(binary).is_file() {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    if in_ci {
        panic!(
            "{test}: {binary} not found and CI is set; install {package} \
             (apt-get install -y {package}). Such tests are never skipped in CI."
        );
    }
    eprintln!("SKIPPED {test}: {binary} not found (install {package} to run it)");
    false
}

/// How long a harness process (sshd, node_exporter) gets between SIGTERM and SIGKILL.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// SIGTERM, a bounded wait, then SIGKILL; always reaps. Only ever signals our own child.
pub fn stop_child(child: &mut std::process::Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: plain kill(2) on the pid of a child we spawned and have not yet reaped, so
        // the pid cannot have been reused by another process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = std::time::Instant::now() + STOP_GRACE;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A port free on 127.0.0.1 a moment ago (bound, then released).
pub fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
