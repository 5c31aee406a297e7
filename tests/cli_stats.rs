//! `fleetdeck stats` through the binary, over a history made by real `fleetdeck run`s on local
//! hosts (and one unreachable ssh host): the table, the JSON object, the Prometheus text parsed
//! back line by line and checked against the JSON, --since over rotated files, damaged lines,
//! runs still going (and cut off) in another process, and bad input.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{Out, history_file, home_with, run, unreachable_host, write_config};

const HOSTS: &str = r#"
[[hosts]]
name = "l[1-3]"
transport = "local"
"#;

const GREET: &str = "description = \"Say hello\"\ncommand = \"echo hello\"\n";

fn ok_run(home: &Path, args: &[&str], code: i32) {
    let out = run(home, args);
    assert_eq!(out.code, code, "{args:?}\n{}", out.stderr);
}

/// Every kind of ending through the real binary: ok, non-zero exit, command timeout,
/// unreachable, and a run of an action.
fn busy_home() -> tempfile::TempDir {
    let home = home_with(&format!("{HOSTS}{}", unreachable_host("gone")));
    let h = home.path();
    write_config(h, "actions/greet.toml", GREET);
    let empty_ssh_config = write_config(h, "ssh_config", "");
    let empty_ssh_config = empty_ssh_config.to_str().unwrap();
    ok_run(h, &["run", "-t", "l[1-3]", "--", "echo hi"], 0);
    ok_run(h, &["run", "-t", "l[1-3]", "--", "echo hi"], 0);
    ok_run(h, &["run", "-t", "l[1-2]", "--", "exit 4"], 1);
    ok_run(
        h,
        &["run", "-t", "l1", "--timeout", "300ms", "--", "sleep 20"],
        1,
    );
    ok_run(h, &["run", "-t", "l3", "--action", "greet"], 0);
    ok_run(
        h,
        &[
            "run",
            "-t",
            "gone",
            "--ssh-config",
            empty_ssh_config,
            "--connect-timeout",
            "5s",
            "--",
            "true",
        ],
        3,
    );
    home
}

fn stats_json(home: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["stats", "--json"];
    args.extend_from_slice(extra);
    let out = run(home, &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "one object:\n{}", out.stdout);
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout))
}

fn group<'a>(stats: &'a Value, name: &str) -> &'a Value {
    stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group `{name}` in {stats}"))
}

