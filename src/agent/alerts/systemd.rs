//! The systemd watcher's check: `systemctl is-active UNIT`.

use std::ffi::OsString;
use std::io;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::condition::{Problem, Status};
use crate::protocol::Severity;

/// How long `systemctl is-active` may take before the check counts as failed.
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks one unit. Problems of the check itself (no `systemctl`, no systemd running, a
/// hung `systemctl`) are one `cannot_check` warning rather than silence, and distinct from
/// the unit being down.
#[derive(Debug)]
pub(crate) struct SystemdCheck {
    /// `systemctl`, looked up in `PATH` (tests point it elsewhere).
    pub(crate) systemctl: OsString,
    pub(crate) unit: String,
    pub(crate) severity: Severity,
}

impl SystemdCheck {
    pub(crate) fn new(unit: String, severity: Severity) -> SystemdCheck {
        SystemdCheck {
            systemctl: "systemctl".into(),
            unit,
            severity,
        }
    }

    pub(crate) async fn check(&self) -> Status {
        let unit = &self.unit;
        let run = Command::new(&self.systemctl)
            .args(["is-active", "--"])
            .arg(unit)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(SYSTEMCTL_TIMEOUT, run).await {
            Err(_) => {
                return self.cannot_check(format!(
                    "`systemctl is-active` gave no answer within {}s",
                    SYSTEMCTL_TIMEOUT.as_secs()
                ));
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => {
                return self.cannot_check(format!(
                    "`{}` not found (is this a systemd host?)",
                    self.systemctl.to_string_lossy()
                ));
            }
            Ok(Err(e)) => {
                return self.cannot_check(format!(
                    "cannot run `{}`: {e}",
                    self.systemctl.to_string_lossy()
                ));
            }
            Ok(Ok(out)) => out,
        };
        self.interpret(&out)
    }

    /// Reads `systemctl is-active`'s answer.
    fn interpret(&self, out: &std::process::Output) -> Status {
        let unit = &self.unit;
        let state = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // is-active exits 0 for active, reloading and refreshing: all mean the unit runs.
        if out.status.success() && !state.is_empty() {
            return Status::Good(format!("{unit} is {state}"));
        }
        // A unit state is one lowercase word; anything else (nothing at all when systemd is
        // not running) means systemctl could not tell.
        if !state.is_empty() && state.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            let hint = if state == "unknown" {
                " (no such unit?)"
            } else {
                ""
            };
            return Status::Bad(Problem {
                key: "not_active",
                severity: self.severity,
                summary: format!("{unit} is {state}{hint}"),
                detail: None,
            });
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no output");
        self.cannot_check(format!(
            "`systemctl is-active` failed ({}): {}",
            out.status,
            truncate(why, 300)
        ))
    }

    fn cannot_check(&self, why: String) -> Status {
        Status::Bad(Problem {
            key: "cannot_check",
            severity: Severity::Warning,
            summary: format!("cannot check {}: {why}", self.unit),
            detail: None,
        })
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn problem(status: Status) -> Problem {
        match status {
            Status::Bad(p) => p,
            other => panic!("expected a problem, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_missing_systemctl_is_a_warning_not_silence() {
        let mut check = SystemdCheck::new("nginx.service".into(), Severity::Critical);
        check.systemctl = "/nonexistent/fleetdeck-test/systemctl".into();
        let p = problem(check.check().await);
        assert_eq!(p.key, "cannot_check");
        assert_eq!(p.severity, Severity::Warning);
        assert!(p.summary.contains("nginx.service"), "{}", p.summary);
        assert!(p.summary.contains("not found"), "{}", p.summary);
    }

    #[tokio::test]
    async fn the_real_systemctl_on_this_machine() {
        let check = SystemdCheck::new(
            "fleetdeck-test-no-such-unit.service".into(),
            Severity::Critical,
        );
        let status = check.check().await;
        let systemd_runs = Path::new("/run/systemd/system").is_dir();
        let has_systemctl = std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|d| d.join("systemctl").is_file())
        });
        let p = problem(status);
        match (has_systemctl, systemd_runs) {
            (true, true) => {
                // A unit that does not exist is reported as not active, at the set severity.
                assert_eq!(p.key, "not_active", "{}", p.summary);
                assert_eq!(p.severity, Severity::Critical);
            }
            (true, false) => {
                // systemctl is installed but systemd is not PID 1 (a container): the check
                // cannot tell, and says so with systemctl's own reason.
                assert_eq!(p.key, "cannot_check", "{}", p.summary);
                assert_eq!(p.severity, Severity::Warning);
                assert!(p.summary.contains("failed"), "{}", p.summary);
                eprintln!("systemd is not running here; checked the cannot-check path only");
            }
            (false, _) => {
                assert_eq!(p.key, "cannot_check", "{}", p.summary);
                assert!(p.summary.contains("not found"), "{}", p.summary);
                eprintln!("no systemctl here; checked the missing-systemctl path only");
            }
        }
    }

    #[test]
    fn states_are_read_from_systemctl_output() {
        use std::os::unix::process::ExitStatusExt;
        use std::process::{ExitStatus, Output};
        // What systemctl prints (systemctl(1): exit 0 for active, 3 for the other states).
        let out = |code: i32, stdout: &str, stderr: &str| Output {
            status: ExitStatus::from_raw(code << 8),
            stdout: stdout.as_bytes().to_vec(),
            stderr: stderr.as_bytes().to_vec(),
        };
        let check = SystemdCheck::new("x.service".into(), Severity::Info);
        assert_eq!(
            check.interpret(&out(0, "active\n", "")),
            Status::Good("x.service is active".into())
        );
        assert_eq!(
            check.interpret(&out(0, "reloading\n", "")),
            Status::Good("x.service is reloading".into())
        );
        let down = problem(check.interpret(&out(3, "failed\n", "")));
        assert_eq!((down.key, down.severity), ("not_active", Severity::Info));
        assert_eq!(down.summary, "x.service is failed");
        let unknown = problem(check.interpret(&out(4, "unknown\n", "")));
        assert!(
            unknown.summary.ends_with("(no such unit?)"),
            "{}",
            unknown.summary
        );
        let no_bus = problem(check.interpret(&out(
            1,
            "",
            "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
        )));
        assert_eq!(
            (no_bus.key, no_bus.severity),
            ("cannot_check", Severity::Warning)
        );
        assert!(
            no_bus.summary.contains("not been booted with systemd"),
            "{}",
            no_bus.summary
        );
    }
}
