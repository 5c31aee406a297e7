//! End to end: the real console in a real terminal (tmux), driven by keys and read back from
//! the screen. Each test runs its own tmux server (`-L`), which it stops when done.

mod support;
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;

use support::cli::{home_with, ssh_home};
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};
use tmux::{Tmux, fleetdeck_command};

const INVENTORY: &str = r#"
[[hosts]]
name = "web[01-12]"
env = "prod"
tags = ["web"]

[[hosts]]
name = "db[1-3]"
env = "prod"
groups = ["database"]

[[hosts]]
name = "lab[1-2]"
transport = "local"
env = "lab"
"#;

/// `fleetdeck --home HOME tui ARGS…` in a fresh tmux server of its own.
fn start(home: &Path, args: &[&str], width: u16, height: u16) -> Option<Tmux> {
    let command = fleetdeck_command(home, &format!("tui {}", args.join(" ")));
    Tmux::start("fdtest", home, &command, width, height)
}

#[test]
fn filter_mark_help_target_and_quit() {
    let home = home_with(INVENTORY);
    let Some(tmux) = start(home.path(), &[], 100, 30) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| {
        s.contains("web01") && s.contains("17/17 hosts")
    });

    // `/` filters live; the table narrows to the db hosts.
    tmux.keys(&["/", "d", "b"]);
    let s = tmux.wait_for("the filter", |s| s.contains("db1") && !s.contains("web01"));
    assert!(s.contains("db3"), "{s}");
    tmux.keys(&["Enter"]);

    // Marks: space marks the row under the cursor and moves down; the status bar counts them.
    tmux.keys(&["Space", "Space"]);
    tmux.wait_for("two marks", |s| s.contains("2 marked"));
    tmux.keys(&["u"]);
    tmux.wait_for("marks cleared", |s| s.contains("0 marked"));

    // `?` shows help generated from the keymap.
    tmux.keys(&["Escape"]);
    tmux.keys(&["?"]);
    let help = tmux.wait_for("the help popup", |s| {
        s.contains("move_down") || s.contains("move down")
    });
    assert!(help.contains("g g"), "{help}");
    tmux.keys(&["Escape"]);

    // `:target` takes a selector; a bad one is reported in the message line.
    tmux.keys(&[
        ":", "t", "a", "r", "g", "e", "t", " ", "@", "n", "o", "p", "e", "Enter",
    ]);
    tmux.wait_for("the selector error", |s| s.contains("unknown group"));
    tmux.keys(&[
        ":", "t", "a", "r", "g", "e", "t", " ", "l", "a", "b", "*", "Enter",
    ]);
    let s = tmux.wait_for("the target", |s| s.contains("lab1") && !s.contains("web01"));
    assert!(s.contains("lab2"), "{s}");

    // `Q` quits and gives the terminal back.
    tmux.keys(&["Q"]);
    tmux.wait_gone();
}

