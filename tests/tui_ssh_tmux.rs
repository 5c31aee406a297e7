//! End to end over SSH: the real console in a real terminal (tmux) on the sshd harness fleet.
//! Bare `fleetdeck` opens the console; `fleetdeck tui --ssh-config FILE` runs a command twice
//! on three hosts whose key is encrypted: the passphrase is asked once in a masked popup, the
//! second run logs in nowhere again (sshd's log), the Fleet view and status bar show the pooled
//! connections, and quitting says goodbye to every server. Each test runs its own tmux server
//! (`-L`), which it stops when done.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::cli::{home_with, ssh_home};
use support::sshd::{ENCRYPTED_KEY_PASSPHRASE, FleetOptions, SshdFleet, sshd_or_skip};

const HOSTS: usize = 3;

struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `args` of the built binary in a new tmux session of the given size.
    fn start(home: &Path, args: &str, width: u16, height: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "tmux is required in CI");
            eprintln!("skipping: tmux is not installed");
            return None;
        }
        let unique = home.file_name().expect("a temp dir name").to_string_lossy();
        let socket = format!("fdssh-{}-{unique}", std::process::id());
        let bin = env!("CARGO_BIN_EXE_fleetdeck");
        let cmd = format!("{bin} --home {} {args}", home.display());
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(cmd)
            .env_remove("TMUX")
            .env_remove("SSH_AUTH_SOCK")
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session failed");
        Some(Tmux { socket })
    }

    fn send(&self, args: &[&str]) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0"])
            .args(args)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "send-keys {args:?}");
        // One at a time: ESC followed at once by another key reads as Alt+key.
        std::thread::sleep(Duration::from_millis(80));
    }

    fn key(&self, key: &str) {
        self.send(&[key]);
    }

    /// Types `text` literally (no key names, no tmux `;` separators).
    fn text(&self, text: &str) {
        self.send(&["-l", text]);
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (bounded) until the screen satisfies `pred`; returns the last screen either way.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn session_alive(&self) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "has-session"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Waits (bounded) for the console to exit after `Q`.
    fn wait_gone(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.session_alive() {
            assert!(
                Instant::now() < deadline,
                "the console did not quit:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn count_in_log(fleet: &SshdFleet, needle: &str) -> usize {
    fs::read_to_string(fleet.log_path())
        .unwrap_or_default()
        .matches(needle)
        .count()
}

/// The id of the run the message line says ended ok on all three hosts
/// (`run ID ok: 3 ok, 0 failed`).
fn finished_ok(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("3 ok, 0 failed"))?;
    let rest = &line[line.find("run ")? + 4..];
    rest.split_whitespace().next().map(str::to_string)
}

#[test]
fn bare_fleetdeck_opens_the_console() {
    let home = home_with("[[hosts]]\nname = \"lab[1-2]\"\ntransport = \"local\"\n");
    let Some(tmux) = Tmux::start(home.path(), "", 100, 30) else {
        return;
    };
    let s = tmux.wait_for("the fleet table", |s| s.contains("2/2 hosts"));
    assert!(s.contains("lab1") && s.contains("local"), "{s}");
    // An all-local fleet has no connections to count.
    assert!(!s.contains("pooled"), "{s}");
    tmux.key("Q");
    tmux.wait_gone();
}

/// `:run CMD` on the shown hosts, confirmed.
fn run_and_confirm(tmux: &Tmux, command: &str) {
    tmux.key(":");
    tmux.text(&format!("run {command}"));
    tmux.key("Enter");
    tmux.wait_for("the confirmation", |s| s.contains("Run on 3 hosts"));
    tmux.key("y");
}

#[test]
fn warm_second_run_passphrase_once_and_polite_quit() {
    if !sshd_or_skip("warm_second_run_passphrase_once_and_polite_quit") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: HOSTS,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"));
    let home = ssh_home(
        &fleet,
        "\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
    );
    // Every host through the encrypted key, and no ssh-agent to fall back on.
    let config = home.path().join("ssh_config_encrypted");
    let text = fs::read_to_string(fleet.ssh_config_path())
        .unwrap()
        .replace(
            &format!("IdentityFile {}\n", fleet.user_key_path().display()),
            &format!(
                "IdentityFile {}\n    IdentityAgent none\n",
                fleet.encrypted_user_key_path().display()
            ),
        );
    assert!(text.contains("IdentityAgent none"), "{text}");
    fs::write(&config, text).unwrap();
    let args = format!(
        "tui --ssh-config {} --known-hosts {}",
        config.display(),
        fleet.known_hosts_path().display()
    );
    let Some(tmux) = Tmux::start(home.path(), &args, 120, 32) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| {
        s.contains("4/4 hosts") && s.contains("0 pooled")
    });
    let s = tmux.screen();
    assert!(s.contains("CONNECTION") && s.contains("closed"), "{s}");

    tmux.key(":");
    tmux.text("target h*");
    tmux.key("Enter");
    tmux.wait_for("the target", |s| s.contains("3/4 hosts"));

    // First run: the key is encrypted, so the console asks, masked.
    run_and_confirm(&tmux, "echo warm-$((40+2))");
    let popup = tmux.wait_for("the passphrase popup", |s| s.contains("encrypted SSH key"));
    assert!(popup.contains("id_ed25519_encrypted"), "{popup}");
    tmux.text(ENCRYPTED_KEY_PASSPHRASE);
    let masked = tmux.wait_for("the masked text", |s| {
        s.contains(&"*".repeat(ENCRYPTED_KEY_PASSPHRASE.len()))
    });
    assert!(!masked.contains(ENCRYPTED_KEY_PASSPHRASE), "{masked}");
    tmux.key("Enter");
    let s = tmux.wait_for("the first run", |s| finished_ok(s).is_some());
    let first = finished_ok(&s);
    assert_eq!(
        count_in_log(&fleet, "Accepted publickey"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );

    // The Fleet view and the status bar show the pooled connections (refreshed on ticks).
    tmux.key("1");
    let s = tmux.wait_for("the pooled connections", |s| s.contains("3 pooled"));
    assert_eq!(s.matches("● open").count(), HOSTS, "{s}");

    // Second run: no passphrase, no new login.
    run_and_confirm(&tmux, "echo again");
    let s = tmux.wait_for("the second run", |s| {
        s.contains("encrypted SSH key")
            || finished_ok(s).is_some_and(|id| Some(&id) != first.as_ref())
    });
    assert!(!s.contains("encrypted SSH key"), "asked again:\n{s}");
    assert_eq!(
        count_in_log(&fleet, "Accepted publickey"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );

    // Quitting closes every connection politely.
    tmux.key("Q");
    tmux.wait_gone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while count_in_log(&fleet, "fleetdeck is done") < HOSTS && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        count_in_log(&fleet, "fleetdeck is done"),
        HOSTS,
        "{}",
        fleet.log_tail(30)
    );
}
