//! The History view's I/O, performed by the event loop for `Effect::LoadHistory` and
//! `Effect::LoadRunOutput`: reading history.jsonl from its end and a run's runs/<id>.jsonl,
//! on a blocking thread (`spawn_blocking`) so the console keeps drawing and taking keys.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::state::{HISTORY_LIMIT, HistoryPage, MAX_OUTPUT_HOSTS, OUTPUT_CAPS, RunOutput};
use crate::config::{Home, Settings};
use crate::engine::{OutputRecord, Records, RunId, RunResult};
use crate::store::{CorruptLine, for_each_record, read_newest_as};
use crate::ui::app::msg::Msg;
use crate::ui::pane::Scrollback;

/// Reads the newest `limit` runs, newest first. Damaged lines become warnings; only a file
/// that cannot be read at all is an error.
pub fn load_history(records: &Records, limit: usize) -> Result<HistoryPage, String> {
    let path = records.history_path();
    let report = read_newest_as::<RunResult>(&path, limit)
        .map_err(|e| format!("cannot read the run history: {e}"))?;
    let mut warnings = damage_warnings(&path, &report.corrupt);
    if report.torn_tail {
        warnings.push(format!(
            "{}: the last line is incomplete (being written, or cut by a crash); skipped",
            path.display()
        ));
    }
    Ok(HistoryPage {
        runs: report.records.into_iter().map(|(_, run)| run).collect(),
        warnings,
    })
}

/// Reads run `id`'s recorded output into one bounded pane buffer per host, streaming the
/// file so its size never matters (each buffer drops its oldest lines past the caps). A run
/// that printed nothing has no file: that is an empty output, not an error.
pub fn load_run_output(records: &Records, id: &str) -> Result<RunOutput, String> {
    let path = records.run_output_path(id);
    let mut out = RunOutput::default();
    let mut left_out = 0usize;
    let summary = for_each_record::<OutputRecord, _>(&path, |_, rec| {
        let slot = match out.hosts.iter().position(|(h, _)| *h == rec.host) {
            Some(i) => i,
            None if out.hosts.len() < MAX_OUTPUT_HOSTS => {
                out.hosts
                    .push((rec.host.clone(), Scrollback::new(OUTPUT_CAPS)));
                out.hosts.len() - 1
            }
            None => {
                left_out += 1;
                return;
            }
        };
        out.hosts[slot].1.append(rec.stream, rec.data.as_bytes());
    })
    .map_err(|e| format!("cannot read the output of run {id}: {e}"))?;
    // Each host's output is complete: a last line without `\n` is shown as it is.
    for (_, sb) in &mut out.hosts {
        sb.finish();
    }
    out.warnings = damage_warnings(&path, &summary.corrupt);
    if left_out > 0 {
        out.warnings.push(format!(
            "{}: only the first {MAX_OUTPUT_HOSTS} hosts' output is shown",
            path.display()
        ));
    }
    Ok(out)
}

/// One line for the message area about the damaged lines skipped, if any.
fn damage_warnings(path: &Path, corrupt: &[CorruptLine]) -> Vec<String> {
    match corrupt {
        [] => Vec::new(),
        [one] => vec![format!("skipped a damaged line: {one}")],
        [first, ..] => vec![format!(
            "{}: skipped {} damaged lines; the newest: {first}",
            path.display(),
            corrupt.len()
        )],
    }
}

/// Performs `Effect::LoadHistory` off the runtime's threads; answers on `tx`.
pub fn spawn_load_history(
    home: &Home,
    settings: &Settings,
    request: u64,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let records = Records::new(home, &settings.store);
    tokio::task::spawn_blocking(move || {
        let result = load_history(&records, HISTORY_LIMIT);
        // The console may be gone (quitting): nobody needs the answer then.
        let _ = tx.send(Msg::HistoryLoaded { request, result });
    });
}

/// Performs `Effect::LoadRunOutput` off the runtime's threads; answers on `tx`.
pub fn spawn_load_run_output(
    home: &Home,
    settings: &Settings,
    id: RunId,
    tx: mpsc::UnboundedSender<Msg>,
) {
    let records = Records::new(home, &settings.store);
    tokio::task::spawn_blocking(move || {
        let output = load_run_output(&records, &id).map(Arc::new);
        let _ = tx.send(Msg::RunOutputLoaded { id, output });
    });
}
