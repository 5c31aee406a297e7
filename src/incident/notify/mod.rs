//! Notifications of incidents opened, acknowledged and resolved: to a Slack incoming webhook
//! (Block Kit, alert text escaped so it cannot ping or link) and to a generic JSON webhook.
//! Delivery runs in background tasks fed by bounded queues: it never blocks the caller, is
//! rate-limited per sink, retried with backoff, bounded in time, and its failures are logged
//! (the URL shown as scheme and host only) and kept as a status the console shows. It knows
//! nothing of the incident book: the caller builds a [`Notice`] and calls
//! [`Notifier::notify`].

pub mod notice;
pub mod notifier;
pub mod rate;
pub mod retry;
pub mod secret_url;
pub mod settings;
pub mod sink;
pub mod slack;
pub mod status;
pub mod webhook;

pub use notice::{Message, Notice, NoticeEvent};
pub use notifier::{DEFAULT_QUEUE, Limits, Notifier};
pub use retry::{Backoff, PostError};
pub use secret_url::SecretUrl;
pub use settings::{NotifySettings, SlackSettings, WebhookSettings};
pub use sink::{Sink, SinkKind};
pub use status::SinkStatus;
