//! `fleetdeck status`: the home's status.json as one short line for a shell prompt or tmux's
//! status bar (`✖2 ▲5 · 498/500 up · 1 running`), with tmux colour markup under `--tmux`, and
//! as JSON. Pure: the command reads the file and the clock.

use std::time::Duration;

use serde_json::{Value, json};

use crate::engine::status::{Freshness, StatusDoc};

/// How the line is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineStyle {
    /// ASCII symbols (the locale does not say UTF-8).
    pub ascii: bool,
    /// tmux `#[fg=…]` markup around the parts that need attention.
    pub tmux: bool,
}

impl LineStyle {
    fn paint(self, colour: &str, text: &str) -> String {
        if self.tmux {
            format!("#[fg={colour}]{text}#[default]")
        } else {
            text.to_string()
        }
    }

    fn symbol(self, unicode: &'static str, ascii: &'static str) -> &'static str {
        if self.ascii { ascii } else { unicode }
    }
}

/// The line for `doc`: incidents by severity (or a check mark when none is open), hosts up,
/// runs when some run or wait; `stale AGE` first when nobody keeps the counts any more.
pub fn status_line(doc: &StatusDoc, fresh: Freshness, style: LineStyle) -> String {
    let mut parts = Vec::new();
    if let Freshness::Stale { age, .. } = fresh {
        parts.push(style.paint("yellow", &format!("stale {}", age_text(age))));
    }
    let i = doc.incidents;
    let mut incidents = Vec::new();
    if i.crit > 0 {
        let text = format!("{}{}", style.symbol("✖", "!!"), i.crit);
        incidents.push(style.paint("red,bold", &text));
    }
    if i.warn > 0 {
        let text = format!("{}{}", style.symbol("▲", "!"), i.warn);
        incidents.push(style.paint("yellow", &text));
    }
    if i.info > 0 {
        incidents.push(format!("{}{}", style.symbol("●", "i"), i.info));
    }
    if incidents.is_empty() {
        incidents.push(style.paint("green", style.symbol("✔", "ok")));
    }
    parts.push(incidents.join(" "));
    let h = doc.hosts;
    let mut hosts = if h.total == 0 {
        "no hosts".to_string()
    } else {
        format!("{}/{} up", h.up, h.total)
    };
    // Said, so that a watcher just started (nothing heard yet) does not read as an outage.
    if h.unknown > 0 {
        hosts.push_str(&format!(", {} unknown", h.unknown));
    }
    parts.push(if h.down > 0 {
        style.paint("red", &hosts)
    } else {
        hosts
    });
    let r = doc.runs;
    let mut runs = Vec::new();
    if r.running > 0 {
        runs.push(format!("{} running", r.running));
    }
    if r.paused > 0 {
        runs.push(format!("{} paused", r.paused));
    }
    if r.queued > 0 {
        runs.push(format!("{} queued", r.queued));
    }
    if !runs.is_empty() {
        parts.push(runs.join(", "));
    }
    parts.join(" · ")
}

/// The line when no front end has written status.json in this home.
pub fn no_status_line(style: LineStyle) -> String {
    if style.tmux {
        // Short: a status bar has little room.
        style.paint("colour244", "fleetdeck: no status")
    } else {
        "fleetdeck: no status: no console, `fleetdeck watch` or wallboard has written one in \
         this home yet"
            .to_string()
    }
}

/// `--json`: the file's object with `state` (`live` or `stale`) and `age_s` added.
pub fn status_json(doc: &StatusDoc, fresh: Freshness, age: Duration) -> Value {
    let mut value = serde_json::to_value(doc).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut value {
        let state = match fresh {
            Freshness::Live => "live",
            Freshness::Stale { .. } => "stale",
        };
        map.insert("state".into(), json!(state));
        map.insert("age_s".into(), json!(age.as_secs()));
        if let Freshness::Stale { writer_gone, .. } = fresh {
            map.insert("writer_gone".into(), json!(writer_gone));
        }
    }
    value
}

/// `--json` without a file.
pub fn no_status_json() -> Value {
    json!({ "state": "none" })
}

/// `42s`, `5m`, `3h`, `2d`.
fn age_text(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::engine::status::{
        HostCounts, IncidentCounts, RunCounts, STATUS_VERSION, WriterKind,
    };

    fn doc() -> StatusDoc {
        StatusDoc {
            v: STATUS_VERSION,
            ts: SystemTime::UNIX_EPOCH,
            writer: WriterKind::Watch,
            pid: 1,
            incidents: IncidentCounts {
                crit: 2,
                warn: 5,
                info: 0,
            },
            hosts: HostCounts {
                up: 498,
                down: 2,
                unknown: 0,
                total: 500,
            },
            runs: RunCounts {
                running: 1,
                queued: 0,
                paused: 0,
            },
        }
    }

    #[test]
    fn the_line_in_unicode_ascii_and_tmux() {
        let d = doc();
        assert_eq!(
            status_line(&d, Freshness::Live, LineStyle::default()),
            "✖2 ▲5 · 498/500 up · 1 running"
        );
        let ascii = LineStyle {
            ascii: true,
            tmux: false,
        };
        assert_eq!(
            status_line(&d, Freshness::Live, ascii),
            "!!2 !5 · 498/500 up · 1 running"
        );
        let tmux = LineStyle {
            ascii: false,
            tmux: true,
        };
        assert_eq!(
            status_line(&d, Freshness::Live, tmux),
            "#[fg=red,bold]✖2#[default] #[fg=yellow]▲5#[default] · \
             #[fg=red]498/500 up#[default] · 1 running"
        );
    }

    #[test]
    fn quiet_fleet_and_stale_file() {
        let d = StatusDoc {
            incidents: IncidentCounts::default(),
            hosts: HostCounts {
                up: 3,
                down: 0,
                unknown: 1,
                total: 4,
            },
            runs: RunCounts {
                running: 2,
                queued: 3,
                paused: 1,
            },
            ..doc()
        };
        let stale = Freshness::Stale {
            age: Duration::from_secs(300),
            writer_gone: true,
        };
        assert_eq!(
            status_line(&d, stale, LineStyle::default()),
            "stale 5m · ✔ · 3/4 up, 1 unknown · 2 running, 1 paused, 3 queued"
        );
        let v = status_json(&d, stale, Duration::from_secs(300));
        assert_eq!(v["state"], "stale");
        assert_eq!(v["writer_gone"], true);
        assert_eq!(v["hosts"]["up"], 3);
        assert_eq!(no_status_json()["state"], "none");
        assert!(no_status_line(LineStyle::default()).starts_with("fleetdeck: no status"));
    }
}
