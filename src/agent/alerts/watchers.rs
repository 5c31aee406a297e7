//! Running the watchers: one task per watcher, checking every `interval` and writing an
//! alert to the journal on each transition (bad, then resolved).

use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::Journal;
use super::condition::{Condition, Draft, Problem, Status};
use super::config::{WatcherConfig, WatcherKind};
use super::logfile::LogCheck;
use super::process::ProcessCheck;
use super::systemd::SystemdCheck;
use super::threshold::MetricCheck;
use crate::protocol::{Metrics, Severity};

/// Starts one task per watcher (on the current tokio runtime) and returns their handles.
/// Each checks at once, then every `interval`; blocking checks (process table, log files)
/// and journal writes run on blocking threads. The tasks end when `cancel` is cancelled
/// (a check in flight is abandoned; its blocking work is short and bounded).
///
/// A watcher starts in the good state, so a problem present at start raises an alert. After
/// an agent restart, a problem that persisted is alerted again (the state is not kept on
/// disk). If an alert cannot be written to the journal, the watcher's state does not move,
/// so the next check tries again.
pub fn spawn_watchers(
    configs: Vec<WatcherConfig>,
    journal: Arc<Journal>,
    metrics: watch::Receiver<Metrics>,
    cancel: CancellationToken,
) -> Vec<JoinHandle<()>> {
    configs
        .into_iter()
        .map(|config| {
            let check = match config.kind {
                WatcherKind::Systemd { unit } => {
                    Check::Systemd(SystemdCheck::new(unit, config.severity))
                }
                WatcherKind::Process { matcher } => {
                    Check::Process(Some(Box::new(ProcessCheck::new(matcher, config.severity))))
                }
                WatcherKind::Log {
                    path,
                    pattern,
                    max_read,
                    quiet,
                } => Check::Log(Some(Box::new(LogCheck::new(
                    path,
                    pattern,
                    max_read,
                    quiet,
                    config.severity,
                )))),
                WatcherKind::Metric {
                    metric,
                    mount,
                    above,
                    for_,
                } => Check::Metric(MetricCheck::new(
                    metrics.clone(),
                    metric,
                    mount,
                    above,
                    for_,
                    config.severity,
                )),
            };
            let watcher = Watcher {
                name: config.name,
                interval: config.interval,
                check,
                condition: Condition::default(),
                journal: journal.clone(),
            };
            tokio::spawn(watcher.run(cancel.clone()))
        })
        .collect()
}

/// A check and where it runs. Blocking checks move to a blocking thread and back each
/// time (`None` only while away).
enum Check {
    Systemd(SystemdCheck),
    Process(Option<Box<ProcessCheck>>),
    Log(Option<Box<LogCheck>>),
    Metric(MetricCheck),
}

struct Watcher {
    name: String,
    interval: std::time::Duration,
    check: Check,
    condition: Condition,
    journal: Arc<Journal>,
}

impl Watcher {
    async fn run(mut self, cancel: CancellationToken) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        tracing::debug!(watcher = %self.name, "watcher started");
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let status = tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                status = self.check() => status,
            };
            let (drafts, next) = self.condition.observe(status);
            if self.record(drafts).await {
                self.condition.commit(next);
            }
        }
        tracing::debug!(watcher = %self.name, "watcher stopped");
    }

    async fn check(&mut self) -> Status {
        match &mut self.check {
            Check::Systemd(c) => c.check().await,
            Check::Metric(c) => c.check(),
            Check::Process(slot) => on_blocking_thread(slot, |c| c.check()).await,
            Check::Log(slot) => on_blocking_thread(slot, |c| c.check()).await,
        }
    }

    /// Appends the drafts in order; false if one could not be written (logged).
    async fn record(&self, drafts: Vec<Draft>) -> bool {
        for draft in drafts {
            let journal = self.journal.clone();
            let name = self.name.clone();
            let written = tokio::task::spawn_blocking(move || {
                journal.append(
                    &name,
                    draft.severity,
                    draft.summary,
                    draft.detail,
                    draft.resolved,
                )
            })
            .await;
            match written {
                Ok(Ok(alert)) => tracing::info!(
                    watcher = %self.name,
                    seq = alert.seq,
                    resolved = alert.resolved,
                    summary = %alert.summary,
                    "alert"
                ),
                Ok(Err(e)) => {
                    tracing::error!(watcher = %self.name, error = %e, "could not record an alert; retrying at the next check");
                    return false;
                }
                Err(e) => {
                    tracing::error!(watcher = %self.name, error = %e, "alert write task failed; retrying at the next check");
                    return false;
                }
            }
        }
        true
    }
}

