//! `fleetdeck stats [--since DUR] [--json | --prometheus]`: run statistics counted from
//! history.jsonl (with its rotated files), and the runs audit.jsonl says started without an
//! end. Reads only; a damaged line is skipped with a warning naming its file and line. A
//! missing history is zero runs, not an error. The reading is `engine::read_stats` (the
//! console's Metrics view reads the same); this prints its warnings and the result.

use std::process::ExitCode;

use time::OffsetDateTime;

use crate::cli::StatsArgs;
use crate::config::{Home, Settings};
use crate::diag::Error;
use crate::engine::{Records, read_stats};
use crate::ui::printers::stats::{Window, render_json, render_table};
use crate::ui::printers::stats_prom::render_prometheus;
use crate::ui::printers::write_stdout;

pub fn run(home: &Home, settings: &Settings, args: &StatsArgs) -> Result<ExitCode, Error> {
    let records = Records::new(home, &settings.store);
    let now = OffsetDateTime::now_utc();
    // A window longer than time itself (`--since 99999999d`) is every run.
    let from = args.since.and_then(|since| {
        time::Duration::try_from(since)
            .ok()
            .and_then(|d| now.checked_sub(d))
    });
    let window = Window {
        now,
        since: args.since.filter(|_| from.is_some()),
        from,
    };
    let (stats, warnings) = read_stats(&records, from).map_err(Error::Invalid)?;
    for warning in &warnings {
        eprintln!("fleetdeck: warning: {warning}");
    }

    let text = if args.json {
        render_json(&stats, &window)?
    } else if args.prometheus {
        let out = render_prometheus(&stats)?;
        for name in &out.left_out {
            eprintln!(
                "fleetdeck: warning: command `{name}` is left out of the Prometheus text: it \
                 looks like another one once its control characters are shown"
            );
        }
        out.text
    } else {
        render_table(&stats, &window)
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
