//! Action templates through the binary: `fleetdeck actions [show]`, `fleetdeck run --action`
//! (validation, refusals, confirmation, overrides), hostile parameter values on a real sshd
//! host, secrets that leave no trace in the home, agent operations on a real agent and their
//! SSH equivalents, and the shipped examples.

mod support;
#[path = "support/tmux.rs"]
mod tmux;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::agent::Agent;
use support::cli::{Out, fleetdeck, history_file, home_with, run, ssh_home, write_config};
use support::files::{files_containing, sha256_hex};
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};

const LOCAL_HOSTS: &str = r#"
[[hosts]]
name = "l[1-2]"
transport = "local"
env = "dev"
tags = ["linux"]

[[hosts]]
name = "p1"
transport = "local"
env = "prod"
tags = ["linux", "kubectl"]
"#;

const ECHO: &str = r#"
description = "Print a message back"
category = "test"
command = "printf '%s' {msg}"

[[params]]
name = "msg"
type = "string"
required = true
"#;

const TYPED: &str = r#"
description = "Needs every kind of parameter"
category = "test"
command = "echo {n} {mode} {path} {flag} {wait} {word}"
envs = ["dev"]
tags = ["linux"]
confirm = "typed"
fanout = 7
timeout = "1m"

[[params]]
name = "n"
type = "int"
min = 1
max = 10
required = true

[[params]]
name = "mode"
type = "enum"
choices = ["fast", "slow"]
default = "fast"

[[params]]
name = "path"
type = "host_path"
default = "/tmp"

[[params]]
name = "flag"
type = "bool"
default = false

[[params]]
name = "wait"
type = "duration"
default = "2m"

[[params]]
name = "word"
type = "raw"
regex = "[a-z]+"
default = "abc"
"#;

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/actions")
}

fn history(home: &Path) -> Vec<Value> {
    fs::read_to_string(history_file(home))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every `data` of the `output` events of a `--json` run, per host, concatenated.
fn json_output(stdout: &str, host: &str, stream: &str) -> String {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "output" && e["host"] == host && e["stream"] == stream)
        .map(|e| e["data"].as_str().unwrap().to_string())
        .collect()
}

fn local_home() -> tempfile::TempDir {
    let home = home_with(LOCAL_HOSTS);
    write_config(home.path(), "actions/echo.toml", ECHO);
    write_config(home.path(), "actions/typed.toml", TYPED);
    home
}

