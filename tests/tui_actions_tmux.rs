//! End to end: the console's Actions view and its run queue, in a real terminal (tmux) driven
//! by keys and read back from the screen. An action with a regex-checked string, an int and a
//! secret runs on two hosts of the sshd harness fleet: the form reports the bad value, masks
//! the secret, previews the quoted command, wants the name typed, and the secret reaches the
//! hosts (their sha256 of it is on screen) but never the screen nor any file. With
//! `[queue] max_running = 1` a second run waits in the queue; both are cancelled with `X` and
//! recorded so. Each test runs its own tmux server (`-L`), which it stops when done.

mod support;
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;
use std::time::Instant;

use support::cli::{history_file, home_with, ssh_home, write_config};
use support::files::{files_under, sha256_hex};
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};
use tmux::{PATIENCE, Tmux, fleetdeck_command};

/// The secret the operator types; unlike anything else on screen or in the files.
const SECRET: &str = "Zq8vX3-tok-71c0ffee";

const GREET: &str = r#"
description = "Say hello and hash a token"
category = "demo"
command = "printf 'hello %s %s\n' {who} {n}; printf %s {token} | sha256sum"
confirm = "typed"

[[params]]
name = "who"
required = true
regex = "[a-z ]+"
description = "lower-case name"

[[params]]
name = "n"
type = "int"
required = true
min = 1
max = 99

[[params]]
name = "token"
secret = true
required = true
"#;

/// `fleetdeck --home HOME tui ARGS` in a fresh tmux server of its own.
fn start(home: &Path, args: &str, width: u16, height: u16) -> Option<Tmux> {
    let command = fleetdeck_command(home, &format!("tui {args}"));
    Tmux::start("fdact", home, &command, width, height)
}

