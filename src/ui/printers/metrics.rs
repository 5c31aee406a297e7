//! `fleetdeck metrics` output: a table, or one JSON object per host per line.

use serde::Serialize;

use super::sanitize::sanitize;
use super::table;
use crate::diag::Error;
use crate::engine::sampling::once::HostReport;
use crate::store::rfc3339_millis;
use crate::ui::app::widgets::metric::rate_text;

#[derive(Serialize)]
struct HostJson<'a> {
    host: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mem_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk_pct: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    load1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    net_rx_bps: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    net_tx_bps: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Rounds to two decimals (JSON readers need no more, and it keeps lines short).
fn round(v: Option<f64>) -> Option<f64> {
    v.map(|v| (v * 100.0).round() / 100.0)
}

pub fn render_json(reports: &[HostReport]) -> Result<String, Error> {
    let mut out = String::new();
    for r in reports {
        let mut line = HostJson {
            host: &r.host,
            source: r.source.map(|s| s.as_str()),
            ts: None,
            cpu_pct: None,
            mem_pct: None,
            disk_pct: None,
            load1: None,
            net_rx_bps: None,
            net_tx_bps: None,
            error: None,
        };
        match &r.result {
            Ok(s) => {
                line.ts = Some(rfc3339_millis(s.ts.into()));
                line.cpu_pct = round(s.cpu_pct);
                line.mem_pct = round(s.mem_pct);
                line.disk_pct = round(s.disk_pct);
                line.load1 = round(s.load1);
                line.net_rx_bps = round(s.net_rx_bps);
                line.net_tx_bps = round(s.net_tx_bps);
            }
            Err(why) => line.error = Some(sanitize(why.as_bytes(), false)),
        }
        let text = serde_json::to_string(&line)
            .map_err(|e| Error::Invalid(format!("cannot encode metrics as JSON: {e}")))?;
        out.push_str(&text);
        out.push('\n');
    }
    Ok(out)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.0}%"))
}

/// Bytes per second as the console shows them, per second (`2.0K/s`, `12M/s`).
fn rate(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{}/s", rate_text(v)))
}

pub fn render_table(reports: &[HostReport]) -> String {
    if reports.is_empty() {
        return "no hosts matched\n".to_string();
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            let source = r.source.map_or("-", |s| s.as_str()).to_string();
            match &r.result {
                Ok(s) => vec![
                    r.host.clone(),
                    source,
                    pct(s.cpu_pct),
                    pct(s.mem_pct),
                    pct(s.disk_pct),
                    s.load1
                        .map_or_else(|| "-".to_string(), |v| format!("{v:.2}")),
                    rate(s.net_rx_bps),
                    rate(s.net_tx_bps),
                    String::new(),
                ],
                Err(why) => {
                    let mut row = vec![r.host.clone(), source];
                    row.extend(std::iter::repeat_n("-".to_string(), 6));
                    row.push(sanitize(why.as_bytes(), false));
                    row
                }
            }
        })
        .collect();
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    let mut out = table(
        &[
            "HOST", "SOURCE", "CPU", "MEM", "DISK", "LOAD1", "NET RX", "NET TX", "ERROR",
        ],
        &rows,
    );
    out.push_str(&format!(
        "{} host(s), {} sampled, {failed} not\n",
        reports.len(),
        reports.len() - failed
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Sample, Source};
    use std::time::SystemTime;

    fn reports() -> Vec<HostReport> {
        let mut s = Sample::empty(Source::Ssh, SystemTime::UNIX_EPOCH);
        s.cpu_pct = Some(12.345);
        s.mem_pct = Some(50.0);
        s.load1 = Some(0.5);
        s.net_rx_bps = Some(2048.0);
        vec![
            HostReport {
                host: "web1".into(),
                source: Some(Source::Ssh),
                result: Ok(s),
            },
            HostReport {
                host: "mac1".into(),
                source: Some(Source::Ssh),
                result: Err("no metrics: not Linux (no /proc)\u{1b}[2J".into()),
            },
        ]
    }

    #[test]
    fn json_lines_carry_values_or_an_error() {
        let text = render_json(&reports()).expect("json");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines[0]["host"], "web1");
        assert_eq!(lines[0]["source"], "ssh");
        assert_eq!(lines[0]["cpu_pct"], 12.35);
        assert_eq!(lines[0]["ts"], "1970-01-01T00:00:00.000Z");
        assert!(lines[0].get("disk_pct").is_none());
        assert!(
            lines[1]["error"]
                .as_str()
                .is_some_and(|e| !e.contains('\u{1b}'))
        );
    }

    #[test]
    fn table_shows_rates_and_errors() {
        let text = render_table(&reports());
        assert!(text.contains("2.0K/s"), "{text}");
        assert!(text.contains("not Linux"), "{text}");
        assert!(text.contains("2 host(s), 1 sampled, 1 not"), "{text}");
    }
}