#[test]
fn actions_lists_shows_and_suggests() {
    let home = local_home();
    let out = run(home.path(), &["actions"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        format!(
            "NAME   CATEGORY  DESCRIPTION\necho   test      Print a message back\ntyped  test      \
             Needs every kind of parameter\n2 actions in {}\n",
            home.path().join("config/actions").display()
        )
    );
    let out = run(home.path(), &["actions", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["name"], "echo");
    assert_eq!(rows[0]["category"], "test");
    assert_eq!(rows[0]["description"], "Print a message back");
    assert!(
        rows[1]["file"]
            .as_str()
            .unwrap()
            .ends_with("config/actions/typed.toml")
    );

    let out = run(home.path(), &["actions", "show", "typed"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for line in [
        "typed — Needs every kind of parameter",
        "  command     echo {n} {mode} {path} {flag} {wait} {word}",
        "  envs        dev",
        "  tags        linux",
        "  confirm     typed",
        "  shape       fanout 7 · batch - · max-fail - · timeout 1m · priority normal",
        "    n            int 1..=10, required",
        "    mode         one of fast, slow, default \"fast\"",
        "    word         raw, default \"abc\", regex \"[a-z]+\", RAW: inserted unquoted",
    ] {
        assert!(
            out.stdout.contains(line),
            "{line:?} missing:\n{}",
            out.stdout
        );
    }

    let out = run(home.path(), &["actions", "show", "tyepd"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("no action named `tyepd`: did you mean `typed`?"),
        "{}",
        out.stderr
    );

    // A broken file is reported (exit 2) while the rest is still listed.
    write_config(
        home.path(),
        "actions/broken.toml",
        "command = \"echo {nope}\"\n",
    );
    let out = run(home.path(), &["actions"]);
    assert_eq!(out.code, 2);
    assert!(out.stdout.contains("2 actions in"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("actions/broken.toml:1:17: `{nope}` is not a declared parameter"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_validation_error_exits_2_and_records_nothing() {
    let home = local_home();
    write_config(
        home.path(),
        "actions/secret.toml",
        "command = \"echo {pw}\"\n[[params]]\nname = \"pw\"\nsecret = true\nrequired = true\n",
    );
    let typed = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "-t",
            "l1",
            "--action",
            "typed",
            "--yes",
            "--confirm",
            "typed",
        ];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            typed(&["-p", "n=3", "-p", "mdoe=slow"]),
            "unknown parameter `mdoe`: did you mean `mode`?",
        ),
        (typed(&[]), "missing required parameter `n`"),
        (
            typed(&["-p", "n=x"]),
            "parameter `n`: `x` is not a whole number",
        ),
        (
            typed(&["-p", "n=11"]),
            "parameter `n`: 11 is more than the maximum 10",
        ),
        (
            typed(&["-p", "n=1", "-p", "mode=slwo"]),
            "`slwo` is not one of fast, slow (did you mean `slow`?)",
        ),
        (
            typed(&["-p", "n=1", "-p", "path=tmp"]),
            "parameter `path`: `tmp` is not an absolute path",
        ),
        (
            typed(&["-p", "n=1", "-p", "flag=maybe"]),
            "parameter `flag`: `maybe` is not true or false",
        ),
        (
            typed(&["-p", "n=1", "-p", "wait=1500ms"]),
            "is not a whole number of seconds",
        ),
        (
            typed(&["-p", "n=1", "-p", "word=ab;c"]),
            "parameter `word`: `ab;c` does not match `[a-z]+`",
        ),
        (typed(&["-p", "n"]), "-p n: write it as KEY=VALUE"),
        (
            typed(&["-p", "n=1", "-p", "n=2"]),
            "parameter `n` is given twice",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "all".into(),
                "--action".into(),
                "typed".into(),
                "-p".into(),
                "n=1".into(),
                "--yes".into(),
                "--confirm".into(),
                "typed".into(),
            ],
            "p1: env `prod` is not one `typed` applies to (dev)",
        ),
        (
            typed(&["-p", "n=1", "--", "uptime"]),
            "give either a command after `--` or --action typed, not both",
        ),
        (
            vec!["run".into(), "-t".into(), "l1".into()],
            "missing command",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "l1".into(),
                "--action".into(),
                "ecoh".into(),
            ],
            "no action named `ecoh`: did you mean `echo`?",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "l1".into(),
                "--action".into(),
                "typed".into(),
                "-p".into(),
                "n=1".into(),
                "--yes".into(),
            ],
            "must be confirmed by name: pass --confirm typed as well as --yes",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "l1".into(),
                "--action".into(),
                "typed".into(),
                "-p".into(),
                "n=1".into(),
                "--yes".into(),
                "--confirm".into(),
                "tpyed".into(),
            ],
            "--confirm tpyed does not match the action's name `typed`",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "l1".into(),
                "--action".into(),
                "typed".into(),
                "-p".into(),
                "n=1".into(),
            ],
            "pass --yes --confirm typed",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "l1".into(),
                "--action".into(),
                "secret".into(),
                "-p".into(),
                "pw=hunter2".into(),
            ],
            "`pw` is a secret: a value on the command line would sit in your shell history",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "l1".into(),
                "--action".into(),
                "secret".into(),
                "-p".into(),
                "pw=env:FLEETDECK_TEST_NOT_SET".into(),
            ],
            "secret `pw`: environment variable FLEETDECK_TEST_NOT_SET is not set",
        ),
        (
            vec![
                "run".into(),
                "-t".into(),
                "l1".into(),
                "--action".into(),
                "secret".into(),
            ],
            "needs secret `pw` and stdin is not a terminal to ask for it: pass -p pw=env:VAR or -p pw=file:PATH",
        ),
    ];
    for (args, expected) in cases {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = fleetdeck(home.path()).args(&refs).output().unwrap();
        let out = Out::from(out);
        assert_eq!(out.code, 2, "{refs:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(expected),
            "{refs:?}: {expected:?} missing:\n{}",
            out.stderr
        );
        let says_so = out.stderr.contains("nothing was run");
        assert!(
            says_so || expected.starts_with("no action") || expected == "missing command",
            "{refs:?}:\n{}",
            out.stderr
        );
        assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
        assert!(
            !history_file(home.path()).exists(),
            "{refs:?} recorded a run"
        );
    }
}

