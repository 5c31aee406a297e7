//! `fleetdeck status [--tmux] [--json]`: one line from status.json, which a running console,
//! `fleetdeck watch` or wallboard keeps current. Reads that one file and nothing else (no
//! config, no inventory, no host, no incidents.jsonl), so a status bar calling it every few
//! seconds costs next to nothing. Exit 0 whenever a line is printed (also `no status` and
//! `stale`: tmux shows the line either way); 1 when the file cannot be read.

use std::io::Write;
use std::process::ExitCode;
use std::time::SystemTime;

use crate::cli::StatusArgs;
use crate::config::Home;
use crate::diag::Error;
use crate::engine::status::{freshness, pid_alive, read_status};
use crate::ui::printers::status_line::{
    LineStyle, no_status_json, no_status_line, status_json, status_line,
};
use crate::ui::theme::utf8_locale;

pub fn run(home: &Home, args: &StatusArgs) -> Result<ExitCode, Error> {
    let style = LineStyle {
        ascii: !locale_is_utf8(),
        tmux: args.tmux,
    };
    let path = home.status_file();
    let (text, code) = match read_status(&path) {
        Ok(None) if args.json => (no_status_json().to_string(), ExitCode::SUCCESS),
        Ok(None) => (no_status_line(style), ExitCode::SUCCESS),
        Ok(Some(doc)) => {
            let now = SystemTime::now();
            let fresh = freshness(&doc, now, pid_alive(doc.pid));
            let text = if args.json {
                let age = now.duration_since(doc.ts).unwrap_or_default();
                status_json(&doc, fresh, age).to_string()
            } else {
                status_line(&doc, fresh, style)
            };
            (text, ExitCode::SUCCESS)
        }
        Err(e) => {
            // The status bar gets a short line; the detail goes to stderr.
            eprintln!("fleetdeck: {e}");
            let text = if args.json {
                serde_json::json!({ "state": "unreadable", "error": e }).to_string()
            } else {
                "fleetdeck: status unreadable".to_string()
            };
            (text, ExitCode::from(1))
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| Error::Invalid(format!("cannot write to stdout: {e}")))?;
    Ok(code)
}

fn locale_is_utf8() -> bool {
    let var = |k: &str| std::env::var(k).ok();
    utf8_locale(
        var("LC_ALL").as_deref(),
        var("LC_CTYPE").as_deref(),
        var("LANG").as_deref(),
    )
}
