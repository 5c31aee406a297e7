//! `fleetdeck check` against one fixture per kind of configuration error. Each fixture names
//! the file it stands for and the exact diagnostic it must produce in its header comments.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::cli::{fleetdeck, write_config};

fn header(text: &str, key: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("# {key}: ")).map(str::to_string))
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_fixture_gives_its_diagnostic_and_exit_2() {
    let mut failures = Vec::new();
    let all = fixtures();
    assert!(all.len() >= 15, "fixtures missing: {all:?}");
    for fixture in all {
        let text = fs::read_to_string(&fixture).unwrap();
        let target = header(&text, "target").expect("fixture without `# target:`");
        let expect = header(&text, "expect").expect("fixture without `# expect:`");
        let home = tempfile::tempdir().unwrap();
        write_config(home.path(), &target, &text);
        let out = fleetdeck(home.path()).arg("check").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let wanted = format!("config/{expect}");
        if out.status.code() != Some(2) || !stderr.contains(&wanted) {
            failures.push(format!(
                "{}: exit {:?}, wanted a line containing\n  {wanted}\ngot stderr:\n{stderr}",
                fixture.display(),
                out.status.code()
            ));
        }
        // Nothing is written by a failed check.
        let written: Vec<_> = fs::read_dir(home.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        if written.iter().any(|n| n != "config" && n != "logs") {
            failures.push(format!("{}: check wrote {written:?}", fixture.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn several_files_report_every_problem_with_a_summary() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "config.toml", "[ui]\nthem = \"dark\"\n");
    write_config(
        home.path(),
        "hosts.toml",
        "[[hosts]]\nname = \"a\"\ntags = [\"x y\"]\n\n[[hosts]]\nname = \"b\"\ntransport = \"agent\"\n",
    );
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("config/config.toml:2:1: unknown key `them`: did you mean `theme`?"),
        "{stderr}"
    );
    assert!(
        stderr.contains("config/hosts.toml:2:8: host `a`: tag `x y`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("config/hosts.toml:6:8: host `b`: transport is `agent`"),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with("3 problems in 2 file(s)"),
        "{stderr}"
    );
}

#[test]
fn unreadable_file_is_reported() {
    let home = tempfile::tempdir().unwrap();
    // A folder where a file should be cannot be read, even by root.
    fs::create_dir_all(home.path().join("config/hosts.toml")).unwrap();
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("config/hosts.toml:1:1: cannot read:"),
        "{stderr}"
    );
}

#[test]
fn valid_files_pass() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "config.toml", "[run]\nfanout = 16\n");
    write_config(
        home.path(),
        "hosts.toml",
        "[[hosts]]\nname = \"web[01-03]\"\n",
    );
    write_config(
        home.path(),
        "themes/mine.toml",
        "[palette]\nred = \"#ff0000\"\n",
    );
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("hosts.toml (3 hosts)"), "{stdout}");
    assert!(stdout.contains("themes/mine.toml"), "{stdout}");
}

#[test]
fn malformed_theme_toml_is_caught() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "themes/bad.toml", "[palette\n");
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("config/themes/bad.toml:1:"), "{stderr}");
}

#[test]
fn empty_home_is_fine() {
    let home = tempfile::tempdir().unwrap();
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("every setting is at its default"));
}