#[test]
fn mark_two_local_hosts_run_see_the_failure_and_the_output() {
    let home = home_with(INVENTORY);
    let Some(tmux) = start(home.path(), &[], 100, 30) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| s.contains("17/17 hosts"));
    tmux.keys(&["/", "l", "a", "b", "Enter", "Space", "Space"]);
    tmux.wait_for("two marks", |s| s.contains("2 marked"));

    // `!` opens the command line with `run `; lab2 fails with exit 3. (No `;` in the text:
    // tmux would read it as its own command separator.)
    tmux.keys(&["!"]);
    tmux.wait_for("the prefilled command line", |s| s.contains(":run"));
    tmux.keys(&[
        "echo hi from $FLEETDECK_HOST && test $FLEETDECK_HOST = lab1 || exit 3",
        "Enter",
    ]);
    let popup = tmux.wait_for("the confirmation", |s| s.contains("Run on 2 hosts"));
    assert!(popup.contains("lab[1-2]"), "{popup}");
    assert!(popup.contains("environments: lab"), "{popup}");
    tmux.keys(&["Enter"]);

    let runs = tmux.wait_for("the run to finish", |s| {
        s.contains("ok 1") && s.contains("failed 1")
    });
    assert!(runs.contains("ok 1 · failed 1"), "{runs}");
    assert!(runs.contains("1 failed"), "{runs}");

    // Enter on lab2 opens its output.
    tmux.keys(&["j", "Enter"]);
    tmux.wait_for("lab2's output", |s| s.contains("hi from lab2"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the host table again", |s| s.contains("FIRST ERROR LINE"));

    // Nothing in flight: `Q` quits at once.
    tmux.keys(&["Q"]);
    tmux.wait_gone();
    let history = std::fs::read_to_string(home.path().join("data/history.jsonl"))
        .expect("the run is recorded in history.jsonl");
    assert!(history.contains("\"status\":\"failed\""), "{history}");
}

#[test]
fn quitting_with_a_run_in_flight_asks_then_cancels_and_records_it() {
    let home = home_with(INVENTORY);
    let Some(tmux) = start(home.path(), &[], 100, 30) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| s.contains("17/17 hosts"));
    tmux.keys(&["/", "l", "a", "b", "1", "Enter", "Space"]);
    tmux.wait_for("one mark", |s| s.contains("1 marked"));
    tmux.keys(&[":", "run sleep 60", "Enter"]);
    tmux.wait_for("the confirmation", |s| s.contains("Run on 1 host: lab1"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the run in flight", |s| s.contains("1 running"));

    tmux.keys(&["Q"]);
    tmux.wait_for("the quit question", |s| {
        s.contains("in flight will be cancelled")
    });
    tmux.keys(&["n"]);
    tmux.wait_for("the question gone", |s| !s.contains("in flight will be"));
    tmux.keys(&["Q", "y"]);
    // Well before the 60 s sleep ends: the cancel stopped it.
    tmux.wait_gone();
    let history = std::fs::read_to_string(home.path().join("data/history.jsonl"))
        .expect("the cancelled run is recorded in history.jsonl");
    assert!(history.contains("\"status\":\"cancelled\""), "{history}");
}

/// The issue's flow on real SSH: the console on the sshd harness fleet (keys, known_hosts and
/// the ssh_config through `tui --ssh-config`), filter, mark three hosts, run a command one of
/// them fails, see the output and the failure, then find and open the run in History.
#[test]
fn ssh_fleet_mark_three_run_one_fails_then_open_it_in_history() {
    if !sshd_or_skip("ssh_fleet_mark_three_run_one_fails_then_open_it_in_history") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 4,
        ..FleetOptions::default()
    })
    .expect("the sshd harness starts");
    // A local host too, so the filter has something to hide.
    let home = ssh_home(
        &fleet,
        "\n[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n",
    );
    let config = fleet.ssh_config_path().display().to_string();
    let Some(tmux) = start(home.path(), &["--ssh-config", &config], 120, 32) else {
        return;
    };
    tmux.wait_for("the fleet table", |s| {
        s.contains("h004") && s.contains("lab1")
    });
    tmux.keys(&["/", "h", "0", "0"]);
    tmux.wait_for("the filter", |s| s.contains("h001") && !s.contains("lab1"));
    tmux.keys(&["Enter", "Space", "Space", "Space"]);
    tmux.wait_for("three marks", |s| s.contains("3 marked"));

    // Two slots for three hosts: mkdir is atomic, so exactly one host finds none and fails
    // with exit 7. (Which one is the scheduler's business; the counts are not.)
    let slots = tempfile::tempdir().unwrap();
    let dir = slots.path().display();
    let command = format!(
        "mkdir {dir}/a 2>/dev/null || mkdir {dir}/b 2>/dev/null || (echo no slot left >&2 && exit 7) && echo got a slot"
    );
    tmux.keys(&[":", &format!("run {command}"), "Enter"]);
    let popup = tmux.wait_for("the confirmation", |s| s.contains("Run on 3 hosts"));
    assert!(popup.contains("h[001-003]"), "{popup}");
    tmux.keys(&["Enter"]);
    let runs = tmux.wait_for("the run to end with one failure", |s| {
        s.contains("ok 2") && s.contains("failed 1")
    });
    assert!(
        runs.contains("no slot left"),
        "the failure's first line: {runs}"
    );
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("a host's output", |s| {
        s.contains("got a slot") || s.contains("no slot left")
    });
    assert!(pane.contains("h00"), "{pane}");
    tmux.keys(&["Escape"]);

    // History lists the run (read from history.jsonl), newest first; enter opens it.
    tmux.keys(&["5"]);
    let list = tmux.wait_for("the run in history", |s| {
        s.contains("mkdir") && s.contains("2/3")
    });
    assert!(list.contains("failed"), "{list}");
    assert!(list.contains("h[001-003]"), "{list}");
    tmux.keys(&["/", "s", "l", "o", "t", "Enter", "Enter"]);
    let open = tmux.wait_for("the opened run", |s| s.contains("exit 7: no slot left"));
    assert!(open.contains("h001") && open.contains("h003"), "{open}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("h001's recorded output", |s| {
        s.contains("got a slot") || s.contains("no slot left")
    });
    tmux.keys(&["Escape", "Escape"]);
    tmux.wait_for("the list again", |s| s.contains("STARTED UTC"));

    tmux.keys(&["Q"]);
    tmux.wait_gone();
}
