//! Delivery: one background task per sink, fed by a bounded queue. [`Notifier::notify`] never
//! waits: a full queue drops the notice (counted, logged). Each task sends its messages in
//! order, rate-limited (rate.rs), each POST bounded by the timeout and retried with backoff
//! (retry.rs); a sink that hangs delays only its own queue. What happened is kept per sink
//! ([`SinkStatus`]) and every change bumps a `watch` counter the console can wait on.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::notice::{Message, Notice};
use super::rate::RateLimit;
use super::retry::{Backoff, PostError};
use super::settings::NotifySettings;
use super::sink::{Sink, SinkKind, post};
use super::status::SinkStatus;
use crate::diag::error_chain;

/// Notices waiting per sink before new ones are dropped.
pub const DEFAULT_QUEUE: usize = 256;

/// How hard delivery tries, and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: u32,
    pub timeout: Duration,
    pub attempts: u32,
    pub queue: usize,
    pub backoff: Backoff,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_settings(&NotifySettings::default())
    }
}

impl Limits {
    pub fn from_settings(settings: &NotifySettings) -> Limits {
        Limits {
            per_minute: settings.per_minute,
            timeout: settings.timeout.0,
            attempts: settings.attempts,
            queue: DEFAULT_QUEUE,
            backoff: Backoff::default(),
        }
    }
}

struct SinkHandle {
    kind: SinkKind,
    queue: mpsc::Sender<Message>,
    status: Arc<Mutex<SinkStatus>>,
    task: JoinHandle<()>,
}

/// The sinks and their delivery tasks. Dropping it lets each task finish its queue (each
/// message still bounded by attempts × timeout) and end; [`Notifier::shutdown`] bounds that.
pub struct Notifier {
    sinks: Vec<SinkHandle>,
    changes: Arc<watch::Sender<u64>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("sinks", &self.status())
            .finish()
    }
}

impl Notifier {
    /// The sinks `[notify]` configures (none is fine: notices then go nowhere). Reads the
    /// Slack URL from its variable or file (`config_dir` anchors a relative file). Must be
    /// called inside a tokio runtime. Errors name the setting, never the URL.
    pub fn from_settings(settings: &NotifySettings, config_dir: &Path) -> Result<Notifier, String> {
        let mut sinks = Vec::new();
        if let Some(url) = settings.slack.webhook_url(config_dir)? {
            sinks.push(Sink {
                kind: SinkKind::Slack,
                url,
            });
        }
        if let Some(url) = settings.webhook.url()? {
            sinks.push(Sink {
                kind: SinkKind::Webhook,
                url,
            });
        }
        Notifier::start(sinks, Limits::from_settings(settings))
    }

    /// Starts one delivery task per sink. Must be called inside a tokio runtime.
    pub fn start(sinks: Vec<Sink>, limits: Limits) -> Result<Notifier, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("fleetdeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(limits.timeout)
            // A webhook that redirects is misconfigured; following it would send the notice
            // (and any token in the URL's path) somewhere nobody configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("notifications: HTTP client: {}", error_chain(&e)))?;
        let (changes, _) = watch::channel(0u64);
        let changes = Arc::new(changes);
        let sinks = sinks
            .into_iter()
            .map(|sink| {
                let (queue, rx) = mpsc::channel(limits.queue.max(1));
                let status = Arc::new(Mutex::new(SinkStatus::new(
                    sink.kind.name(),
                    sink.url.redacted(),
                )));
                let worker = Worker {
                    kind: sink.kind,
                    sink,
                    client: client.clone(),
                    limits,
                    status: Arc::clone(&status),
                    changes: Arc::clone(&changes),
                };
                SinkHandle {
                    kind: worker.kind,
                    queue,
                    status,
                    task: tokio::spawn(worker.run(rx)),
                }
            })
            .collect();
        Ok(Notifier { sinks, changes })
    }

