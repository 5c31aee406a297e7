//! `fleetdeck check` against one fixture per kind of configuration error. Each fixture names
//! the file it stands for and the exact diagnostic it must produce in its header comments.
//! A target is relative to the config folder, except `agent/…`: the agent folder's files
//! (`data/agent/` of the home), whose expected path is then relative to the data folder.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::cli::{Out, fleetdeck, run, write_config};

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

/// Writes `HOME/data/NAME` (NAME starts with `agent/`: the agent folder `paths` lists).
fn write_agent_file(home: &Path, name: &str, contents: &str) -> PathBuf {
    let path = home.join("data").join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, contents).unwrap();
    path
}

/// Asserts how `fleetdeck check` ended: its exit code, every one of `lines` in its stderr, and
/// the stderr's last line, the summary.
fn assert_reported(out: &Out, code: i32, lines: &[&str], summary: &str) {
    assert_eq!(out.code, code, "{}", out.stderr);
    for line in lines {
        assert!(out.stderr.contains(line), "{line} missing:\n{}", out.stderr);
    }
    assert!(out.stderr.trim_end().ends_with(summary), "{}", out.stderr);
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
        let wanted = if target.starts_with("agent/") {
            write_agent_file(home.path(), &target, &text);
            format!("data/{expect}")
        } else {
            write_config(home.path(), &target, &text);
            format!("config/{expect}")
        };
        let out = fleetdeck(home.path()).arg("check").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
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
        let placed = if target.starts_with("agent/") {
            "data"
        } else {
            "config"
        };
        if written.iter().any(|n| n != placed && n != "logs") {
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
    assert_reported(
        &run(home.path(), &["check"]),
        2,
        &[
            "config/config.toml:2:1: unknown key `them`: did you mean `theme`?",
            "config/hosts.toml:3:8: host `a`: tag `x y`",
            "config/hosts.toml:6:8: host `b`: transport is `agent`",
        ],
        "3 problems in 2 file(s)",
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

/// `fleetdeck agent init` into the home's agent folder; the hosts.toml entry it prints.
fn agent_init(home: &Path) -> String {
    let out = fleetdeck(home)
        .args(["agent", "init", "--name", "app7"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let start = stdout
        .find("[[hosts]]")
        .expect("no hosts.toml entry printed");
    let entry: String = stdout[start..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(entry.contains("fingerprint = \"sha256:"), "{entry}");
    entry
}

#[test]
fn a_fresh_agent_folder_and_its_printed_entry_pass() {
    let home = tempfile::tempdir().unwrap();
    let entry = agent_init(home.path());
    write_config(home.path(), "hosts.toml", &entry);
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for file in [
        "data/agent/agent.toml (0 watcher(s))",
        "data/agent/tokens.toml",
        "config/hosts.toml (1 hosts)",
    ] {
        assert!(stdout.contains(file), "{file} missing:\n{stdout}");
    }
}

#[test]
fn agent_folder_problems_are_reported_with_the_config_ones() {
    let home = tempfile::tempdir().unwrap();
    agent_init(home.path());
    let agent = home.path().join("data/agent");
    let mut config = fs::read_to_string(agent.join("agent.toml")).unwrap();
    config.push_str(
        "\n[[watchers]]\nname = \"root-disk\"\nkind = \"metric\"\nmetric = \"disk_pct\"\nabove = 90.0\n",
    );
    fs::write(agent.join("agent.toml"), &config).unwrap();
    fs::write(agent.join("tokens.toml"), "[[tokens]]\nscope = \"exec\"\n").unwrap();
    write_config(home.path(), "config.toml", "[ui]\nthem = \"dark\"\n");
    let watchers_line = config.lines().position(|l| l == "[[watchers]]").unwrap() + 1;
    assert_reported(
        &run(home.path(), &["check"]),
        2,
        &[
            &format!(
                "data/agent/agent.toml:{watchers_line}:1: watcher `root-disk` (kind = \"metric\"): `mount` is required"
            ),
            "data/agent/tokens.toml:1:1: missing field `sha256`",
        ],
        "3 problems in 3 file(s)",
    );
}

#[test]
fn a_missing_agent_file_is_a_warning() {
    let home = tempfile::tempdir().unwrap();
    agent_init(home.path());
    fs::remove_file(home.path().join("data/agent/tokens.toml")).unwrap();
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("data/agent/tokens.toml:1:1: warning: missing"),
        "{stderr}"
    );
}

#[test]
fn a_remote_agent_token_file_missing_here_is_only_a_warning() {
    let fp = "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "hosts.toml",
        format!(
            "[[hosts]]\nname = \"app7\"\ntransport = \"agent\"\nagent = {{ url = \"wss://10.0.0.7:7443\", token_file = \"tokens/app7.token\", fingerprint = \"{fp}\" }}\n"
        ),
    );
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Relative to hosts.toml's folder, as the transport reads it.
    let token = home.path().join("config/tokens/app7.token");
    assert!(
        stderr.contains(&format!(
            "config/hosts.toml:4:53: warning: host `app7`: token file {} does not exist",
            token.display()
        )),
        "{stderr}"
    );
    // Once the file is there, the same entry is clean; the token never reaches the output.
    write_config(home.path(), "tokens/app7.token", "s3cret-token\n");
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(!stdout.contains("s3cret"), "{stdout}");
}

#[test]
fn a_loopback_agent_token_file_missing_here_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "hosts.toml",
        "[[hosts]]\nname = \"demo1\"\ntransport = \"agent\"\nagent = { url = \"ws://127.0.0.1:7443\", token_file = \"demo.token\" }\n",
    );
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let token = home.path().join("config/demo.token");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "config/hosts.toml:4:53: host `demo1`: token file {} does not exist",
            token.display()
        )),
        "{stderr}"
    );
    write_config(home.path(), "demo.token", "t0ken\n");
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_read_token_file_is_checked_like_the_exec_one_and_may_stand_alone() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "hosts.toml",
        "[[hosts]]\nname = \"wall1\"\ntransport = \"agent\"\nagent = { url = \"ws://127.0.0.1:7443\", read_token_file = \"read.token\" }\n",
    );
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let token = home.path().join("config/read.token");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "config/hosts.toml:4:58: host `wall1`: token file {} does not exist (copy the \
             agent's read.token there",
            token.display()
        )),
        "{stderr}"
    );
    // With the read token there and no exec token at all, the entry is clean: such a host can
    // be watched (and a run on it says "no exec token").
    write_config(home.path(), "read.token", "r3ad\n");
    let out = fleetdeck(home.path()).arg("check").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("r3ad") && !String::from_utf8_lossy(&out.stdout).contains("r3ad"));
}

