//! Driving a real terminal: one private tmux server (`tmux -L NAME`) per test, keys in,
//! `capture-pane` screens out, every wait bounded. Dropping a [`Tmux`] stops that server and
//! no other, and removes its socket file (tmux leaves it behind).
//!
//! Included with `#[path = "support/tmux.rs"] mod tmux;` by the test binaries that need it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Liveness bound for any one wait on the screen (never a speed assertion).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Pause after each key: ESC followed at once by another key reads as Alt+key.
const KEY_GAP: Duration = Duration::from_millis(80);

/// How often a wait looks at the screen again.
const POLL: Duration = Duration::from_millis(100);

/// `BIN --home HOME ARGS`: a command line for [`Tmux::start`] running the built binary.
pub fn fleetdeck_command(home: &Path, args: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_fleetdeck");
    format!("{bin} --home {} {args}", home.display())
}

/// One tmux server of this test's own, running a single session.
pub struct Tmux {
    socket: String,
    /// The server's socket file, when tmux said where it is.
    socket_path: Option<PathBuf>,
}

impl Tmux {
    /// Starts `command` (a shell command line) in a detached `width`×`height` session of a new
    /// tmux server named after `label`, this process and `unique`'s last component (a temp
    /// dir, so parallel tests never share a server). `None` when tmux is not installed, which
    /// is allowed only outside CI.
    pub fn start(
        label: &str,
        unique: &Path,
        command: &str,
        width: u16,
        height: u16,
    ) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(std::env::var_os("CI").is_none(), "tmux is required in CI");
            eprintln!("skipping: tmux is not installed");
            return None;
        }
        let unique = unique
            .file_name()
            .expect("a temp dir name")
            .to_string_lossy();
        let socket = format!("{label}-{}-{unique}", std::process::id());
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(command)
            // Not nested in the caller's tmux, and no ssh-agent of the caller's to log in with.
            .env_remove("TMUX")
            .env_remove("SSH_AUTH_SOCK")
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session failed: {command}");
        let socket_path = Command::new("tmux")
            .args(["-L", &socket, "display-message", "-p", "#{socket_path}"])
            .output()
            .ok()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|path| path.ends_with(&socket))
            .map(PathBuf::from);
        Some(Tmux {
            socket,
            socket_path,
        })
    }

    fn send(&self, args: &[&str]) {
        let ok = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "0"])
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "send-keys {args:?}");
        std::thread::sleep(KEY_GAP);
    }

    /// Sends one key (a tmux key name such as `Enter`, or plain text without `;`).
    pub fn key(&self, key: &str) {
        self.send(&[key]);
    }

    /// Sends the keys one at a time.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.key(k);
        }
    }

    /// Types `text` literally (no key names, no tmux `;` separators).
    pub fn text(&self, text: &str) {
        self.send(&["-l", text]);
    }

    /// The visible screen.
    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "0"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits (bounded by [`PATIENCE`]) until the screen satisfies `pred`; returns that screen.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(POLL);
        }
    }

    /// The pid of the program in the pane (the command tmux started).
    pub fn pane_pid(&self) -> u32 {
        let out = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "display-message",
                "-p",
                "-t",
                "0",
                "#{pane_pid}",
            ])
            .output()
            .expect("display-message");
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim().parse().expect("a pane pid")
    }

    /// Whether the session (the program in it) still runs.
    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "has-session"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Waits (bounded by [`PATIENCE`]) for the program to exit, e.g. after `Q`.
    pub fn wait_gone(&self) {
        let deadline = Instant::now() + PATIENCE;
        while self.alive() {
            assert!(
                Instant::now() < deadline,
                "the program did not quit:\n{}",
                self.screen()
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Quiet: once the program quit the server is usually gone already.
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}
