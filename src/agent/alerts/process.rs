//! The process watcher's check: is a matching process running (sysinfo's process table)?

use std::path::Path;

use sysinfo::{Pid, ProcessRefreshKind, ProcessStatus, ProcessesToUpdate, System, UpdateKind};

use super::condition::{Problem, Status};
use super::config::ProcessMatch;
use crate::protocol::Severity;

/// Looks for the process on each check. Blocking (reads `/proc`): run it on a blocking
/// thread. Zombies (exited, not yet reaped) count as gone, and the agent itself never
/// matches.
pub(crate) struct ProcessCheck {
    matcher: ProcessMatch,
    severity: Severity,
    own_pid: Option<Pid>,
}

impl ProcessCheck {
    pub(crate) fn new(matcher: ProcessMatch, severity: Severity) -> ProcessCheck {
        ProcessCheck {
            matcher,
            severity,
            own_pid: sysinfo::get_current_pid().ok(),
        }
    }

    pub(crate) fn check(&mut self) -> Status {
        // A fresh table each time: sysinfo does not re-read the name of a pid it already
        // knows, so a process that exec'd since would keep its old name; and no /proc files
        // stay open between checks. Only names and command lines (argv[0] too: the kernel
        // cuts names at 15 bytes), no CPU, memory or thread lists.
        let mut sys = System::new();
        sys.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_cmd(UpdateKind::Always),
        );
        let matching: Vec<u32> = sys
            .processes()
            .values()
            .filter(|p| Some(p.pid()) != self.own_pid && p.status() != ProcessStatus::Zombie)
            .filter(|p| match &self.matcher {
                ProcessMatch::Name(name) => {
                    p.name() == name.as_str()
                        || p.cmd().first().and_then(|a| Path::new(a).file_name())
                            == Some(std::ffi::OsStr::new(name))
                }
                ProcessMatch::Cmdline(re) => {
                    let cmd: Vec<String> = p
                        .cmd()
                        .iter()
                        .map(|a| a.to_string_lossy().into_owned())
                        .collect();
                    !cmd.is_empty() && re.is_match(&cmd.join(" "))
                }
            })
            .map(|p| p.pid().as_u32())
            .collect();
        let what = self.describe();
        if matching.is_empty() {
            return Status::Bad(Problem {
                key: "gone",
                severity: self.severity,
                summary: format!("no process {what} is running"),
                detail: None,
            });
        }
        let mut pids = matching;
        pids.sort_unstable();
        let shown: Vec<String> = pids.iter().take(5).map(u32::to_string).collect();
        let more = if pids.len() > 5 { ", …" } else { "" };
        Status::Good(format!(
            "{} {what} running (pid {}{more})",
            if pids.len() == 1 {
                "1 process".to_string()
            } else {
                format!("{} processes", pids.len())
            },
            shown.join(", ")
        ))
    }

    fn describe(&self) -> String {
        match &self.matcher {
            ProcessMatch::Name(name) => format!("named `{name}`"),
            ProcessMatch::Cmdline(re) => format!("with a command line matching /{}/", re.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;
    use std::process::{Command, Stdio};

    /// A `sleep` with a command line no other process has.
    fn unique_sleeper() -> (std::process::Child, String) {
        // Unique per process and call: tests run in parallel.
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let marker = format!(
            "0.{:09}",
            (u64::from(std::process::id()) * 7919 + n * 1_000_003) % 1_000_000_000
        );
        let child = Command::new("sleep")
            .args(["600", &marker])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        (child, format!(r"^sleep 600 {}$", regex::escape(&marker)))
    }

    #[test]
    fn a_process_found_then_killed_by_pid_is_gone() {
        let (mut child, pattern) = unique_sleeper();
        let pid = child.id();
        let mut check = ProcessCheck::new(
            ProcessMatch::Cmdline(Regex::new(&pattern).unwrap()),
            Severity::Critical,
        );
        match check.check() {
            Status::Good(text) => assert!(text.contains(&pid.to_string()), "{text}"),
            other => panic!("the sleeper was not found: {other:?}"),
        }
        child.kill().unwrap();
        // SIGKILL lands asynchronously: wait (bounded) until the kernel shows a zombie, which
        // is what a dead, not yet reaped process is, and which must count as gone.
        let stat = format!("/proc/{pid}/stat");
        let zombie = (0..500).any(|_| {
            let text = std::fs::read_to_string(&stat).unwrap_or_default();
            let state = text
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .chars()
                .next();
            if state == Some('Z') {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            false
        });
        assert!(zombie, "the killed sleeper never became a zombie");
        match check.check() {
            Status::Bad(p) => {
                assert_eq!((p.key, p.severity), ("gone", Severity::Critical));
                assert!(p.summary.contains("matching /^sleep 600"), "{}", p.summary);
            }
            other => panic!("a killed process still counts: {other:?}"),
        }
        child.wait().unwrap();
        assert!(matches!(check.check(), Status::Bad(_)));
    }

    #[test]
    fn exact_names_match_the_kernel_name_or_argv0() {
        // The test binary's own process never matches; a child `sleep` does.
        let (mut child, _) = unique_sleeper();
        let mut by_name = ProcessCheck::new(ProcessMatch::Name("sleep".into()), Severity::Info);
        assert!(matches!(by_name.check(), Status::Good(_)));
        let mut prefix = ProcessCheck::new(ProcessMatch::Name("slee".into()), Severity::Info);
        assert!(
            matches!(prefix.check(), Status::Bad(_)),
            "names match exactly, not as prefixes"
        );
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
