//! Shared helpers for integration tests. Each test binary does `mod support;` and uses what it
//! needs; items a given binary leaves unused are allowed to be dead code.

#![allow(dead_code)]

pub mod agent;
pub mod cli;
pub mod engine;
pub mod files;
pub mod http_stub;
pub mod node_exporter;
pub mod proc_here;
pub mod sshd;

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