/// Runs `f` on the check in `slot` on a blocking thread and puts the check back. Should the
/// check panic it is lost; the watcher then reports that (as a warning) at every check
/// rather than going quiet.
async fn on_blocking_thread<C: Send + 'static>(
    slot: &mut Option<Box<C>>,
    f: fn(&mut C) -> Status,
) -> Status {
    let Some(mut check) = slot.take() else {
        return broken("it failed earlier and stopped checking");
    };
    match tokio::task::spawn_blocking(move || {
        let status = f(&mut check);
        (check, status)
    })
    .await
    {
        Ok((check, status)) => {
            *slot = Some(check);
            status
        }
        Err(e) => broken(&format!("its check failed: {e}")),
    }
}

fn broken(why: &str) -> Status {
    Status::Bad(Problem {
        key: "broken",
        severity: Severity::Warning,
        summary: format!("watcher is not working: {why}; restart the agent"),
        detail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Alert, DiskUsage};
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::time::Duration;

    fn watchers(toml_text: &str) -> Vec<WatcherConfig> {
        #[derive(serde::Deserialize)]
        struct File {
            watchers: Vec<WatcherConfig>,
        }
        toml::from_str::<File>(toml_text).unwrap().watchers
    }

    /// Waits (bounded: 200 polls of 50 ms) until the journal holds `n` alerts; returns them.
    async fn wait_for(journal: &Journal, n: usize) -> Vec<Alert> {
        for _ in 0..200 {
            let all = journal.after(0).unwrap();
            if all.len() >= n {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "expected {n} alerts, the journal holds {:?}",
            journal.after(0).unwrap()
        );
    }

    /// Lets a few more checks happen, then says whether anything new was journaled.
    async fn quiet_for_a_few_checks(journal: &Journal, interval: Duration) -> Vec<Alert> {
        let before = journal.last_seq();
        tokio::time::sleep(interval * 5).await;
        journal.after(before).unwrap()
    }

    async fn stop(cancel: CancellationToken, handles: Vec<JoinHandle<()>>) {
        cancel.cancel();
        for h in handles {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("watcher stops when cancelled")
                .unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn process_watcher_alerts_when_a_spawned_process_is_killed_and_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::open(dir.path()).unwrap());
        let marker = format!(
            "0.{:09}",
            std::process::id() as u64 * 104_729 % 1_000_000_000
        );
        let mut child = std::process::Command::new("sleep")
            .args(["600", &marker])
            .spawn()
            .unwrap();
        let configs = watchers(&format!(
            "[[watchers]]\nname = 'sleeper'\nkind = 'process'\ncmdline = '^sleep 600 {}$'\ninterval = '100ms'\nseverity = 'critical'\n",
            regex::escape(&marker)
        ));
        let (_tx, rx) = watch::channel(Metrics::default());
        let cancel = CancellationToken::new();
        let handles = spawn_watchers(configs, journal.clone(), rx, cancel.clone());
        let interval = Duration::from_millis(100);
        assert!(
            quiet_for_a_few_checks(&journal, interval).await.is_empty(),
            "a running process raises nothing"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        let alerts = wait_for(&journal, 1).await;
        assert_eq!(alerts[0].watcher, "sleeper");
        assert_eq!(alerts[0].severity, Severity::Critical);
        assert!(!alerts[0].resolved);
        assert!(
            alerts[0].summary.starts_with("no process"),
            "{}",
            alerts[0].summary
        );
        assert!(
            quiet_for_a_few_checks(&journal, interval).await.is_empty(),
            "no repeat while it stays gone"
        );
        // It comes back: resolved.
        let mut again = std::process::Command::new("sleep")
            .args(["600", &marker])
            .spawn()
            .unwrap();
        let alerts = wait_for(&journal, 2).await;
        assert!(alerts[1].resolved, "{:?}", alerts[1]);
        assert!(
            alerts[1].summary.contains(&again.id().to_string()),
            "{}",
            alerts[1].summary
        );
        again.kill().unwrap();
        again.wait().unwrap();
        stop(cancel, handles).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn log_watcher_follows_appends_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::open(&dir.path().join("journal")).unwrap());
        let log = dir.path().join("app.log");
        std::fs::write(&log, "ERROR before the watcher started\n").unwrap();
        let configs = watchers(&format!(
            "[[watchers]]\nname = 'app'\nkind = 'log'\npath = '{}'\npattern = 'ERROR|panicked'\ninterval = '100ms'\nquiet = '0s'\n",
            log.display()
        ));
        let (_tx, rx) = watch::channel(Metrics::default());
        let cancel = CancellationToken::new();
        let handles = spawn_watchers(configs, journal.clone(), rx, cancel.clone());
        let interval = Duration::from_millis(100);
        assert!(quiet_for_a_few_checks(&journal, interval).await.is_empty());
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"all good\nthread 'main' panicked at src/main.rs\n")
            .unwrap();
        let alerts = wait_for(&journal, 1).await;
        assert_eq!(alerts[0].severity, Severity::Warning);
        assert!(
            alerts[0].summary.starts_with("1 new line match"),
            "{}",
            alerts[0].summary
        );
        assert_eq!(
            alerts[0].detail.as_deref(),
            Some("thread 'main' panicked at src/main.rs")
        );
        // Quiet again: resolved.
        let alerts = wait_for(&journal, 2).await;
        assert!(alerts[1].resolved);
        // Truncated and written anew: the new content is read from the top.
        std::fs::write(&log, "ERROR after truncation\n").unwrap();
        let alerts = wait_for(&journal, 3).await;
        assert!(!alerts[2].resolved);
        assert_eq!(alerts[2].detail.as_deref(), Some("ERROR after truncation"));
        stop(cancel, handles).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn metric_watcher_reads_the_watch_channel_and_alerts_on_transitions() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::open(dir.path()).unwrap());
        let configs = watchers(
            "[[watchers]]\nname = 'data-disk'\nkind = 'metric'\nmetric = 'disk_pct'\nmount = '/data'\nabove = 90\ninterval = '100ms'\nseverity = 'critical'\n",
        );
        let sample = |used: u64| Metrics {
            mem_total_bytes: 1,
            uptime_s: 1,
            disks: vec![DiskUsage {
                mount: "/data".into(),
                used_bytes: used,
                total_bytes: 100,
            }],
            ..Metrics::default()
        };
        let (tx, rx) = watch::channel(sample(50));
        let cancel = CancellationToken::new();
        let handles = spawn_watchers(configs, journal.clone(), rx, cancel.clone());
        let interval = Duration::from_millis(100);
        assert!(quiet_for_a_few_checks(&journal, interval).await.is_empty());
        tx.send(sample(97)).unwrap();
        let alerts = wait_for(&journal, 1).await;
        assert_eq!(alerts[0].summary, "disk_pct /data is 97.0, above 90");
        assert_eq!(alerts[0].severity, Severity::Critical);
        tx.send(sample(99)).unwrap();
        assert!(quiet_for_a_few_checks(&journal, interval).await.is_empty());
        tx.send(sample(40)).unwrap();
        let alerts = wait_for(&journal, 2).await;
        assert!(alerts[1].resolved);
        assert_eq!(alerts[1].severity, Severity::Critical);
        assert_eq!(
            alerts[1].summary,
            "resolved: disk_pct /data is 40.0, at or below 90"
        );
        stop(cancel, handles).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn systemd_watcher_reports_an_uncheckable_unit_once() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Arc::new(Journal::open(dir.path()).unwrap());
        let configs = watchers(
            "[[watchers]]\nname = 'web'\nkind = 'systemd'\nunit = 'fleetdeck-test-no-such-unit.service'\ninterval = '100ms'\nseverity = 'critical'\n",
        );
        let (_tx, rx) = watch::channel(Metrics::default());
        let cancel = CancellationToken::new();
        let handles = spawn_watchers(configs, journal.clone(), rx, cancel.clone());
        let alerts = wait_for(&journal, 1).await;
        if std::path::Path::new("/run/systemd/system").is_dir() {
            // With systemd running, a unit that does not exist is simply not active.
            assert_eq!(alerts[0].severity, Severity::Critical);
            assert!(
                alerts[0].summary.contains("no-such-unit.service is"),
                "{}",
                alerts[0].summary
            );
        } else {
            // No systemd here (a container): one warning that the unit cannot be checked.
            eprintln!("systemd is not running here; checked the cannot-check path");
            assert_eq!(alerts[0].severity, Severity::Warning);
            assert!(
                alerts[0].summary.starts_with("cannot check"),
                "{}",
                alerts[0].summary
            );
        }
        assert!(
            quiet_for_a_few_checks(&journal, Duration::from_millis(100))
                .await
                .is_empty(),
            "reported once, not at every check"
        );
        stop(cancel, handles).await;
    }
}
