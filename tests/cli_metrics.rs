//! `fleetdeck metrics` against real hosts: a loopback OpenSSH fleet probed over SSH (values
//! checked against this machine's /proc, since the "hosts" are this machine), a local host
//! with no source (exit 3, said why), and bad input (exit 2).

mod support;

use serde_json::Value;
use support::cli::{fleetdeck, home_with, ssh_home};
use support::node_exporter::{NodeExporter, node_exporter_or_skip};
use support::proc_here::{load1_here, mem_pct_here};
use support::sshd::{FleetOptions, SshdFleet, sshd_or_skip};

fn fleet(hosts: usize) -> SshdFleet {
    SshdFleet::start(FleetOptions {
        hosts,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("starting the sshd fleet: {e}"))
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn ssh_hosts_are_sampled_through_the_probe_and_match_proc() {
    if !sshd_or_skip("ssh_hosts_are_sampled_through_the_probe_and_match_proc") {
        return;
    }
    let fleet = fleet(2);
    let home = ssh_home(&fleet, "");
    let out = fleetdeck(home.path())
        .args(["metrics", "--json", "--ssh-config"])
        .arg(fleet.ssh_config_path())
        .arg("--known-hosts")
        .arg(fleet.known_hosts_path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (mem_here, load_here) = (mem_pct_here(), load1_here());
    for line in &lines {
        assert_eq!(line["source"], "ssh", "{line}");
        assert!(line.get("error").is_none(), "{line}");
        let cpu = line["cpu_pct"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&cpu), "{line}");
        let mem = line["mem_pct"].as_f64().unwrap();
        // The same machine, a moment apart: within a few points.
        assert!((mem - mem_here).abs() < 5.0, "{mem} vs {mem_here}: {line}");
        let load = line["load1"].as_f64().unwrap();
        assert!(
            (load - load_here).abs() < 2.0,
            "{load} vs {load_here}: {line}"
        );
        let disk = line["disk_pct"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&disk), "{line}");
        assert!(line["net_rx_bps"].as_f64().is_some(), "{line}");
        assert!(
            line["ts"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
    }
}

#[test]
fn a_host_with_no_source_says_why_and_exits_3() {
    let home = home_with("[[hosts]]\nname = \"wrapper\"\ntransport = \"local\"\n");
    let out = fleetdeck(home.path()).args(["metrics"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("wrapper"), "{text}");
    assert!(text.contains("node_exporter"), "{text}");
    assert!(text.contains("1 host(s), 0 sampled, 1 not"), "{text}");
}

#[test]
fn bad_input_exits_2() {
    let home = home_with("[[hosts]]\nname = \"a\"\n");
    let out = fleetdeck(home.path())
        .args(["metrics", "-t", "a[1-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let bad_url =
        home_with("[[hosts]]\nname = \"a\"\nmetrics = { node_exporter = \"ftp://x/metrics\" }\n");
    let out = fleetdeck(bad_url.path())
        .args(["metrics"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hosts.toml:") && err.contains("node_exporter"),
        "{err}"
    );
}

#[test]
fn a_host_naming_a_node_exporter_is_sampled_from_it_and_selectable_by_its_values() {
    if !node_exporter_or_skip("a_host_naming_a_node_exporter_is_sampled_from_it") {
        return;
    }
    let exporter = NodeExporter::start().unwrap();
    let home = home_with(&format!(
        "[[hosts]]\nname = \"box1\"\ntransport = \"local\"\nmetrics = {{ node_exporter = \"{}\" }}\n\n\
         [[hosts]]\nname = \"box2\"\ntransport = \"local\"\nmetrics = {{ node_exporter = \"http://127.0.0.1:1/metrics\" }}\n",
        exporter.url()
    ));
    let out = fleetdeck(home.path())
        .args(["metrics", "--json"])
        .output()
        .unwrap();
    // box2's exporter refuses: exit 3, with why.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let box1 = &lines[0];
    assert_eq!(box1["host"], "box1");
    assert_eq!(box1["source"], "node_exporter", "{box1}");
    let mem = box1["mem_pct"].as_f64().unwrap();
    assert!((mem - mem_pct_here()).abs() < 5.0, "{mem}: {box1}");
    assert!(
        box1["cpu_pct"]
            .as_f64()
            .is_some_and(|c| (0.0..=100.0).contains(&c)),
        "{box1}"
    );
    let load = box1["load1"].as_f64().unwrap();
    assert!((load - load1_here()).abs() < 2.0, "{load}: {box1}");
    assert_eq!(lines[1]["host"], "box2");
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("refused")),
        "{}",
        lines[1]
    );
    // A metric term picks box1 (sampled) and never box2 (it could not be).
    let out = fleetdeck(home.path())
        .args(["hosts", "-t", "mem>=0", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["folded"], "box1", "{doc}");
    let out = fleetdeck(home.path())
        .args(["hosts", "-t", "stale", "--json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["folded"], "box2", "{doc}");
}