#[test]
fn a_valid_action_runs_with_template_defaults_and_flags_win() {
    let home = local_home();
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l[1-2]",
            "--action",
            "typed",
            "-p",
            "n=3",
            "-p",
            "flag=yes",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "action typed on 2 host(s): l[1-2]\n  l[1-2] (2) · command:\n    echo 3 fast /tmp true \
         120 abc\n  RAW parameter word = \"abc\" is inserted unquoted\n  fanout 7 · batch - · \
         max-fail - · timeout 1m · priority normal\n"
    );
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l[1-2]",
            "--action",
            "typed",
            "-p",
            "n=3",
            "--dry-run",
            "--fanout",
            "2",
            "--timeout",
            "5s",
            "--batch",
            "1",
            "--max-fail",
            "50%",
            "--priority",
            "high",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("fanout 2 · batch 1 · max-fail 50% · timeout 5s · priority high"),
        "{}",
        out.stdout
    );
    assert!(!history_file(home.path()).exists());

    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l1",
            "--action",
            "typed",
            "-p",
            "n=3",
            "--yes",
            "--confirm",
            "typed",
            "--gather",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("echo 3 fast /tmp false 120 abc")
            || out.stdout.contains("3 fast /tmp false 120 abc"),
        "{}",
        out.stdout
    );
    let runs = history(home.path());
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["command"], "echo 3 fast /tmp false 120 abc");
    assert_eq!(runs[0]["action"]["name"], "typed");
    assert_eq!(runs[0]["action"]["params"]["n"], "3");
    assert_eq!(runs[0]["action"]["params"]["mode"], "fast");
}

/// Values an attacker might try; each must come back exactly, running nothing else.
fn hostile_values(dir: &Path) -> Vec<String> {
    let m = |n: u32| dir.join(format!("marker{n}")).display().to_string();
    vec![
        format!("; touch {}", m(1)),
        format!("$(touch {})", m(2)),
        format!("`touch {}`", m(3)),
        format!("line one\nline two; touch {}", m(4)),
        format!("'\"; touch {}; echo \"'", m(5)),
        format!("\\' && touch {} #", m(6)),
        format!("| touch {}", m(7)),
        "héllo wörld ✓ 日本語 \u{202e}reversed".to_string(),
        "$HOME ~ * ?[a] {a,b} $((1+1)) ${IFS}".to_string(),
        "-n".to_string(),
        "  leading and trailing spaces  ".to_string(),
        String::new(),
    ]
}

#[test]
fn hostile_values_run_literally_on_a_real_sshd_host() {
    if !sshd_or_skip("hostile_values_run_literally_on_a_real_sshd_host") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 1,
        ..FleetOptions::default()
    })
    .unwrap();
    let home = ssh_home(&fleet, "");
    write_config(home.path(), "actions/echo.toml", ECHO);
    let markers = tempfile::tempdir().unwrap();
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    for value in hostile_values(markers.path()) {
        let param = format!("msg={value}");
        let out = run(
            home.path(),
            &[
                "run",
                "--ssh-config",
                &config,
                "-t",
                "h001",
                "--action",
                "echo",
                "-p",
                &param,
                "--json",
            ],
        );
        assert_eq!(
            out.code,
            0,
            "{value:?}: {}\n{}",
            out.stderr,
            fleet.log_tail(10)
        );
        assert_eq!(
            json_output(&out.stdout, "h001", "stdout"),
            value,
            "{}",
            out.stdout
        );
    }
    let left: Vec<_> = fs::read_dir(markers.path()).unwrap().collect();
    assert!(left.is_empty(), "an injection ran: {left:?}");
    // Every run was recorded with its quoted command and the value as given.
    let runs = history(home.path());
    assert_eq!(runs.len(), hostile_values(markers.path()).len());
    assert_eq!(
        runs[0]["action"]["params"]["msg"],
        hostile_values(markers.path())[0]
    );
}