/// A keymap that binds Fleet-only keys (sorting) in `[global]` still checks (and loads), with a
/// warning per such key naming file:line:column and the section it belongs in. (Marking works
/// in the Fleet table and the Metrics heatmap, so a `[global]` mark is not warned about.)
#[test]
fn fleet_keys_in_global_are_warnings_saying_where_they_belong() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "keymaps/old.toml",
        "[global]\n\"j\" = \"move_down\"\n\"o\" = \"sort_next\"\n\"x\" = \"sort_reverse\"\n\"m\" = \"mark\"\n",
    );
    write_config(home.path(), "config.toml", "[ui]\nkeymap = \"old\"\n");
    let out = run(home.path(), &["check"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for (at, key, action) in [("3:1", "o", "sort_next"), ("4:1", "x", "sort_reverse")] {
        let wanted = format!(
            "keymaps/old.toml:{at}: warning: `{key}` = \"{action}\" is in [global] but does \
             something only in [fleet] (Fleet): move it to [fleet]"
        );
        assert!(out.stderr.contains(&wanted), "{wanted}\n{}", out.stderr);
    }
    assert!(!out.stderr.contains("old.toml:2:"), "{}", out.stderr);
    assert!(!out.stderr.contains("old.toml:5:"), "{}", out.stderr);
}

#[test]
fn runbooks_are_checked_against_the_action_templates() {
    let home = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in [
        "service-restart",
        "service-status",
        "disk-usage",
        "log-tail-grep",
    ] {
        let text = fs::read_to_string(examples.join(format!("actions/{name}.toml"))).unwrap();
        write_config(home.path(), &format!("actions/{name}.toml"), &text);
    }
    let shipped = fs::read_to_string(examples.join("runbooks.toml")).unwrap();
    write_config(home.path(), "runbooks.toml", &shipped);
    let out = run(home.path(), &["check"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("runbooks.toml (6 rules)"),
        "{}",
        out.stdout
    );

    write_config(
        home.path(),
        "runbooks.toml",
        "[[rules]]\nhint = \"h\"\naction = \"service-restart\"\n\
         params = { unti = \"{labels.unit}\" }\n\
         [[rules]]\nhint = \"h\"\naction = \"disk-usage\"\nparams = { path = \"{label.mount}\" }\n",
    );
    assert_reported(
        &run(home.path(), &["check"]),
        2,
        &[
            "config/runbooks.toml:4:12: action `service-restart` has no parameter `unti`: did you mean `unit`? (it has unit)",
            "config/runbooks.toml:8:20: `{label.mount}` is not a placeholder: did you mean `{labels.mount}`?",
        ],
        "2 problems in 1 file(s)",
    );
}

#[test]
fn a_threshold_selector_naming_an_unknown_group_is_reported_at_its_line() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "hosts.toml",
        "[[hosts]]\nname = \"web[1-2]\"\ngroups = [\"web\"]\n",
    );
    write_config(
        home.path(),
        "config.toml",
        "[[thresholds]]\nmetric = \"disk\"\nabove = 90\nselector = \"@web\"\n\n\
         [[thresholds]]\nmetric = \"cpu\"\nabove = 95\nselector = \"@wbe\"\n",
    );
    let out = run(home.path(), &["check"]);
    assert_reported(
        &out,
        2,
        &[
            "config/config.toml:9:12: threshold `cpu above 95 on @wbe`: selector `@wbe`: unknown group `@wbe`",
        ],
        "1 problem in 1 file(s)",
    );
    assert!(!out.stdout.contains("config.toml\n"), "{}", out.stdout);
}

#[test]
fn a_bad_check_is_reported_at_its_line() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "config.toml",
        "[[checks]]\nname = \"api\"\nevery = \"30s\"\ntarget = \"all\"\n\
         http = { url = \"http://{address}:8080/health\", status = 42 }\n",
    );
    let out = run(home.path(), &["check"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("config/config.toml:")
            && out.stderr.contains("`status` must be an HTTP status"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_check_naming_an_unknown_action_or_group_is_reported_at_its_line() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        "hosts.toml",
        "[[hosts]]\nname = \"web[1-2]\"\ngroups = [\"web\"]\n",
    );
    write_config(
        home.path(),
        "config.toml",
        "[[checks]]\nname = \"disk\"\nevery = \"1m\"\ntarget = \"@wbe\"\naction = \"disk-usgae\"\n",
    );
    let out = run(home.path(), &["check"]);
    assert_reported(
        &out,
        2,
        &[
            "config/config.toml:4:10: check `disk`: target `@wbe`: unknown group `@wbe`",
            "config/config.toml:5:10: check `disk`: action `disk-usgae`: no action named `disk-usgae`",
        ],
        "2 problems in 1 file(s)",
    );
}