#[test]
fn json_counts_every_kind_of_ending_per_command_and_action() {
    let home = busy_home();
    let stats = stats_json(home.path(), &[]);

    let names: Vec<(&str, &str)> = stats["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["kind"].as_str().unwrap(), g["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("command", "echo hi"),
            ("command", "exit 4"),
            ("action", "greet"),
            ("command", "sleep 20"),
            ("command", "true"),
        ],
        "most runs first, then by name"
    );

    let echo = group(&stats, "echo hi");
    assert_eq!(echo["runs"], 2);
    assert_eq!(echo["host_executions"], 6);
    assert_eq!(echo["hosts_ok"], 6);
    assert_eq!(echo["success_rate"], 1.0);
    assert_eq!(echo["outcomes"], serde_json::json!({"ok": 6}));
    assert_eq!(echo["failures"], serde_json::json!({}));
    assert!(echo["avg_duration_ms"].is_u64() && echo["p95_duration_ms"].is_u64());

    let failed = group(&stats, "exit 4");
    assert_eq!(failed["success_rate"], 0.0);
    assert_eq!(failed["failures"], serde_json::json!({"failed:exit": 2}));
    let timeout = group(&stats, "sleep 20");
    assert_eq!(
        timeout["failures"],
        serde_json::json!({"timeout:command": 1})
    );
    // The command was killed at its timeout, so the run took far less than its 20 s.
    assert!(timeout["p95_duration_ms"].as_u64().unwrap() < 20_000);
    let unreachable = group(&stats, "true");
    assert_eq!(
        unreachable["failures"],
        serde_json::json!({"unreachable:connect": 1})
    );
    let greet = group(&stats, "greet");
    assert_eq!(greet["kind"], "action");
    assert_eq!(greet["hosts_ok"], 1);

    let totals = &stats["totals"];
    assert_eq!(totals["runs"], 6);
    assert_eq!(totals["host_executions"], 11);
    assert_eq!(totals["hosts_ok"], 7);
    let rate = totals["success_rate"].as_f64().unwrap();
    assert!((rate - 7.0 / 11.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        totals["outcomes"],
        serde_json::json!({"ok": 7, "failed": 2, "timeout": 1, "unreachable": 1})
    );
    assert_eq!(
        stats["unfinished"],
        serde_json::json!({"count": 0, "run_ids": []})
    );
    assert!(stats["since"].is_null() && stats["from"].is_null());
    assert!(stats["generated"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn the_table_shows_a_row_per_group_and_a_total() {
    let home = busy_home();
    let out = run(home.path(), &["stats"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "all recorded runs", "{}", out.stdout);
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "KIND", "NAME", "RUNS", "HOSTS", "OK", "AVG", "P95", "FAILURES"
        ]
    );
    let row = |prefix: &str| -> Vec<String> {
        let line = lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no row `{prefix}` in\n{}", out.stdout));
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let echo = row("command  echo hi");
    assert_eq!(echo[..5], ["command", "echo hi", "2", "6", "100.0%"]);
    assert_eq!(echo.len(), 7, "no failures column text: {echo:?}");
    let failed = row("command  exit 4");
    assert_eq!(failed[2..5], ["1", "2", "0.0%"]);
    assert_eq!(failed.last().unwrap(), "failed:exit 2");
    assert_eq!(row("action")[1], "greet");
    let total = row("total");
    assert_eq!(total[1..4], ["6", "11", "63.6%"]);
    assert_eq!(
        total.last().unwrap(),
        "failed:exit 2, timeout:command 1, unreachable:connect 1"
    );
    assert!(out.stdout.contains("unfinished runs: 0 "), "{}", out.stdout);
}

/// One sample line: name, labels (unescaped), value.
#[derive(Debug)]
struct PromSample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl PromSample {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the text exposition format strictly: every line is `# HELP`, `# TYPE` or a sample;
/// HELP and TYPE come once per family, together, before its samples, and a family's samples
/// are contiguous and named after it. Returns (family, type) pairs and the samples.
fn parse_prometheus(text: &str) -> (Vec<(String, String)>, Vec<PromSample>) {
    assert!(text.ends_with('\n'), "ends with a newline");
    let mut families: Vec<(String, String)> = Vec::new();
    let mut samples = Vec::new();
    let mut help_for: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP name text");
            assert!(!help.is_empty(), "{line}");
            assert!(
                families.iter().all(|(f, _)| f != name),
                "family {name} declared twice"
            );
            help_for = Some(name.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert_eq!(
                help_for.take().as_deref(),
                Some(name),
                "TYPE after its HELP"
            );
            assert!(["counter", "gauge", "summary"].contains(&kind), "{line}");
            families.push((name.to_string(), kind.to_string()));
        } else {
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let sample = parse_sample(line);
            let (family, kind) = families.last().expect("a sample after a family");
            let suffix = sample.name.strip_prefix(family.as_str());
            let fits = match suffix {
                Some("") => true,
                Some("_sum" | "_count") => kind == "summary",
                _ => false,
            };
            assert!(fits, "sample {} outside its family {family}", sample.name);
            samples.push(sample);
        }
    }
    (families, samples)
}

fn parse_sample(line: &str) -> PromSample {
    let name_end = line.find(['{', ' ']).expect("name, then labels or a value");
    let name = line[..name_end].to_string();
    let mut labels = Vec::new();
    let mut chars = line[name_end..].chars().peekable();
    if chars.peek() == Some(&'{') {
        chars.next();
        loop {
            let label: String = chars.by_ref().take_while(|c| *c != '=').collect();
            assert!(
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "label name {label:?} in {line}"
            );
            assert_eq!(chars.next(), Some('"'), "{line}");
            let mut value = String::new();
            loop {
                match chars.next().expect("a closing quote") {
                    '\\' => match chars.next() {
                        Some('\\') => value.push('\\'),
                        Some('"') => value.push('"'),
                        Some('n') => value.push('\n'),
                        other => panic!("bad escape {other:?} in {line}"),
                    },
                    '"' => break,
                    c => value.push(c),
                }
            }
            labels.push((label, value));
            match chars.next() {
                Some(',') => {}
                Some('}') => break,
                other => panic!("{other:?} after a label value in {line}"),
            }
        }
    }
    let rest: String = chars.collect();
    let value = rest.strip_prefix(' ').expect("a space before the value");
    let value = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|e| panic!("value {v:?}: {e}")),
    };
    PromSample {
        name,
        labels,
        value,
    }
}

fn find<'a>(samples: &'a [PromSample], name: &str, labels: &[(&str, &str)]) -> &'a PromSample {
    samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.label(k) == Some(v)))
        .unwrap_or_else(|| panic!("no {name} {labels:?}"))
}