/// Like [`Tmux::wait_for`], but every screen looked at on the way is checked for the secret.
fn wait_clean(tmux: &Tmux, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let screen = tmux.screen();
        assert!(
            !screen.contains(SECRET),
            "the secret is on screen while waiting for {what}:\n{screen}"
        );
        if pred(&screen) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; screen:\n{screen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The records of history.jsonl, oldest first.
fn history(home: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(history_file(home))
        .expect("history.jsonl is written")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn action_form_validates_masks_the_secret_previews_and_runs_on_two_ssh_hosts() {
    if !sshd_or_skip("action_form_validates_masks_the_secret_previews_and_runs_on_two_ssh_hosts") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 2,
        ..FleetOptions::default()
    })
    .expect("the sshd harness starts");
    // A local host too, so that the form is for the marked hosts, not every one shown.
    let home = ssh_home(
        &fleet,
        "\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
    );
    write_config(home.path(), "actions/greet.toml", GREET);
    let args = format!("--ssh-config {}", fleet.ssh_config_path().display());
    let Some(tmux) = start(home.path(), &args, 120, 40) else {
        return;
    };
    wait_clean(&tmux, "the fleet table", |s| {
        s.contains("h002") && s.contains("lab1") && s.contains("3/3 hosts")
    });
    tmux.keys(&["/", "h", "0", "0", "Enter", "Space", "Space"]);
    wait_clean(&tmux, "two marks", |s| s.contains("2 marked"));

    // View 6 lists the template.
    tmux.key("6");
    let list = wait_clean(&tmux, "the actions list", |s| {
        s.contains("greet") && s.contains("Say hello")
    });
    assert!(list.contains("typed"), "the confirmation level: {list}");

    // Enter opens the form for the two marked hosts; the required fields say so.
    tmux.key("Enter");
    let form = wait_clean(&tmux, "the form", |s| s.contains("action greet"));
    assert!(form.contains("2 host(s) h[001-002]"), "{form}");
    assert!(form.contains("parameters (3)"), "{form}");
    assert!(form.contains("required"), "{form}");

    // A value the regex refuses is reported as it is typed, then fixed.
    tmux.text("Bob");
    wait_clean(&tmux, "the regex message", |s| {
        s.contains("`Bob` does not match `[a-z ]+`")
    });
    // Enter with a bad value does not get to the confirmation: it says what is wrong.
    tmux.key("Enter");
    wait_clean(&tmux, "the refusal", |s| s.contains("cannot run `greet`"));
    tmux.key("C-u");
    tmux.text("bob smith");
    // The form and its preview no longer object (the message line below may still tell
    // of the refused enter).
    wait_clean(&tmux, "the field's message gone", |s| {
        s.contains("bob smith")
            && !s
                .lines()
                .any(|l| l.contains("does not match") && !l.starts_with("cannot run"))
    });
    tmux.key("Tab");
    tmux.text("7");
    tmux.key("Tab");

    // The secret: masked as typed, never on screen.
    tmux.text(SECRET);
    let masked = wait_clean(&tmux, "the masked secret", |s| {
        s.contains(&"•".repeat(SECRET.chars().count()))
    });
    // The preview: the quoted command for both hosts, the secret by name only.
    let preview = wait_clean(&tmux, "the preview", |s| {
        s.contains("run the command:") && s.contains("'bob smith' 7")
    });
    assert!(preview.contains("h[001-002]"), "{preview}");
    assert!(
        preview.contains("\"$FLEETDECK_SECRET_TOKEN\""),
        "the secret arrives through a variable: {preview}"
    );
    assert!(preview.contains("secret `token`"), "{preview}");
    assert!(!masked.contains("lab1"), "lab1 is not marked: {masked}");

    // Enter: the confirmation wants the action's name typed; enter alone does nothing.
    tmux.key("Enter");
    let confirm = wait_clean(&tmux, "the confirmation", |s| {
        s.contains("Action `greet` on 2 host(s): h[001-002]")
    });
    assert!(confirm.contains("confirm = typed"), "{confirm}");
    // (A pause, then the popup must still be there: no run started.)
    tmux.key("Enter");
    std::thread::sleep(std::time::Duration::from_millis(300));
    wait_clean(&tmux, "the confirmation still open", |s| {
        s.contains("Action `greet` on 2 host(s)")
    });
    tmux.text("greet");
    tmux.key("Enter");

    // The Runs view: both hosts end ok; the merged stream (`v` twice) shows their output.
    wait_clean(&tmux, "the run to finish", |s| {
        s.contains("ok 2") && s.contains("failed 0")
    });
    tmux.keys(&["v", "v"]);
    let hash = sha256_hex(SECRET);
    let merged = wait_clean(&tmux, "both hosts' output", |s| {
        s.matches("hello bob smith 7").count() >= 2 && s.matches(hash.as_str()).count() >= 2
    });
    for host in ["h001", "h002"] {
        let lines: Vec<&str> = merged.lines().filter(|l| l.contains(host)).collect();
        assert!(
            lines.iter().any(|l| l.contains("hello bob smith 7")),
            "{host}: {merged}"
        );
        assert!(
            lines.iter().any(|l| l.contains(hash.as_str())),
            "{host}: {merged}"
        );
    }
    tmux.key("Escape");
    tmux.key("Q");
    tmux.wait_gone();

    // Not in any file under the home: history, runs/, audit, logs.
    let files = files_under(home.path());
    eprintln!("files checked for the secret: {files:#?}");
    assert!(
        files.iter().any(|f| f.ends_with("history.jsonl")),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.parent().is_some_and(|p| p.ends_with("runs"))),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("audit.jsonl")),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.parent().is_some_and(|p| p.ends_with("logs"))),
        "{files:?}"
    );
    // The scan reads what the files hold: the run's record has the hosts' output (the hash).
    let recorded = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "jsonl"))
        .filter(|f| f.parent().is_some_and(|p| p.ends_with("runs")))
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<String>();
    assert!(recorded.contains(hash.as_str()), "{recorded}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "the secret is in {}",
            file.display()
        );
    }

    // History records the action, the secret masked.
    let runs = history(home.path());
    let run = runs.last().expect("one run recorded");
    assert_eq!(run["status"], "ok", "{run}");
    assert_eq!(run["action"]["name"], "greet", "{run}");
    assert_eq!(run["action"]["params"]["who"], "bob smith", "{run}");
    assert_eq!(run["action"]["params"]["n"], "7", "{run}");
    assert_eq!(run["action"]["params"]["token"], "<secret>", "{run}");
    assert_eq!(run["hosts"].as_array().map(Vec::len), Some(2), "{run}");
}

/// The cancelled command's process (by then `sleep`), killed by its pid should the test end
/// with it still alive.
struct Sleeper(u32);

