//! `fleetdeck history rerun ID --failed` of a run that came from an action: planned again
//! from today's template with the recorded values, the secrets given again (never recorded),
//! only on the hosts that did not end ok; a gone or changed template exits 2 with nothing run
//! or recorded; an agent-only action reruns as its agent operation.

mod support;

use std::fs;
use std::path::Path;

use serde_json::Value;
use support::agent::Agent;
use support::cli::{Out, fleetdeck, history_file, home_with, run, write_config};
use support::files::{files_containing, sha256_hex};

const HOSTS: &str = r#"
[[hosts]]
name = "l[1-4]"
transport = "local"
"#;

/// Hashes the secret, echoes a plain value, and fails where `DIR/HOST.fail` exists.
const HASH_SECRET: &str = r#"
description = "Hash a secret; fail where a marker file says so"
command = "printf '%s' {pw} | sha256sum; echo tag={tag}; cd {dir} && test ! -e \"$FLEETDECK_HOST.fail\""

[[params]]
name = "pw"
secret = true
required = true

[[params]]
name = "tag"
default = "plain"

[[params]]
name = "dir"
type = "host_path"
required = true
"#;

/// Runs, oldest first.
fn runs(home: &Path) -> Vec<Value> {
    fs::read_to_string(history_file(home))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// audit.jsonl's lines.
fn audit(home: &Path) -> Vec<Value> {
    fs::read_to_string(home.join("data/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn hosts_where(run: &Value, state: &str) -> Vec<String> {
    let mut names: Vec<String> = run["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["state"] == state)
        .map(|h| h["host"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// `fleetdeck --home HOME ARGS…` with `env` set and stdin not a terminal.
fn run_env(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = fleetdeck(home);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap().into()
}

/// A home with l1-l4 and hash-secret, and a first run that failed on l2 and l4 (their marker
/// files are then removed, so the rerun can succeed). Returns the home, the marker folder,
/// the run's id and the `dir=…` parameter.
fn failed_action_run(secret: &str) -> (tempfile::TempDir, tempfile::TempDir, String, String) {
    let home = home_with(HOSTS);
    write_config(home.path(), "actions/hash-secret.toml", HASH_SECRET);
    let markers = tempfile::tempdir().unwrap();
    for host in ["l2", "l4"] {
        fs::write(markers.path().join(format!("{host}.fail")), "").unwrap();
    }
    let dir = format!("dir={}", markers.path().display());
    let out = run_env(
        home.path(),
        &[
            "run",
            "-t",
            "l[1-4]",
            "--action",
            "hash-secret",
            "-p",
            "pw=env:FD_FIRST_SECRET",
            "-p",
            "tag=blue",
            "-p",
            &dir,
        ],
        &[("FD_FIRST_SECRET", secret)],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.matches(&sha256_hex(secret)).count(),
        4,
        "{}",
        out.stdout
    );
    let first = runs(home.path());
    assert_eq!(first.len(), 1);
    assert_eq!(hosts_where(&first[0], "failed"), ["l2", "l4"]);
    assert_eq!(first[0]["action"]["params"]["pw"], "<secret>");
    for host in ["l2", "l4"] {
        fs::remove_file(markers.path().join(format!("{host}.fail"))).unwrap();
    }
    let id = first[0]["id"].as_str().unwrap().to_string();
    (home, markers, id, dir)
}

#[test]
fn a_failed_action_reruns_on_its_failed_hosts_with_its_values_and_a_secret_given_again() {
    let first_secret = "first-S3cret-value";
    let (home, _markers, id, dir) = failed_action_run(first_secret);

    // No secret and no terminal: exit 2, saying how to pass it; nothing run or recorded.
    let audit_before = audit(home.path()).len();
    let out = run(home.path(), &["history", "rerun", &id, "--failed"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(
            "needs secret `pw` and stdin is not a terminal to ask for it: pass -p pw=env:VAR or -p pw=file:PATH"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(runs(home.path()).len(), 1);
    assert_eq!(audit(home.path()).len(), audit_before);

    // The secret given again (a different one, so it is plainly this one that arrives).
    let second_secret = "second-S3cret-value";
    let out = run_env(
        home.path(),
        &[
            "history",
            "rerun",
            &id[..10],
            "--failed",
            "-p",
            "pw=env:FD_RERUN_SECRET",
        ],
        &[("FD_RERUN_SECRET", second_secret)],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let hash = sha256_hex(second_secret);
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!("l2:  {hash}  -"),
            "l2:  tag=blue".to_string(),
            format!("l4:  {hash}  -"),
            "l4:  tag=blue".to_string(),
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("(action hash-secret) on the 2 host(s)"),
        "{}",
        out.stderr
    );

    let all = runs(home.path());
    assert_eq!(all.len(), 2);
    let rerun = &all[1];
    assert_eq!(hosts_where(rerun, "ok"), ["l2", "l4"]);
    assert_eq!(rerun["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(rerun["action"]["name"], "hash-secret");
    let params = &rerun["action"]["params"];
    assert_eq!(params["pw"], "<secret>");
    assert_eq!(params["tag"], "blue");
    assert_eq!(params["dir"], dir.trim_start_matches("dir="));
    assert!(
        rerun["command"]
            .as_str()
            .unwrap()
            .starts_with("IFS= read -r FLEETDECK_SECRET_PW || exit 97;"),
        "{rerun}"
    );
    let reruns: Vec<Value> = audit(home.path())
        .into_iter()
        .filter(|a| a["action"] == "rerun")
        .collect();
    assert_eq!(reruns.len(), 1, "one rerun line");
    assert_eq!(reruns[0]["run_id"], id.as_str());
    assert_eq!(reruns[0]["targets"], "l[2,4]");
    let what = reruns[0]["what"].as_str().unwrap();
    assert!(
        what.contains("action hash-secret") && what.contains("pw=<secret>"),
        "{what}"
    );

    // Nothing left to rerun on the new run; neither secret is in any file of the home.
    let again = run(
        home.path(),
        &[
            "history",
            "rerun",
            rerun["id"].as_str().unwrap(),
            "--failed",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to rerun"),
        "{}",
        again.stdout
    );
    for secret in [first_secret, second_secret] {
        let found = files_containing(home.path(), secret);
        assert!(found.is_empty(), "the secret is in {found:?}");
    }
}

#[test]
fn a_plain_value_given_again_replaces_the_recorded_one() {
    let (home, _markers, id, _dir) = failed_action_run("s");
    let out = run_env(
        home.path(),
        &[
            "history",
            "rerun",
            &id,
            "--failed",
            "-p",
            "pw=env:FD_S",
            "-p",
            "tag=green",
        ],
        &[("FD_S", "s")],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.matches("tag=green").count(), 2, "{}", out.stdout);
    assert!(!out.stdout.contains("tag=blue"), "{}", out.stdout);
    assert_eq!(runs(home.path())[1]["action"]["params"]["tag"], "green");
    // A literal secret is refused as for `run`.
    let out = run(
        home.path(),
        &["history", "rerun", &id, "--failed", "-p", "pw=hunter2"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    assert_eq!(runs(home.path()).len(), 2);
}

#[test]
fn a_gone_or_changed_template_exits_2_with_nothing_run_or_recorded() {
    let (home, _markers, id, _dir) = failed_action_run("s");
    let template = home.path().join("config/actions/hash-secret.toml");
    let audit_before = audit(home.path()).len();

    fs::remove_file(&template).unwrap();
    let out = run_env(
        home.path(),
        &["history", "rerun", &id, "--failed", "-p", "pw=env:FD_S"],
        &[("FD_S", "s")],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("ran action `hash-secret`, which is not in"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("put actions/hash-secret.toml back and rerun"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("reads its secrets on stdin"),
        "{}",
        out.stderr
    );

    // `tag` renamed to `colour` (required): both named.
    write_config(
        home.path(),
        "actions/hash-secret.toml",
        HASH_SECRET.replace("{tag}", "{colour}").replace(
            "name = \"tag\"\ndefault = \"plain\"",
            "name = \"colour\"\nrequired = true",
        ),
    );
    let out = run_env(
        home.path(),
        &["history", "rerun", &id, "--failed", "-p", "pw=env:FD_S"],
        &[("FD_S", "s")],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("action `hash-secret` has changed since run"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("parameter `tag` is no longer in the template"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "parameter `colour` is required and has no recorded value: give it with -p colour=VALUE"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(runs(home.path()).len(), 1);
    assert_eq!(audit(home.path()).len(), audit_before);
}

#[test]
fn a_gone_template_without_secrets_says_how_to_rerun_its_command_by_hand() {
    let home = home_with(HOSTS);
    write_config(
        home.path(),
        "actions/say.toml",
        "command = \"echo {word}; [ \\\"$FLEETDECK_HOST\\\" = l1 ]\"\n[[params]]\nname = \"word\"\n",
    );
    let out = run(
        home.path(),
        &["run", "-t", "l[1-3]", "--action", "say", "-p", "word=hi"],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let id = runs(home.path())[0]["id"].as_str().unwrap().to_string();
    fs::remove_file(home.path().join("config/actions/say.toml")).unwrap();
    let out = run(home.path(), &["history", "rerun", &id, "--failed"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "to rerun its recorded command by hand: fleetdeck run -t 'l[2-3]' -- 'echo hi; [ \"$FLEETDECK_HOST\" = l1 ]'"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(runs(home.path()).len(), 1);
}

#[test]
fn an_ad_hoc_rerun_refuses_action_parameters() {
    let home = home_with(HOSTS);
    let out = run(
        home.path(),
        &["run", "-t", "l[1-2]", "--", "[ \"$FLEETDECK_HOST\" = l1 ]"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let id = runs(home.path())[0]["id"].as_str().unwrap().to_string();
    let out = run(
        home.path(),
        &["history", "rerun", &id, "--failed", "-p", "a=b"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("ran a command, not an action"),
        "{}",
        out.stderr
    );
    assert_eq!(runs(home.path()).len(), 1);
}

#[test]
fn an_agent_only_action_reruns_as_its_agent_operation() {
    let agent_dir = tempfile::tempdir().unwrap();
    let agent = Agent::start(agent_dir.path(), "ag1", "");
    let hosts = format!(
        "[[hosts]]\nname = \"ag1\"\ntransport = \"agent\"\nagent = {{ url = \"{}\", token_file = \"{}\", fingerprint = \"{}\" }}\n",
        agent.url,
        agent.token().display(),
        agent.fingerprint()
    );
    let home = home_with(&hosts);
    write_config(
        home.path(),
        "actions/has-file.toml",
        "description = \"A file exists\"\n[agent]\nop = \"file_validation\"\npath = \"{path}\"\nexists = true\n\
         [[params]]\nname = \"path\"\ntype = \"host_path\"\nrequired = true\n",
    );
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("later.txt");
    let path = format!("path={}", file.display());
    let out = run(
        home.path(),
        &["run", "-t", "ag1", "--action", "has-file", "-p", &path],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let first = runs(home.path());
    assert!(
        first[0]["command"]
            .as_str()
            .unwrap()
            .starts_with("agent {\"op\":\"file_validation\""),
        "{}",
        first[0]
    );
    fs::write(&file, "now it exists").unwrap();
    let id = first[0]["id"].as_str().unwrap().to_string();
    let out = run(home.path(), &["history", "rerun", &id, "--failed"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let all = runs(home.path());
    assert_eq!(all.len(), 2);
    assert_eq!(hosts_where(&all[1], "ok"), ["ag1"]);
    assert_eq!(all[1]["action"]["name"], "has-file");
}