#[test]
fn prometheus_text_parses_back_and_agrees_with_the_json() {
    let home = busy_home();
    let h = home.path();
    let out = run(h, &["stats", "--prometheus"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (families, samples) = parse_prometheus(&out.stdout);
    let names: Vec<(&str, &str)> = families
        .iter()
        .map(|(n, k)| (n.as_str(), k.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("fleetdeck_runs_total", "counter"),
            ("fleetdeck_host_executions_total", "counter"),
            ("fleetdeck_host_failures_total", "counter"),
            ("fleetdeck_host_success_ratio", "gauge"),
            ("fleetdeck_run_duration_seconds", "summary"),
            ("fleetdeck_runs_unfinished", "gauge"),
        ]
    );
    for (name, kind) in &names {
        assert!(name.starts_with("fleetdeck_"));
        assert_eq!(*kind == "counter", name.ends_with("_total"), "{name}");
    }

    let stats = stats_json(h, &[]);
    for g in stats["groups"].as_array().unwrap() {
        let kind = g["kind"].as_str().unwrap();
        let name = g["name"].as_str().unwrap();
        let who = [("kind", kind), ("name", name)];
        let value = |metric: &str, extra: &[(&str, &str)]| {
            let labels: Vec<(&str, &str)> = who.iter().chain(extra).copied().collect();
            find(&samples, metric, &labels).value
        };
        assert_eq!(
            value("fleetdeck_runs_total", &[]),
            g["runs"].as_f64().unwrap()
        );
        let mut executions = 0.0;
        for outcome in [
            "ok",
            "failed",
            "timeout",
            "unreachable",
            "error",
            "cancelled",
            "skipped",
        ] {
            let n = value("fleetdeck_host_executions_total", &[("outcome", outcome)]);
            assert_eq!(
                n,
                g["outcomes"][outcome].as_f64().unwrap_or(0.0),
                "{name} {outcome}"
            );
            executions += n;
        }
        assert_eq!(executions, g["host_executions"].as_f64().unwrap());
        for (failure, n) in g["failures"].as_object().unwrap() {
            let got = value("fleetdeck_host_failures_total", &[("failure", failure)]);
            assert_eq!(got, n.as_f64().unwrap());
        }
        assert_eq!(
            value("fleetdeck_host_success_ratio", &[]),
            g["success_rate"].as_f64().unwrap()
        );
        let p95 = value("fleetdeck_run_duration_seconds", &[("quantile", "0.95")]);
        assert_eq!(p95, g["p95_duration_ms"].as_f64().unwrap() / 1000.0);
        assert_eq!(
            value("fleetdeck_run_duration_seconds_count", &[]),
            g["runs"].as_f64().unwrap()
        );
        let sum = value("fleetdeck_run_duration_seconds_sum", &[]);
        let avg = g["avg_duration_ms"].as_f64().unwrap() / 1000.0;
        let count = g["runs"].as_f64().unwrap();
        assert!(
            (sum / count - avg).abs() <= 0.001,
            "{name}: {sum}/{count} vs {avg}"
        );
    }
    let unfinished = find(&samples, "fleetdeck_runs_unfinished", &[]);
    assert!(unfinished.labels.is_empty());
    assert_eq!(unfinished.value, 0.0);
}

/// A history line for a run of `command` started at `started`, on one ok host.
fn old_run_line(id: &str, started: &str, command: &str) -> String {
    format!(
        "{{\"v\":1,\"ts\":\"{started}\",\"id\":\"{id}\",\"user\":\"ann@laptop\",\"started\":\"{started}\",\
         \"finished\":\"{started}\",\"selector\":\"l1\",\"targets\":\"l1\",\"command\":{command},\
         \"status\":\"ok\",\"hosts\":[{{\"host\":\"l1\",\"state\":\"ok\",\"exit_code\":0,\
         \"duration_ms\":5,\"bytes_out\":10,\"bytes_err\":0}}]}}\n",
        command = serde_json::to_string(command).unwrap()
    )
}

#[test]
fn since_keeps_recent_runs_across_rotated_files_and_damage_is_skipped_with_its_line() {
    let home = home_with(HOSTS);
    let h = home.path();
    let history = history_file(h);
    fs::create_dir_all(history.parent().unwrap()).unwrap();
    // A year-old run in a rotated file; a damaged line, then fresh runs in the current one.
    fs::write(
        history.with_file_name("history.1.jsonl"),
        old_run_line("01OLD", "2025-01-01T00:00:00.000Z", "echo hi"),
    )
    .unwrap();
    fs::write(&history, "{not json\n").unwrap();
    ok_run(h, &["run", "-t", "l1", "--", "echo hi"], 0);
    ok_run(h, &["run", "-t", "l[1-2]", "--", "exit 1"], 1);

    let out = run(h, &["stats", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let damaged = format!("{}:1: ", history.display());
    assert!(
        out.stderr.contains(&damaged),
        "names file:line: {}",
        out.stderr
    );
    let all: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(all["totals"]["runs"], 3);
    assert_eq!(group(&all, "echo hi")["runs"], 2, "the rotated file counts");

    let recent = stats_json(h, &["--since", "1d"]);
    assert_eq!(recent["since"], "1d");
    assert!(recent["from"].as_str().unwrap().ends_with('Z'));
    assert_eq!(recent["totals"]["runs"], 2);
    assert_eq!(group(&recent, "echo hi")["runs"], 1);

    let out = run(h, &["stats", "--since", "12h"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("runs started since ") && out.stdout.contains("(last 12h)"),
        "{}",
        out.stdout
    );

    // An absurd window is every run, not an overflow.
    let forever = stats_json(h, &["--since", "99999999999d"]);
    assert_eq!(forever["totals"]["runs"], 3);
}

#[test]
fn an_empty_home_has_zero_stats() {
    let home = home_with(HOSTS);
    let h = home.path();
    let out = run(h, &["stats"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("no runs recorded"), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let stats = stats_json(h, &[]);
    assert_eq!(stats["groups"], serde_json::json!([]));
    assert_eq!(stats["totals"]["runs"], 0);
    assert!(stats["totals"]["success_rate"].is_null());
    let out = run(h, &["stats", "--prometheus"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (families, samples) = parse_prometheus(&out.stdout);
    assert_eq!(families.len(), 6);
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].name, "fleetdeck_runs_unfinished");
}

#[test]
fn bad_input_exits_2_saying_what_is_wrong() {
    let home = home_with(HOSTS);
    let h = home.path();
    let cases: [(&[&str], &str); 4] = [
        (&["stats", "--since", "5x"], "invalid duration `5x`"),
        (&["stats", "--since", "10"], "invalid duration `10`"),
        (&["stats", "--json", "--prometheus"], "cannot be used with"),
        (&["stats", "--since"], "--since <DUR>"),
    ];
    for (args, message) in cases {
        let out: Out = run(h, args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
}

#[test]
fn help_says_what_is_counted_and_what_cannot_be_seen() {
    let home = home_with(HOSTS);
    let out = run(home.path(), &["--help"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("stats ")),
        "{}",
        out.stdout
    );
    let out = run(home.path(), &["stats", "--help"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for needed in [
        "--since <DUR>",
        "--json",
        "--prometheus",
        "hosts ok / host executions",
        "cannot see another process's queue",
        "cut off by a crash",
    ] {
        assert!(text.contains(needed), "`{needed}` missing:\n{}", out.stdout);
    }
}

/// Starts `fleetdeck run` in the background on a command that touches `marker` and sleeps.
fn start_sleeping_run(home: &Path) -> (Child, PathBuf, PathBuf) {
    let marker = home.join("started");
    let pid_file = home.join("pid");
    let cmd = format!(
        "echo $$ > {}; touch {}; sleep 60",
        pid_file.display(),
        marker.display()
    );
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("fleetdeck"))
        .arg("--home")
        .arg(home)
        .args(["run", "-t", "l1", "--", &cmd])
        .env_remove("FLEETDECK_HOME")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !marker.exists() {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run never started");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, marker, pid_file)
}

fn wait_for_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fleetdeck did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_run_going_on_in_another_process_is_unfinished_until_it_ends() {
    let home = home_with(HOSTS);
    let h = home.path();
    let (mut child, _, _) = start_sleeping_run(h);

    let during = stats_json(h, &[]);
    assert_eq!(during["unfinished"]["count"], 1, "{during}");
    assert_eq!(during["totals"]["runs"], 0, "history has no end for it yet");
    let id = during["unfinished"]["run_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let out = run(h, &["stats", "--prometheus"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "fleetdeck_runs_unfinished 1"),
        "{}",
        out.stdout
    );

    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: signals our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    assert_eq!(wait_for_exit(&mut child), Some(130));

    let after = stats_json(h, &[]);
    assert_eq!(after["unfinished"]["count"], 0, "{after}");
    assert_eq!(after["totals"]["runs"], 1);
    assert_eq!(after["totals"]["failures"]["cancelled"], 1);
    let history = fs::read_to_string(history_file(h)).unwrap();
    assert!(history.contains(&id), "the unfinished id was this run's");
}

/// A run cut off by a crash is recorded as interrupted by the next command that opens the home
/// (stats here): counted once, its unfinished host as `unfinished`, not left dangling.
#[test]
fn a_run_cut_off_by_a_crash_is_counted_once_as_interrupted() {
    let home = home_with(HOSTS);
    let h = home.path();
    let (mut child, _, pid_file) = start_sleeping_run(h);
    // SIGKILL: no end is recorded anywhere, as after a crash or a power cut.
    child.kill().unwrap();
    let _ = child.wait();
    if let Ok(text) = fs::read_to_string(&pid_file)
        && let Ok(sleeper) = text.trim().parse::<i32>()
    {
        // The run's shell leads its own process group (the local transport's); the kill above
        // orphaned it. SAFETY: killpg only sends a signal.
        unsafe { libc::killpg(sleeper, libc::SIGKILL) };
    }

    let stats = stats_json(h, &[]);
    assert_eq!(stats["unfinished"]["count"], 0, "{stats}");
    assert_eq!(stats["totals"]["runs"], 1, "{stats}");
    assert_eq!(stats["totals"]["outcomes"]["unfinished"], 1, "{stats}");
    let history = fs::read_to_string(history_file(h)).unwrap();
    assert!(history.contains("\"status\":\"interrupted\""), "{history}");
    // Counted once: asking again finds the same.
    let again = stats_json(h, &[]);
    assert_eq!(again["totals"]["runs"], 1, "{again}");
}
