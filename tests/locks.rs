//! Host locks: two consoles ("laptops", each its own home) contending for one host over a
//! real sshd and a real agent, TTL expiry and reclaim, refused and forced releases (audited),
//! a read token, an agent restart, and the library API over the local transport.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetdeck::config::Home;
use fleetdeck::config::settings::LockSettings;
use fleetdeck::config::units::HumanDuration;
use fleetdeck::engine::locks::LockManager;
use fleetdeck::inventory::{Host, TransportKind};
use fleetdeck::transport::ErrorKind;
use fleetdeck::transport::local::LocalTransport;
use support::agent::Agent;
use support::cli::{Out, home_with, run, ssh_home, write_config};
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};

const BIN: &str = env!("CARGO_BIN_EXE_fleetdeck");
/// Liveness bound for one process or one polling loop (never a speed assertion).
const PATIENCE: Duration = Duration::from_secs(60);

/// Points `home`'s host-side lock folder at `remote_dir` (never the shared /tmp default).
fn lock_config(home: &Path, remote_dir: &Path) {
    write_config(
        home,
        "config.toml",
        format!("[locks]\nremote_dir = \"{}\"\n", remote_dir.display()),
    );
}

/// Starts `fleetdeck --home HOME ARGS…` without waiting.
fn spawn(home: &Path, args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("FLEETDECK_HOME")
        .env_remove("FLEETDECK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: std::process::Child) -> Out {
    child.wait_with_output().unwrap().into()
}

/// The run id `locks take` printed.
fn run_id_of(out: &Out) -> String {
    let at = out.stdout.find("(run ").expect(&out.stdout) + 5;
    out.stdout[at..].split(')').next().unwrap().to_string()
}

/// Two `locks take` started together: exactly one wins, the other names the winner.
fn contend(a: &Path, b: &Path, args: &[&str]) -> (Out, Out) {
    let first = spawn(a, args);
    let second = spawn(b, args);
    let (oa, ob) = (finish(first), finish(second));
    let codes = (oa.code, ob.code);
    assert!(
        codes == (0, 1) || codes == (1, 0),
        "{codes:?}\nA: {}{}\nB: {}{}",
        oa.stdout,
        oa.stderr,
        ob.stdout,
        ob.stderr
    );
    if oa.code == 0 { (oa, ob) } else { (ob, oa) }
}

fn audit_lines(home: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(home.join("data/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Retries `args` until it exits 0 (bounded); the last output.
fn until_ok(home: &Path, args: &[&str]) -> Out {
    let start = Instant::now();
    loop {
        let out = run(home, args);
        if out.code == 0 || start.elapsed() > PATIENCE {
            return out;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn two_laptops_contend_for_one_sshd_host() {
    if !sshd_or_skip("two_laptops_contend_for_one_sshd_host") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 1,
        ..FleetOptions::default()
    })
    .unwrap();
    let remote = tempfile::tempdir().unwrap();
    let (a, b) = (ssh_home(&fleet, ""), ssh_home(&fleet, ""));
    lock_config(a.path(), remote.path());
    lock_config(b.path(), remote.path());
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    let ssh = ["--ssh-config", config.as_str()];
    let take: Vec<&str> = [
        &["locks", "take", "-t", "h001", "--reason", "disk swap"][..],
        &ssh[..],
    ]
    .concat();

    let (winner, loser) = contend(a.path(), b.path(), &take);
    let run_id = run_id_of(&winner);
    assert!(
        winner.stdout.contains("h001: locked until"),
        "{}",
        winner.stdout
    );
    assert!(
        loser.stderr.contains("h001: locked by "),
        "{}",
        loser.stderr
    );
    assert!(
        loser.stderr.contains(&format!("(run {run_id})")),
        "{}",
        loser.stderr
    );
    assert!(loser.stderr.contains("disk swap"), "{}", loser.stderr);
    assert!(loser.stderr.contains("--force"), "{}", loser.stderr);
    // Which home won: the one whose lock list names the run.
    let (win_home, lose_home) = if run(a.path(), &["locks"]).stdout.contains(&run_id) {
        (a.path(), b.path())
    } else {
        (b.path(), a.path())
    };
    let listed = run(win_home, &["locks", "--json"]);
    let lock: serde_json::Value = serde_json::from_str(listed.stdout.trim()).unwrap();
    assert_eq!(lock["host"], "h001");
    assert_eq!(lock["run_id"], run_id.as_str());
    assert_eq!(lock["expired"], false);
    assert!(run(lose_home, &["locks"]).stdout.contains("no host locks"));

    // Still held: the loser cannot take it, nor release it without --force.
    let again = run(lose_home, &take);
    assert_eq!(again.code, 1, "{}", again.stderr);
    let release: Vec<&str> = [&["locks", "release", "-t", "h001"][..], &ssh[..]].concat();
    let refused = run(lose_home, &release);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains(&run_id), "{}", refused.stderr);

    // The owner releases; then the other laptop gets it.
    let released = run(win_home, &release);
    assert_eq!(released.code, 0, "{}", released.stderr);
    assert!(
        released.stdout.contains("h001: released"),
        "{}",
        released.stdout
    );
    let taken = run(lose_home, &take);
    assert_eq!(taken.code, 0, "{}", taken.stderr);
    let second_run = run_id_of(&taken);

    // A forced release from the first laptop breaks it, and is audited there.
    let force: Vec<&str> = [&release[..], &["--force"][..]].concat();
    let forced = run(win_home, &force);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    let audit = audit_lines(win_home);
    let line = audit
        .iter()
        .find(|l| l["action"] == "force-unlock")
        .expect("no force-unlock audit line");
    assert_eq!(line["targets"], "h001");
    assert_eq!(line["result"], "ok");
    assert!(
        line["what"].as_str().unwrap().contains(&second_run),
        "{line}"
    );
    assert!(line["who"].as_str().unwrap().contains('@'), "{line}");
    // Gone on the host: the first laptop can take it.
    assert_eq!(run(win_home, &take).code, 0);
    assert!(
        audit_lines(lose_home)
            .iter()
            .all(|l| l["action"] != "force-unlock")
    );
}

#[test]
fn an_expired_sshd_lock_is_reclaimed_by_the_other_laptop() {
    if !sshd_or_skip("an_expired_sshd_lock_is_reclaimed_by_the_other_laptop") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 1,
        ..FleetOptions::default()
    })
    .unwrap();
    let remote = tempfile::tempdir().unwrap();
    let (a, b) = (ssh_home(&fleet, ""), ssh_home(&fleet, ""));
    lock_config(a.path(), remote.path());
    lock_config(b.path(), remote.path());
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    let short = [
        "locks",
        "take",
        "-t",
        "h001",
        "--ttl",
        "1s",
        "--ssh-config",
        &config,
    ];
    let first = run(a.path(), &short);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let long = [
        "locks",
        "take",
        "-t",
        "h001",
        "--ttl",
        "10m",
        "--ssh-config",
        &config,
    ];
    let reclaimed = until_ok(b.path(), &long);
    assert_eq!(reclaimed.code, 0, "{}", reclaimed.stderr);
    // A's own file stays until released, listed as expired once its time is up (the host's
    // clock counts whole seconds, so the host may expire it a little sooner).
    let start = Instant::now();
    loop {
        let listed = run(a.path(), &["locks", "--json"]);
        let lock: serde_json::Value = serde_json::from_str(listed.stdout.trim()).unwrap();
        assert_eq!(lock["host"], "h001");
        if lock["expired"] == true {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "{}", listed.stdout);
        std::thread::sleep(Duration::from_millis(200));
    }
    // And A is now refused, naming B's run.
    let refused = run(a.path(), &long);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains(&run_id_of(&reclaimed)),
        "{}",
        refused.stderr
    );
}

fn agent_hosts_toml(agent: &Agent, token: &Path) -> String {
    format!(
        "[[hosts]]\nname = \"a1\"\ntransport = \"agent\"\nagent = {{ url = \"{}\", token_file = \"{}\", fingerprint = \"{}\" }}\n",
        agent.url,
        token.display(),
        agent.fingerprint()
    )
}

#[test]
fn two_laptops_contend_for_one_agent_host_and_the_lock_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = Agent::start(dir.path(), "a1", "");
    let hosts = agent_hosts_toml(&agent, &agent.token());
    let (a, b) = (home_with(&hosts), home_with(&hosts));
    let take = ["locks", "take", "-t", "a1", "--ttl", "10m"];
    let (winner, loser) = contend(a.path(), b.path(), &take);
    let run_id = run_id_of(&winner);
    assert!(loser.stderr.contains("a1: locked by "), "{}", loser.stderr);
    assert!(loser.stderr.contains(&run_id), "{}", loser.stderr);
    let (win_home, lose_home) = if run(a.path(), &["locks"]).stdout.contains(&run_id) {
        (a.path(), b.path())
    } else {
        (b.path(), a.path())
    };
    // No shell on the agent host was involved: the lock is in the agent's table.
    let table = std::fs::read_to_string(dir.path().join("locks.json")).unwrap();
    assert!(table.contains(&run_id), "{table}");

    // A read token may not take locks.
    let read_home = home_with(&agent_hosts_toml(&agent, &dir.path().join("read.token")));
    let read = run(read_home.path(), &take);
    assert_ne!(read.code, 0);
    assert!(read.stderr.contains("read scope"), "{}", read.stderr);

    // The agent restarts on the same port: the lock is still there.
    let port = agent.port();
    agent.stop();
    agent.run(&format!("127.0.0.1:{port}"));
    let after = run(lose_home, &take);
    assert_eq!(after.code, 1, "{}", after.stderr);
    assert!(after.stderr.contains(&run_id), "{}", after.stderr);
    let release = ["locks", "release", "-t", "a1"];
    assert_eq!(run(lose_home, &release).code, 1);
    assert_eq!(run(win_home, &release).code, 0);
    assert_eq!(run(lose_home, &take).code, 0);
    let forced = run(win_home, &["locks", "release", "-t", "a1", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(
        audit_lines(win_home)
            .iter()
            .any(|l| l["action"] == "force-unlock" && l["result"] == "ok")
    );
    assert!(
        !std::fs::read_to_string(dir.path().join("locks.json"))
            .unwrap()
            .contains("run_id")
    );
}

#[test]
fn two_processes_on_one_home_contend_for_a_local_host() {
    let home = home_with("[[hosts]]\nname = \"lab1\"\ntransport = \"local\"\n");
    let remote = tempfile::tempdir().unwrap();
    lock_config(home.path(), remote.path());
    let take = ["locks", "take", "-t", "lab1"];
    let (winner, loser) = contend(home.path(), home.path(), &take);
    assert!(
        loser.stderr.contains(&run_id_of(&winner)),
        "{}",
        loser.stderr
    );
    let listed = run(home.path(), &["locks"]);
    assert!(listed.stdout.contains("lab1"), "{}", listed.stdout);
    assert_eq!(
        run(home.path(), &["locks", "release", "-t", "lab1"]).code,
        0
    );
    assert!(
        run(home.path(), &["locks"])
            .stdout
            .contains("no host locks")
    );
    // Bad input: exit 2, nothing done.
    assert_eq!(
        run(home.path(), &["locks", "take", "-t", "nomatch["]).code,
        2
    );
    assert_eq!(
        run(home.path(), &["locks", "take", "-t", "lab1", "--ttl", "0s"]).code,
        2
    );
}

fn manager(home: &Path, remote: &Path, owner: &str) -> LockManager {
    let settings = LockSettings {
        ttl: HumanDuration(Duration::from_secs(60)),
        remote_dir: remote.display().to_string(),
    };
    LockManager::new(&Home::under(home), &settings, owner.to_string())
}

#[tokio::test]
async fn lock_manager_acquires_and_releases_over_the_local_transport() {
    let (home_a, home_b, remote) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut host = Host::ad_hoc("lab 1; $(touch x)");
    host.transport = TransportKind::Local;
    let t: Arc<dyn fleetdeck::transport::Transport> = Arc::new(LocalTransport);
    let ttl = Duration::from_secs(60);
    let ct = Duration::from_secs(5);
    let a = manager(home_a.path(), remote.path(), "alice@laptop");
    let b = manager(home_b.path(), remote.path(), "bob@desk");

    let held = a.acquire(&host, t.clone(), "RUN-A", ttl, ct).await.unwrap();
    assert_eq!(held.holder().owner, "alice@laptop");
    assert_eq!(held.holder().run_id, "RUN-A");
    // Another home: refused on the host, naming the holder; its local lock given back.
    let e = b
        .acquire(&host, t.clone(), "RUN-B", ttl, ct)
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::Locked);
    assert!(
        e.message.contains("alice@laptop (run RUN-A)"),
        "{}",
        e.message
    );
    assert!(b.list().unwrap().is_empty());
    // The same home, another run: refused locally, before the host is asked. Proof: through
    // a transport that cannot reach this host at all (an agent transport, and the host has no
    // agent table), the answer is still `Locked`, not that transport's error.
    let unreachable: Arc<dyn fleetdeck::transport::Transport> = Arc::new(
        fleetdeck::transport::agent::AgentTransport::new(home_a.path(), "test@here"),
    );
    let e = a
        .acquire(&host, unreachable.clone(), "RUN-C", ttl, ct)
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::Locked, "{}", e.message);
    assert!(e.message.contains("RUN-A"), "{}", e.message);
    let e = b
        .acquire(&host, unreachable, "RUN-D", ttl, ct)
        .await
        .err()
        .unwrap();
    assert_eq!(
        e.kind,
        ErrorKind::Io,
        "another home must ask the host: {}",
        e.message
    );
    assert!(
        b.list().unwrap().is_empty(),
        "the local half was not given back"
    );

    held.release().await.unwrap();
    assert!(a.list().unwrap().is_empty());
    let b_lock = b.acquire(&host, t.clone(), "RUN-B", ttl, ct).await.unwrap();
    b_lock.release().await.unwrap();
    // Nothing left on the "host".
    assert_eq!(std::fs::read_dir(remote.path()).unwrap().count(), 0);
    assert!(!Path::new("x").exists());
}

