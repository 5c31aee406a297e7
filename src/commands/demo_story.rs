//! The demo's incident story: every demo host runs a small "web" service (a shell loop named
//! `fleetdeck-demo-web HOST`) that its agent's process watcher follows; on two hosts the demo
//! leaves it stopped, so the console opens with two incidents. The demo's runbooks.toml points
//! them at the `restart-demo-web` action, which starts the service again; the agents see it
//! running and the incidents resolve by themselves.
//!
//! Every service is the demo's to stop: those it started are its children (stopped with the
//! agents), those the action started write their pid to the agent's folder and are stopped at
//! the end if that pid is still a demo service of that host.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::diag::Error;

/// The service's name on the command line (`$0` of its shell).
pub const SERVICE: &str = "fleetdeck-demo-web";

/// Environment every demo agent gets (its jobs inherit it): the host it plays, and its folder.
pub const ENV_HOST: &str = "FLEETDECK_DEMO_HOST";
pub const ENV_DIR: &str = "FLEETDECK_DEMO_DIR";

/// The service: records its pid, ends on TERM.
const SCRIPT: &str = "echo $$ > \"$FLEETDECK_DEMO_DIR/service.pid\"; trap \"exit 0\" TERM; while :; do sleep 1; done";

/// The demo's runbook action and rules.
pub const ACTION: (&str, &str) = (
    "restart-demo-web.toml",
    include_str!("../../examples/demo/restart-demo-web.toml"),
);
pub const RUNBOOKS: &str = include_str!("../../examples/demo/runbooks.toml");

/// Which hosts (0-based) start with their service stopped: the second and third, or the
/// first of a smaller demo.
pub fn starts_stopped(index: usize, count: usize) -> bool {
    if count >= 3 {
        index == 1 || index == 2
    } else {
        index == 0
    }
}

/// The `[[watchers]]` entry added to a demo agent's agent.toml: its service, every 2 s.
pub fn watcher_toml(host: &str) -> String {
    format!(
        "\n# The demo's web service on this host (see `fleetdeck demo`).\n[[watchers]]\n\
         name = \"web\"\nkind = \"process\"\ncmdline = \"{SERVICE} {}$\"\ninterval = \"2s\"\n\
         severity = \"critical\"\n",
        regex::escape(host).replace('\\', "\\\\")
    )
}

/// Starts `host`'s service (a child of the demo, dying with it); its pid.
pub fn start_service(host: &str, dir: &Path) -> Result<u32, Error> {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", SCRIPT, SERVICE, host])
        .env(ENV_HOST, host)
        .env(ENV_DIR, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    die_with_parent(&mut cmd);
    let child = cmd
        .spawn()
        .map_err(|e| Error::Invalid(format!("demo: cannot start {SERVICE} for {host}: {e}")))?;
    Ok(child.id())
}

/// The child gets SIGTERM when the demo ends, even if the demo is killed outright (no cleanup
/// runs then).
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl in the child before exec; it touches no memory of the parent.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

/// Stops services the runbook action started: each agent folder's service.pid, if that pid
/// is still `fleetdeck-demo-web HOST` (a pid file outlives its process; the pid may be reused).
pub fn stop_action_services(agent_dirs: &[(String, PathBuf)]) {
    for (host, dir) in agent_dirs {
        let Ok(text) = std::fs::read_to_string(dir.join("service.pid")) else {
            continue;
        };
        let Ok(pid) = text.trim().parse::<i32>() else {
            continue;
        };
        if pid <= 1 || !is_service_of(pid, host) {
            continue;
        }
        // SAFETY: kill(2) on a process verified just above to be this demo's service.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

/// Whether `pid`'s command line is `sh -c … fleetdeck-demo-web HOST`.
fn is_service_of(pid: i32, host: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|raw| {
        let args: Vec<&[u8]> = raw.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        args.len() >= 2
            && args[args.len() - 2] == SERVICE.as_bytes()
            && args[args.len() - 1] == host.as_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hosts_start_stopped_or_the_only_one() {
        let stopped = |count| {
            (0..count)
                .filter(|&i| starts_stopped(i, count))
                .collect::<Vec<_>>()
        };
        assert_eq!(stopped(8), [1, 2]);
        assert_eq!(stopped(3), [1, 2]);
        assert_eq!(stopped(2), [0]);
        assert_eq!(stopped(1), [0]);
    }

    #[test]
    fn the_watcher_entry_is_a_valid_process_watcher_of_exactly_that_host() {
        let text = watcher_toml("demo02");
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        let w = &parsed["watchers"][0];
        assert_eq!(w["cmdline"].as_str(), Some("fleetdeck-demo-web demo02$"));
        assert_eq!(w["kind"].as_str(), Some("process"));
    }
}
