//! `fleetdeck wallboard` end to end in tmux, against real agents on loopback: it reads agents
//! with read tokens only (their logs say so) and marks an agent without one; pages rotate and
//! `space` pauses them; the keys that run things in the console do nothing and nothing is
//! recorded; a run made by `fleetdeck run` in the same home shows on the runs page; a killed
//! agent is marked down and comes back when restarted; `--lock` keeps `q` from quitting;
//! invalid pages and selectors exit 2. Every wait is bounded; agents are stopped by pid.

mod support;
#[path = "support/tmux.rs"]
mod tmux;

use std::path::Path;
use std::time::Duration;

use support::agent::Agent;
use support::cli::{self, write_config};
use tmux::{Tmux, fleetdeck_command};

/// A hosts.toml entry for `agent`: its exec token, and its read token when `read`.
fn agent_entry(name: &str, agent: &Agent, read: bool) -> String {
    let mut table = format!(
        "url = \"{}\", fingerprint = \"{}\", token_file = \"{}\"",
        agent.url,
        agent.fingerprint(),
        agent.token().display()
    );
    if read {
        table.push_str(&format!(
            ", read_token_file = \"{}\"",
            agent.dir.join("read.token").display()
        ));
    }
    format!("[[hosts]]\nname = \"{name}\"\ntransport = \"agent\"\nagent = {{ {table} }}\n\n")
}

fn start(home: &Path, term: &str, args: &str, width: u16, height: u16) -> Option<Tmux> {
    // `exec`: the pane's pid is the wallboard itself (signals reach it, not a shell).
    let command = format!("exec env TERM={term} {}", fleetdeck_command(home, args));
    Tmux::start("fdwall", home, &command, width, height)
}

/// The line of the fleet page that shows `host`.
fn row<'a>(screen: &'a str, host: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(&format!("{host} ")))
        .unwrap_or_default()
}

/// Files named `name` anywhere under `dir`.
fn found(dir: &Path, name: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            found(&path, name)
        } else {
            path.file_name().is_some_and(|n| n == name)
        }
    })
}

/// Every file under `dir`, concatenated (an agent's daily log files).
fn read_all(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return String::new();
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                read_all(&path)
            } else {
                std::fs::read_to_string(&path).unwrap_or_default()
            }
        })
        .collect()
}

#[test]
fn the_wallboard_rotates_pauses_runs_nothing_and_shows_what_others_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut a1 = Agent::start(&dir.path().join("a1"), "a1", "");
    // Again with a home of its own, whose logs say the scope of each connection.
    let a1_home = dir.path().join("a1-home");
    let a1_port = a1.port();
    let a1_run = |a1: &mut Agent| {
        let home = a1_home.to_string_lossy().into_owned();
        a1.run_with(&format!("127.0.0.1:{a1_port}"), &["--home", &home]);
    };
    a1.kill();
    a1_run(&mut a1);
    let a2 = Agent::start(&dir.path().join("a2"), "a2", "");
    let home = tempfile::tempdir().unwrap();
    let mut hosts = agent_entry("a1", &a1, true);
    hosts.push_str(&agent_entry("a2", &a2, false));
    hosts.push_str("[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n");
    write_config(home.path(), "hosts.toml", hosts);
    let Some(tmux) = start(
        home.path(),
        "tmux-256color",
        "wallboard --pages fleet,runs --rotate 2s",
        80,
        24,
    ) else {
        return;
    };

    // a1 live over its read token, a2 never contacted.
    let s = tmux.wait_for("a1 open with a cpu figure", |s| {
        row(s, "a1").contains("● open") && row(s, "a1").contains('%')
    });
    assert!(row(&s, "a2").contains("no read token"), "{s}");
    assert!(s.contains("✔ · 2/3 up"), "{s}");

    // Rotation: the runs page comes, then the fleet again.
    tmux.wait_for("the runs page", |s| s.contains("runs · 0 running"));
    tmux.wait_for("the fleet page again", |s| s.contains("fleet · 3 hosts"));

    // Paused: the page stays for longer than two turns.
    tmux.key("Space");
    tmux.wait_for("paused", |s| s.contains("paused"));
    let page = |s: &str| s.contains("fleet · 3 hosts");
    let was_fleet = page(&tmux.screen());
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(page(&tmux.screen()), was_fleet, "{}", tmux.screen());

    // The console's keys that run, cancel, ack or open things: nothing happens here.
    for key in ["!", ":", "r", "X", "p", "a", "Enter", "x", "A", "n", "/"] {
        tmux.key(key);
    }
    tmux.text("rm -rf /tmp/nothing");
    tmux.key("Enter");
    std::thread::sleep(Duration::from_millis(500));
    assert!(tmux.alive());
    let s = tmux.screen();
    assert!(s.contains("paused") && !s.contains("rm -rf"), "{s}");
    for file in ["history.jsonl", "audit.jsonl"] {
        assert!(!found(home.path(), file), "{file} was written");
    }

    // A run by another process of the same home shows on the runs page.
    let out = cli::run(
        home.path(),
        &["run", "-t", "lab1", "--", "echo", "from-elsewhere"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    tmux.key("2");
    tmux.wait_for("the run on the runs page", |s| {
        s.contains("echo from-elsewhere") && s.contains("✔ ok")
    });

    // A killed agent is marked (never shown live), and comes back when restarted.
    tmux.key("1");
    a1.kill();
    let s = tmux.wait_for("a1 marked down", |s| {
        let r = row(s, "a1");
        r.contains("down") || r.contains("connecting") || r.contains("stale")
    });
    assert!(!row(&s, "a1").contains("● open"), "{s}");
    a1_run(&mut a1);
    tmux.wait_for("a1 open again", |s| row(s, "a1").contains("● open"));

    tmux.key("q");
    tmux.wait_gone();
    // Every connection the wallboard made to a1 was a read-scope one.
    let log = read_all(&a1_home);
    let connected: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("console connected"))
        .collect();
    assert!(!connected.is_empty(), "{log}");
    assert!(
        connected
            .iter()
            .all(|l| l.contains("Read") && !l.contains("Exec")),
        "{connected:?}"
    );
}

