//! `fleetdeck export` through the binary: CSV and JSON rows per host per run, across rotated
//! history files, --since, --output written whole, damaged lines, bad flags.

mod support;

use std::fs;
use std::path::Path;

use serde_json::Value;
use support::cli::{history_file, home_with, run};

const HOSTS: &str = r#"
[[hosts]]
name = "l[1-3]"
transport = "local"
"#;

fn json_rows(home: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["export", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(home, &args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str::<Vec<Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}):\n{}", out.stdout))
}

/// A history line for a run that started `started`, on one host.
fn old_run_line(id: &str, started: &str) -> String {
    format!(
        "{{\"v\":1,\"ts\":\"{started}\",\"id\":\"{id}\",\"user\":\"ann@laptop\",\"started\":\"{started}\",\
         \"finished\":\"{started}\",\"selector\":\"l1\",\"targets\":\"l1\",\"command\":\"uptime\",\
         \"status\":\"ok\",\"hosts\":[{{\"host\":\"l1\",\"state\":\"ok\",\"exit_code\":0,\
         \"duration_ms\":5,\"bytes_out\":10,\"bytes_err\":0}}]}}\n"
    )
}

#[test]
fn rows_per_host_per_run_in_csv_and_json() {
    let home = home_with(HOSTS);
    let h = home.path();
    let out = run(h, &["run", "-t", "l[1-3]", "--yes", "--", "echo hi"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(
        h,
        &[
            "run",
            "-t",
            "l[1-2]",
            "--yes",
            "--",
            "echo oops >&2; exit 4",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);

    let rows = json_rows(h, &[]);
    assert_eq!(rows.len(), 5, "3 hosts + 2 hosts");
    assert!(rows[..3].iter().all(|r| r["command"] == "echo hi"));
    assert!(
        rows[..3]
            .iter()
            .all(|r| r["state"] == "ok" && r["exit_code"] == 0)
    );
    let failed = &rows[3];
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["exit_code"], 4);
    assert_eq!(failed["run_status"], "failed");
    assert_eq!(failed["reason"], "oops");
    assert_eq!(failed["attempts"], 1);
    assert_eq!(rows[3]["run_id"], rows[4]["run_id"]);
    assert_ne!(rows[0]["run_id"], rows[3]["run_id"]);

    let out = run(h, &["export", "--format", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(Into::into).collect();
    assert_eq!(header[0], "run_id");
    assert!(header.contains(&"host".to_string()) && header.contains(&"reason".to_string()));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 5);
    let host_col = header.iter().position(|c| c == "host").unwrap();
    let hosts: Vec<&str> = records.iter().map(|r| &r[host_col]).collect();
    assert_eq!(hosts, ["l1", "l2", "l3", "l1", "l2"]);
    assert!(out.stderr.contains("exported 5 row(s)"), "{}", out.stderr);
}

#[test]
fn since_reads_rotated_files_oldest_first_and_skips_damage() {
    let home = home_with(HOSTS);
    let h = home.path();
    let history = history_file(h);
    fs::create_dir_all(history.parent().unwrap()).unwrap();
    // A year-old run in a rotated file, a damaged line and a fresh run in the current file.
    fs::write(
        history.with_file_name("history.1.jsonl"),
        old_run_line("01OLD", "2025-01-01T00:00:00.000Z"),
    )
    .unwrap();
    fs::write(&history, "{not json\n").unwrap();
    let out = run(h, &["run", "-t", "l1", "--yes", "--", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let out = run(h, &["export", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("damaged line"), "{}", out.stderr);
    let all: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["run_id"], "01OLD", "rotated (older) file first");

    let recent = json_rows(h, &["--since", "1d"]);
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0]["command"], "true");
    // A window longer than the calendar is every run, not a crash.
    assert_eq!(json_rows(h, &["--since", "99999999999d"]).len(), 2);
}

#[test]
fn output_file_is_written_whole_and_bad_input_is_exit_2() {
    let home = home_with(HOSTS);
    let h = home.path();
    let out = run(h, &["run", "-t", "l1", "--yes", "--", "true"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dest = h.join("report.csv");
    let out = run(
        h,
        &["export", "--format", "csv", "-o", dest.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = fs::read_to_string(&dest).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let leftovers: Vec<_> = fs::read_dir(h)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary file left behind");

    // A folder that does not exist: an error naming it, nothing written.
    let missing = h.join("no/such/dir/report.csv");
    let out = run(
        h,
        &["export", "--format", "csv", "-o", missing.to_str().unwrap()],
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("no/such/dir"), "{}", out.stderr);

    let out = run(h, &["export", "--format", "xml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = run(h, &["export", "--format", "csv", "--since", "yesterday"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("invalid duration"), "{}", out.stderr);

    // No history yet: just the header / an empty array.
    let empty = home_with(HOSTS);
    let out = run(empty.path(), &["export", "--format", "csv"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("run_id,"), "{}", out.stdout);
    assert_eq!(json_rows(empty.path(), &[]).len(), 0);
}
