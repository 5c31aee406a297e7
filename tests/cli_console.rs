//! Opening the console from the command line: bare `fleetdeck` is the console (it needs a
//! terminal: into a pipe it says so and exits 2 instead of drawing escape codes there),
//! `--help` still lists every command, and `tui` takes the ssh flags `run` has.

mod support;

use support::cli::{home_with, run};

const HOSTS: &str = "[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n";

#[test]
fn bare_fleetdeck_into_a_pipe_refuses_clearly_without_drawing() {
    let home = home_with(HOSTS);
    for args in [&[][..], &["tui"][..]] {
        let out = run(home.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("the console needs a terminal"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("fleetdeck --help"), "{}", out.stderr);
        // Nothing drawn into the pipe: no escape sequence, no usage text.
        assert!(out.stdout.is_empty(), "{args:?}: {:?}", out.stdout);
        assert!(!out.stderr.contains('\x1b'), "{:?}", out.stderr);
    }
}

#[test]
fn help_still_lists_every_command() {
    let home = home_with(HOSTS);
    let out = run(home.path(), &["--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for command in [
        "paths",
        "hosts",
        "run",
        "history",
        "tui",
        "check",
        "completions",
        "metrics",
        "stats",
        "incidents",
        "wallboard",
        "watch",
        "status",
    ] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.trim_start().starts_with(command)),
            "{command} missing:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.contains("also what `fleetdeck` alone does"),
        "{}",
        out.stdout
    );
}

#[test]
fn tui_takes_the_ssh_flags_of_run() {
    let home = home_with(HOSTS);
    let out = run(home.path(), &["tui", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for flag in [
        "--ssh-config <FILE>",
        "--known-hosts <FILE>",
        "--accept-new",
    ] {
        assert!(out.stdout.contains(flag), "{flag}:\n{}", out.stdout);
    }
    // They parse (and the terminal check comes after parsing).
    let out = run(
        home.path(),
        &[
            "tui",
            "--ssh-config",
            "/dev/null",
            "--known-hosts",
            "/dev/null",
            "--accept-new",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("needs a terminal"), "{}", out.stderr);
}