#[test]
fn an_action_with_requires_lock_waits_for_nobody_and_names_the_holder() {
    if !sshd_or_skip("an_action_with_requires_lock_waits_for_nobody_and_names_the_holder") {
        return;
    }
    let fleet = SshdFleet::start(FleetOptions {
        hosts: 1,
        ..FleetOptions::default()
    })
    .unwrap();
    let remote = tempfile::tempdir().unwrap();
    let (a, b) = (ssh_home(&fleet, ""), ssh_home(&fleet, ""));
    lock_config(a.path(), remote.path());
    lock_config(b.path(), remote.path());
    write_config(
        b.path(),
        "actions/guarded.toml",
        "description = \"echo under a lock\"\ncommand = \"echo ran-under-lock\"\nrequires_lock = true\nlock_ttl = \"5m\"\n",
    );
    let config = fleet.ssh_config_path().to_str().unwrap().to_string();
    let held = run(
        a.path(),
        &["locks", "take", "-t", "h001", "--ssh-config", &config],
    );
    assert_eq!(held.code, 0, "{}", held.stderr);
    let holder_run = run_id_of(&held);
    let action = [
        "run",
        "-t",
        "h001",
        "--action",
        "guarded",
        "--yes",
        "--ssh-config",
        &config,
    ];
    let refused = run(b.path(), &action);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    let all = format!("{}{}", refused.stdout, refused.stderr);
    assert!(all.contains(&holder_run), "{all}");
    assert!(!refused.stdout.contains("h001: ran-under-lock"), "{all}");

    assert_eq!(
        run(
            a.path(),
            &["locks", "release", "-t", "h001", "--ssh-config", &config]
        )
        .code,
        0
    );
    let ran = run(b.path(), &action);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("ran-under-lock"), "{}", ran.stdout);
    // Given back at the end, here and on the host.
    assert!(run(b.path(), &["locks"]).stdout.contains("no host locks"));
    assert_eq!(std::fs::read_dir(remote.path()).unwrap().count(), 0);
}