#[test]
fn secrets_from_env_and_file_reach_the_command_and_nothing_else() {
    if !sshd_or_skip("secrets_from_env_and_file_reach_the_command_and_nothing_else") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 2,
        ..FleetOptions::default()
    })
    .unwrap();
    // An agent host too: there the secret travels in the exec frame's stdin.
    let agent_dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(agent_dir.path(), "ag1", "");
    let home = ssh_home(&fleet, &agent_entry(&agent));
    write_config(
        home.path(),
        "actions/hash-secret.toml",
        "description = \"Hash a secret on the host\"\ncommand = \"printf '%s' {pw} | sha256sum; echo user={user}\"\n\
         [[params]]\nname = \"pw\"\nsecret = true\nrequired = true\n[[params]]\nname = \"user\"\ndefault = \"app\"\n",
    );
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    let from_env = "Env-S3cret 'with' \"quotes\" $(and) `ticks` \\ back";
    let from_file = "file-S3cret-\u{e9}\u{2713}";
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("pw.txt");
    fs::write(
        &secret_file,
        format!("{from_file}\nsecond line is ignored\n"),
    )
    .unwrap();
    let file_param = format!("pw=file:{}", secret_file.display());

    for (param, secret) in [
        ("pw=env:FLEETDECK_TEST_PW", from_env),
        (file_param.as_str(), from_file),
    ] {
        let out = fleetdeck(home.path())
            .args([
                "run",
                "--ssh-config",
                &config,
                "-t",
                "all",
                "--action",
                "hash-secret",
                "-p",
                param,
                "--json",
            ])
            .env("FLEETDECK_TEST_PW", from_env)
            .env("FLEETDECK_LOG", "trace")
            .output()
            .unwrap();
        let out = Out::from(out);
        assert_eq!(out.code, 0, "{}\n{}", out.stderr, out.stdout);
        for host in ["h001", "h002", "ag1"] {
            let printed = json_output(&out.stdout, host, "stdout");
            assert_eq!(
                printed,
                format!("{}  -\nuser=app\n", sha256_hex(secret)),
                "{host}"
            );
        }
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
    }
    let runs = history(home.path());
    assert_eq!(runs.len(), 2);
    for r in &runs {
        assert_eq!(r["action"]["params"]["pw"], "<secret>");
        assert!(
            r["command"].as_str().unwrap().starts_with(
                "IFS= read -r FLEETDECK_SECRET_PW || exit 97; printf '%s' \"$FLEETDECK_SECRET_PW\""
            ),
            "{r}"
        );
    }
    // The whole home (config, history, runs/, audit, trace logs) and the agent's folder
    // (its log, journal, lock table), as text and as the base64 of the wire's stdin field.
    assert!(home.path().join("logs").exists());
    for secret in [from_env, from_file] {
        let encoded = fleetdeck::protocol::encode_bytes(format!("{secret}\n").as_bytes());
        for dir in [home.path(), agent_dir.path()] {
            for needle in [secret, encoded.as_str()] {
                let found = files_containing(dir, needle);
                assert!(found.is_empty(), "the secret is in {found:?}");
            }
        }
    }
}

/// A hosts.toml entry `ag1` for a running agent.
fn agent_entry(agent: &Agent) -> String {
    format!(
        "\n[[hosts]]\nname = \"ag1\"\ntransport = \"agent\"\nagent = {{ url = \"{}\", token_file = \"{}\", fingerprint = \"{}\" }}\n",
        agent.url,
        agent.token().display(),
        agent.fingerprint()
    )
}

/// One sshd host and one agent (`ag1`) in a home whose actions/ holds the example NAME.
/// The agent's folder is returned so it lives as long as the test.
fn sshd_and_agent_with_example(
    name: &str,
) -> (SshdFleet, tempfile::TempDir, Agent, tempfile::TempDir) {
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 1,
        ..FleetOptions::default()
    })
    .unwrap();
    let agent_dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(agent_dir.path(), "ag1", "");
    let home = ssh_home(&fleet, &agent_entry(&agent));
    let actions = home.path().join("config/actions");
    fs::create_dir_all(&actions).unwrap();
    let file = format!("{name}.toml");
    fs::copy(examples_dir().join(&file), actions.join(&file)).unwrap();
    (fleet, agent_dir, agent, home)
}