impl Sleeper {
    /// Whether it still runs: `/proc/PID/stat` is `PID (sleep) STATE …`, and a zombie (Z) is
    /// dead, only waiting to be reaped. (Another command would be a reused pid: not ours.)
    fn alive(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.0)).is_ok_and(|stat| {
            stat.contains("(sleep)")
                && stat
                    .rsplit(')')
                    .next()
                    .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        })
    }

    /// Whether it is gone within [`PATIENCE`].
    fn gone_soon(&self) -> bool {
        let deadline = Instant::now() + PATIENCE;
        while self.alive() {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        true
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        if self.alive() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}

/// The id of the run the Runs view shows below its list (`run ID [state] · 1 host: …`).
fn selected_run(screen: &str) -> Option<String> {
    let line = screen
        .lines()
        .find(|l| l.starts_with("run ") && l.contains(" · "))?;
    line.split_whitespace().nth(1).map(str::to_string)
}

#[test]
fn second_run_waits_in_the_queue_and_both_are_cancelled() {
    let home = home_with("[[hosts]]\nname = \"lab[1-2]\"\ntransport = \"local\"\n");
    write_config(home.path(), "config.toml", "[queue]\nmax_running = 1\n");
    let Some(tmux) = start(home.path(), "", 140, 32) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| s.contains("2/2 hosts"));
    tmux.keys(&["Space"]);
    tmux.wait_for("one mark", |s| s.contains("1 marked"));

    // The long run takes the only place.
    tmux.key(":");
    // The shell writes its pid (then becomes `sleep`), so the test can see the cancel end it.
    let scratch = tempfile::tempdir().unwrap();
    let pid_file = scratch.path().join("pid");
    tmux.text(&format!(
        "run echo $$ > {} && exec sleep 300",
        pid_file.display()
    ));
    tmux.key("Enter");
    tmux.wait_for("the first confirmation", |s| {
        s.contains("Run on 1 host: lab1")
    });
    tmux.key("Enter");
    let s = tmux.wait_for("the first run running", |s| {
        s.contains("1 running") && selected_run(s).is_some()
    });
    let first = selected_run(&s).unwrap_or_else(|| panic!("no run id on screen:\n{s}"));

    // The second waits: `◷ queued #1` in the list, the depth in the status bar.
    tmux.key("!");
    tmux.wait_for("the prefilled command line", |s| s.contains(":run"));
    tmux.text("echo second");
    tmux.key("Enter");
    tmux.wait_for("the second confirmation", |s| {
        s.contains("Run on 1 host: lab1")
    });
    tmux.key("y");
    let s = tmux.wait_for("the second run queued", |s| {
        s.contains("◷ queued #1") && s.contains("1 queued") && s.contains("1 running")
    });
    let second = selected_run(&s).unwrap_or_else(|| panic!("no run id on screen:\n{s}"));
    assert_ne!(first, second, "{s}");

    // X on the queued run (the newest, selected): it leaves the queue at once.
    tmux.key("X");
    let s = tmux.wait_for("the queued run cancelled", |s| {
        s.lines()
            .any(|l| l.contains("⊘ cancelled") && l.contains("echo second"))
    });
    assert!(!s.contains("◷ queued") && !s.contains("1 queued"), "{s}");
    assert!(s.contains("1 running"), "the first run goes on: {s}");

    // `]` selects the older, running run; X asks first, then cancels it.
    tmux.key("]");
    tmux.wait_for("the running run selected", |s| {
        selected_run(s).as_ref() == Some(&first)
    });
    tmux.key("X");
    tmux.wait_for("the cancel question", |s| s.contains("cancel run?"));
    tmux.key("y");
    let s = tmux.wait_for("the running run cancelled", |s| {
        s.lines()
            .any(|l| l.contains("⊘ cancelled") && l.contains("echo $$"))
    });
    assert!(!s.contains("1 running"), "{s}");
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sleeper = Sleeper(pid);
    assert!(
        sleeper.gone_soon(),
        "the cancelled command (pid {pid}) still runs"
    );

    // Nothing in flight: Q quits at once.
    tmux.key("Q");
    tmux.wait_gone();

    let runs = history(home.path());
    for id in [&first, &second] {
        let run = runs
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("run {id} in history: {runs:?}"));
        assert_eq!(run["status"], "cancelled", "{run}");
    }
    // The queued one never started: its host is recorded as skipped.
    let queued = runs.iter().find(|r| r["id"] == second.as_str()).unwrap();
    assert_eq!(queued["hosts"][0]["state"], "skipped", "{queued}");
    let running = runs.iter().find(|r| r["id"] == first.as_str()).unwrap();
    assert_eq!(running["hosts"][0]["state"], "cancelled", "{running}");
    let audit = std::fs::read_to_string(home.path().join("data/audit.jsonl")).unwrap();
    for id in [&first, &second] {
        assert!(
            audit.lines().any(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["action"] == "cancel" && v["run_id"] == id.as_str()
            }),
            "no cancel line for {id}:\n{audit}"
        );
    }
}