    /// Whether any sink is configured.
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Queues `notice` for every sink; never waits. A sink whose queue is full drops it (the
    /// drop is counted and logged).
    pub fn notify(&self, notice: &Notice) {
        for sink in &self.sinks {
            match sink
                .queue
                .try_send(Message::Notice(Box::new(notice.clone())))
            {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    let dropped = update(&sink.status, &self.changes, |s| {
                        s.dropped_full += 1;
                        s.dropped_full
                    });
                    // The first drop of a flood and then every hundredth, not each one.
                    if dropped % 100 == 1 {
                        tracing::warn!(
                            sink = sink.kind.name(),
                            target = %lock(&sink.status).target,
                            dropped,
                            incident = %notice.incident_id,
                            "notification queue full; notice dropped"
                        );
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    update(&sink.status, &self.changes, |s| {
                        s.dropped_full += 1;
                        s.last_error = Some("delivery task stopped".to_string());
                        s.last_error_at = Some(OffsetDateTime::now_utc());
                    });
                }
            }
        }
    }

    /// Each sink's record so far.
    pub fn status(&self) -> Vec<SinkStatus> {
        self.sinks.iter().map(|s| lock(&s.status).clone()).collect()
    }

    /// A counter bumped whenever a status changes.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Closes the queues and waits up to `grace` for the tasks to deliver what is queued;
    /// tasks still busy then are stopped (their messages are lost, and counted as dropped
    /// nowhere: the console is going away).
    pub async fn shutdown(self, grace: Duration) {
        let deadline = Instant::now() + grace;
        let mut tasks = Vec::with_capacity(self.sinks.len());
        for sink in self.sinks {
            drop(sink.queue);
            tasks.push(sink.task);
        }
        for mut task in tasks {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

/// One sink's delivery loop.
struct Worker {
    kind: SinkKind,
    sink: Sink,
    client: reqwest::Client,
    limits: Limits,
    status: Arc<Mutex<SinkStatus>>,
    changes: Arc<watch::Sender<u64>>,
}

impl Worker {
    async fn run(self, mut queue: mpsc::Receiver<Message>) {
        let mut rate = RateLimit::new(self.limits.per_minute, Instant::now());
        loop {
            if rate.dropped() > 0 {
                if let Some(count) = rate.take_summary(Instant::now()) {
                    self.deliver(Message::Dropped {
                        count,
                        ts: OffsetDateTime::now_utc(),
                    })
                    .await;
                    continue;
                }
                tokio::select! {
                    biased;
                    () = tokio::time::sleep_until(rate.next_token_at()) => continue,
                    next = queue.recv() => match next {
                        Some(message) => self.admit(&mut rate, message).await,
                        None => break,
                    },
                }
            } else {
                match queue.recv().await {
                    Some(message) => self.admit(&mut rate, message).await,
                    None => break,
                }
            }
        }
    }

    async fn admit(&self, rate: &mut RateLimit, message: Message) {
        if rate.admit(Instant::now()) {
            self.deliver(message).await;
            return;
        }
        let dropped = rate.dropped();
        update(&self.status, &self.changes, |s| s.dropped_rate += 1);
        if dropped == 1 {
            tracing::warn!(
                sink = self.kind.name(),
                target = %self.sink.url.redacted(),
                per_minute = self.limits.per_minute,
                "notification rate limit reached; dropping notices until there is room, then sending a summary"
            );
        }
    }

    /// Sends one message, trying again on failures worth it, at most `attempts` times.
    async fn deliver(&self, message: Message) {
        let body = match serde_json::to_vec(&self.kind.payload(&message)) {
            Ok(body) => body,
            Err(e) => {
                self.failed(&PostError::Client(e.to_string()), 1);
                return;
            }
        };
        let attempts = self.limits.attempts.max(1);
        for attempt in 1..=attempts {
            match post(
                &self.client,
                &self.sink.url,
                body.clone(),
                self.limits.timeout,
            )
            .await
            {
                Ok(()) => {
                    update(&self.status, &self.changes, |s| {
                        s.sent += 1;
                        s.last_sent_at = Some(OffsetDateTime::now_utc());
                    });
                    tracing::debug!(sink = self.kind.name(), target = %self.sink.url.redacted(), attempt, "notification sent");
                    return;
                }
                Err(error) if error.retryable() && attempt < attempts => {
                    let wait = self.limits.backoff.delay(attempt, &error);
                    tracing::warn!(
                        sink = self.kind.name(),
                        target = %self.sink.url.redacted(),
                        attempt,
                        attempts,
                        retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        error = %error,
                        "notification failed; trying again"
                    );
                    update(&self.status, &self.changes, |s| {
                        s.retried += 1;
                        s.last_error = Some(error.to_string());
                        s.last_error_at = Some(OffsetDateTime::now_utc());
                    });
                    tokio::time::sleep(wait).await;
                }
                Err(error) => {
                    self.failed(&error, attempt);
                    return;
                }
            }
        }
    }

    fn failed(&self, error: &PostError, attempts: u32) {
        tracing::warn!(
            sink = self.kind.name(),
            target = %self.sink.url.redacted(),
            attempts,
            error = %error,
            "notification not delivered"
        );
        update(&self.status, &self.changes, |s| {
            s.failed += 1;
            s.last_error = Some(error.to_string());
            s.last_error_at = Some(OffsetDateTime::now_utc());
        });
    }
}

fn lock(status: &Mutex<SinkStatus>) -> std::sync::MutexGuard<'_, SinkStatus> {
    // A panic while holding this lock leaves plain counters: still worth reading.
    status.lock().unwrap_or_else(PoisonError::into_inner)
}

fn update<T>(
    status: &Mutex<SinkStatus>,
    changes: &watch::Sender<u64>,
    change: impl FnOnce(&mut SinkStatus) -> T,
) -> T {
    let out = change(&mut lock(status));
    changes.send_modify(|n| *n = n.wrapping_add(1));
    out
}