#[test]
fn a_locked_wallboard_in_a_small_split_quits_only_on_the_word() {
    let home = cli::home_with("[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n");
    let Some(tmux) = start(
        home.path(),
        "screen",
        "wallboard --lock --rotate 0s",
        40,
        10,
    ) else {
        return;
    };
    let s = tmux.wait_for("the counts", |s| {
        s.contains("0/1 up") || s.contains("1/1 up")
    });
    assert!(s.contains("fleet 1/4"), "{s}");
    assert!(s.contains("unlock"), "{s}");
    // It keeps status.json for `fleetdeck status` (tmux's status bar) current.
    let deadline = std::time::Instant::now() + tmux::PATIENCE;
    loop {
        let out = cli::run(home.path(), &["status", "--json"]);
        if out.code == 0 && out.stdout.contains("wallboard") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no status from the wallboard: {} {}",
            out.stdout,
            out.stderr
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    tmux.key("q");
    tmux.key("Escape");
    tmux.key("C-c");
    std::thread::sleep(Duration::from_millis(500));
    assert!(tmux.alive(), "q quit a locked wallboard");
    tmux.key("Right");
    tmux.wait_for("the next page", |s| s.contains("metrics 2/4"));
    tmux.text("unlock");
    tmux.key("Enter");
    tmux.wait_gone();
}

#[test]
fn unknown_pages_bad_selectors_and_no_terminal_exit_2() {
    let home = cli::home_with("[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n");
    let out = cli::run(home.path(), &["wallboard", "--pages", "fleet,graphs"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown page `graphs`"),
        "{}",
        out.stderr
    );
    let out = cli::run(home.path(), &["wallboard", "-t", "web[01-"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("invalid selector"), "{}", out.stderr);
    let out = cli::run(home.path(), &["wallboard", "-t", "cpu>90"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("metric terms"), "{}", out.stderr);
    let out = cli::run(home.path(), &["wallboard", "--rotate", "fast"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    // Into a pipe: said, nothing drawn.
    let out = cli::run(home.path(), &["wallboard"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("needs a terminal"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
}

#[test]
fn a_wide_wallboard_shows_every_page_tab_and_quits_on_q() {
    let home = cli::home_with("[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n");
    let Some(tmux) = start(
        home.path(),
        "tmux-256color",
        "wallboard --pages incidents,runs --rotate 30s",
        200,
        50,
    ) else {
        return;
    };
    let s = tmux.wait_for("the incidents page", |s| s.contains("incidents · "));
    assert!(
        s.contains("fleetdeck wallboard") && s.contains("1 incidents") && s.contains("2 runs"),
        "{s}"
    );
    assert!(s.contains("No active incidents."), "{s}");
    assert!(s.contains("read-only"), "{s}");
    tmux.key("Right");
    tmux.wait_for("the runs page", |s| s.contains("No runs recorded"));
    tmux.key("q");
    tmux.wait_gone();
}

#[test]
fn an_agent_alert_shows_on_the_incidents_page_and_sigterm_ends_the_wallboard() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let watcher = format!(
        "[[watchers]]\nname = \"app-errors\"\nkind = \"log\"\npath = \"{}\"\npattern = \
         \"ERROR\"\ninterval = \"100ms\"\n",
        log.display()
    );
    let a1 = Agent::start(&dir.path().join("a1"), "a1", &watcher);
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "hosts.toml", agent_entry("a1", &a1, true));
    let Some(tmux) = start(
        home.path(),
        "screen",
        "wallboard --pages incidents,fleet --rotate 0s",
        120,
        30,
    ) else {
        return;
    };
    tmux.wait_for("no incidents yet", |s| s.contains("No active incidents."));
    tmux.key("2");
    tmux.wait_for("a1 open", |s| row(s, "a1").contains("● open"));
    tmux.key("1");
    // Let the watcher see the empty file before anything is written to it.
    std::thread::sleep(Duration::from_millis(500));
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"ERROR disk on fire\n").unwrap();
    }
    let s = tmux.wait_for("the incident", |s| {
        !s.contains("No active incidents.") && s.lines().any(|l| l.contains("a1"))
    });
    assert!(s.contains("open"), "{s}");

    // SIGTERM (what tmux kill-session or systemd sends): the wallboard ends by itself.
    let pid = tmux.pane_pid();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(
        comm.trim(),
        "fleetdeck",
        "the pane runs the wallboard itself"
    );
    // SAFETY: signalling the process this test started in its tmux pane.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    tmux.wait_gone();
}