#[test]
fn agent_operation_on_an_agent_and_its_ssh_equivalent_on_sshd() {
    if !sshd_or_skip("agent_operation_on_an_agent_and_its_ssh_equivalent_on_sshd") {
        return;
    }
    let (fleet, _agent_dir, _agent, home) = sshd_and_agent_with_example("file-validation");
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("backup.dump");
    fs::write(&file, vec![7u8; 2 * 1024 * 1024 + 10]).unwrap();
    let path_param = format!("path={}", file.display());
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();

    let out = run(
        home.path(),
        &[
            "run",
            "--ssh-config",
            &config,
            "-t",
            "all",
            "--action",
            "file-validation",
            "-p",
            &path_param,
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("  h001 (1) · command:\n    f="),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  ag1 (1) · agent operation:\n    agent {\"op\":\"file_validation\""),
        "{}",
        out.stdout
    );

    let ok = run(
        home.path(),
        &[
            "run",
            "--ssh-config",
            &config,
            "-t",
            "all",
            "--action",
            "file-validation",
            "-p",
            &path_param,
            "--json",
        ],
    );
    assert_eq!(ok.code, 0, "{}\n{}", ok.stderr, ok.stdout);
    let agent_out = json_output(&ok.stdout, "ag1", "stdout");
    assert!(agent_out.contains("ok   size_gt_mb"), "{agent_out}");
    let ssh_out = json_output(&ok.stdout, "h001", "stdout");
    assert!(
        ssh_out.contains("ok   size_gt_mb: 2097162 bytes"),
        "{ssh_out}"
    );

    let bad = run(
        home.path(),
        &[
            "run",
            "--ssh-config",
            &config,
            "-t",
            "all",
            "--action",
            "file-validation",
            "-p",
            &path_param,
            "-p",
            "min_mb=5",
            "--json",
        ],
    );
    assert_eq!(bad.code, 1, "{}\n{}", bad.stderr, bad.stdout);
    let last = history(home.path()).pop().unwrap();
    let hosts = last["hosts"].as_array().unwrap();
    let ag = hosts.iter().find(|h| h["host"] == "ag1").unwrap();
    assert_eq!(ag["state"], "failed", "{ag}");
    assert!(
        ag["first_error_line"]
            .as_str()
            .unwrap()
            .starts_with("check failed: size_gt_mb"),
        "{ag}"
    );
    let h = hosts.iter().find(|h| h["host"] == "h001").unwrap();
    assert_eq!(h["state"], "failed", "{h}");
    assert!(json_output(&bad.stdout, "h001", "stdout").contains("FAIL size_gt_mb"));
}

#[test]
fn the_shipped_examples_pass_check_and_are_listed() {
    let home = home_with(LOCAL_HOSTS);
    let actions = home.path().join("config/actions");
    fs::create_dir_all(&actions).unwrap();
    let mut names = Vec::new();
    for entry in fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, actions.join(path.file_name().unwrap())).unwrap();
        names.push(path.file_stem().unwrap().to_string_lossy().into_owned());
    }
    names.sort();
    assert_eq!(names.len(), 10, "{names:?}");
    let out = run(home.path(), &["check"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for n in &names {
        assert!(
            out.stdout.contains(&format!(
                "ok  {}",
                actions.join(format!("{n}.toml")).display()
            )),
            "{n}: {}",
            out.stdout
        );
    }
    let out = run(home.path(), &["actions", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let listed: Vec<String> = out
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(listed, names);

    // The local ones really run: disk usage of / on this machine, with its success criteria.
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "l1",
            "--action",
            "disk-usage",
            "-p",
            "max_percent=100",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("l1:  / used "), "{}", out.stdout);
    // kubectl wrappers apply to hosts tagged kubectl only, and restart asks first.
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "all",
            "--action",
            "kubectl-rollout-status",
            "-p",
            "deployment=web",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("l1: has none of the tags `kubectl-rollout-status` needs (kubectl)"),
        "{}",
        out.stderr
    );
    let out = run(
        home.path(),
        &[
            "run",
            "-t",
            "p1",
            "--action",
            "kubectl-rollout-status",
            "-p",
            "deployment=web",
            "--dry-run",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("kubectl --context \"$FLEETDECK_HOST\" -n default rollout status deployment/web --timeout=300s"),
        "{}",
        out.stdout
    );
    // The secret of db-row-count never shows in the preview.
    let out = fleetdeck(home.path())
        .args([
            "run",
            "-t",
            "l1",
            "--action",
            "db-row-count",
            "-p",
            "password=env:FLEETDECK_TEST_DBPW",
            "-p",
            "database=app",
            "-p",
            "table=users",
            "--dry-run",
        ])
        .env("FLEETDECK_TEST_DBPW", "db-pass-xyz")
        .output()
        .unwrap();
    let out = Out::from(out);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("has none of the tags"),
        "{}",
        out.stderr
    );
    write_config(
        home.path(),
        "hosts.toml",
        "[[hosts]]\nname = \"db1\"\ntransport = \"local\"\ntags = [\"postgres\"]\n",
    );
    let out = fleetdeck(home.path())
        .args([
            "run",
            "-t",
            "db1",
            "--action",
            "db-row-count",
            "-p",
            "password=env:FLEETDECK_TEST_DBPW",
            "-p",
            "database=app",
            "-p",
            "table=users",
            "--dry-run",
        ])
        .env("FLEETDECK_TEST_DBPW", "db-pass-xyz")
        .output()
        .unwrap();
    let out = Out::from(out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("PGPASSWORD=\"$FLEETDECK_SECRET_PASSWORD\" psql"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("secret password: sent on the command's stdin"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("db-pass-xyz"));
}

#[test]
fn check_reports_a_name_defined_twice_naming_both_files() {
    let home = tempfile::tempdir().unwrap();
    let first = write_config(
        home.path(),
        "actions/a.toml",
        "name = \"restart\"\ncommand = \"true\"\n",
    );
    let second = write_config(
        home.path(),
        "actions/b.toml",
        "name = \"restart\"\ncommand = \"true\"\n",
    );
    let out = run(home.path(), &["check"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{}:1:1: action `restart` is already defined in {}: rename one",
            second.display(),
            first.display()
        )),
        "{}",
        out.stderr
    );
    // `actions` and `run --action` refuse the name too, naming both files.
    let out = run(home.path(), &["actions"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("is defined in more than one file"),
        "{}",
        out.stderr
    );
}

#[test]
fn on_a_terminal_the_secret_is_asked_masked_and_the_name_must_be_typed() {
    let home = home_with(LOCAL_HOSTS);
    write_config(
        home.path(),
        "actions/hash-typed.toml",
        "description = \"Hash a secret\"\ncommand = \"printf '%s' {pw} | sha256sum\"\nconfirm = \"typed\"\n\
         [[params]]\nname = \"pw\"\nsecret = true\nrequired = true\n",
    );
    let secret = "tmux-S3cret-42";
    let command = format!(
        "{}; echo EXIT=$?; sleep 60",
        tmux::fleetdeck_command(home.path(), "run -t l1 --action hash-typed")
    );
    let Some(term) = tmux::Tmux::start("fdactions", home.path(), &command, 120, 30) else {
        return;
    };
    term.wait_for("the secret prompt", |s| s.contains("pw (hash-typed):"));
    term.text(secret);
    term.key("Enter");
    let screen = term.wait_for("the typed confirmation", |s| {
        s.contains("Type hash-typed to run it on 1 host(s) l1:")
    });
    assert!(!screen.contains(secret), "the secret was echoed:\n{screen}");
    assert!(
        screen.contains("secret pw: sent on the command's stdin, never shown or recorded"),
        "{screen}"
    );
    term.text("hash-typed");
    term.key("Enter");
    let screen = term.wait_for("the end of the run", |s| s.contains("EXIT="));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains(&format!("l1:  {}  -", sha256_hex(secret))),
        "{screen}"
    );
    assert!(!screen.contains(secret), "{screen}");
    assert!(files_containing(home.path(), secret).is_empty());

    // A wrong name runs nothing.
    let command = format!(
        "{}; echo EXIT=$?; sleep 60",
        tmux::fleetdeck_command(home.path(), "run -t l1 --action hash-typed -p pw=env:HOME")
    );
    let Some(term) = tmux::Tmux::start("fdactions2", home.path(), &command, 120, 30) else {
        return;
    };
    term.wait_for("the typed confirmation", |s| {
        s.contains("Type hash-typed to run it")
    });
    term.text("yes");
    term.key("Enter");
    let screen = term.wait_for("the refusal", |s| s.contains("EXIT="));
    assert!(
        screen.contains("not confirmed (expected `hash-typed`); nothing was run"),
        "{screen}"
    );
    assert!(screen.contains("EXIT=2"), "{screen}");
    assert_eq!(history(home.path()).len(), 1);

    // `confirm = "yes"`: a y/N question after the preview; `y` runs it.
    write_config(
        home.path(),
        "actions/ask.toml",
        "command = \"echo asked-and-ran\"\nconfirm = \"yes\"\n",
    );
    let command = format!(
        "{}; echo EXIT=$?; sleep 60",
        tmux::fleetdeck_command(home.path(), "run -t l1 --action ask")
    );
    let Some(term) = tmux::Tmux::start("fdactions3", home.path(), &command, 120, 30) else {
        return;
    };
    let screen = term.wait_for("the question", |s| {
        s.contains("Run ask on 1 host(s) l1? [y/N]")
    });
    assert!(
        screen.contains("action ask on 1 host(s): l1\n  l1 (1) · command:\n    echo asked-and-ran"),
        "{screen}"
    );
    term.text("y");
    term.key("Enter");
    let screen = term.wait_for("the end of the run", |s| s.contains("EXIT="));
    assert!(
        screen.contains("l1:  asked-and-ran") && screen.contains("EXIT=0"),
        "{screen}"
    );
    assert_eq!(history(home.path()).len(), 2);
}

/// A loopback HTTP server answering every request with `status` (at most 20 requests, for at
/// most 60 s). Returns its URL.
fn http_server(status: u16) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut served = 0;
        while served < 20 && std::time::Instant::now() < deadline {
            match listener.accept() {
                Ok((mut conn, _)) => {
                    served += 1;
                    conn.set_nonblocking(false).unwrap();
                    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                        .unwrap();
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf);
                    let _ = conn.write_all(
                        format!(
                            "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        )
                        .as_bytes(),
                    );
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    });
    url
}

#[test]
fn http_health_on_an_agent_and_with_curl_over_ssh() {
    if !sshd_or_skip("http_health_on_an_agent_and_with_curl_over_ssh") {
        return;
    }
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(std::env::var_os("CI").is_none(), "curl is required in CI");
        eprintln!("SKIPPED http_health_on_an_agent_and_with_curl_over_ssh: no curl");
        return;
    }
    let (fleet, _agent_dir, _agent, home) = sshd_and_agent_with_example("http-health");
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    let url = format!("url={}", http_server(200));
    let out = run(
        home.path(),
        &[
            "run",
            "--ssh-config",
            &config,
            "-t",
            "all",
            "--action",
            "http-health",
            "-p",
            &url,
            "--json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, out.stdout);
    assert_eq!(json_output(&out.stdout, "h001", "stdout"), "status 200\n");
    assert!(
        json_output(&out.stdout, "ag1", "stdout").contains("ok"),
        "{}",
        out.stdout
    );

    // Expecting 204 from a server that says 200 fails both (after the template's retries).
    let out = run(
        home.path(),
        &[
            "run",
            "--ssh-config",
            &config,
            "-t",
            "all",
            "--action",
            "http-health",
            "-p",
            &url,
            "-p",
            "status=204",
        ],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stderr, out.stdout);
    let last = history(home.path()).pop().unwrap();
    for h in last["hosts"].as_array().unwrap() {
        assert_eq!(h["state"], "failed", "{h}");
    }
    let ag = last["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "ag1")
        .unwrap();
    assert!(
        ag["first_error_line"]
            .as_str()
            .unwrap()
            .starts_with("check failed:"),
        "{ag}"
    );
}
