//! Prometheus Alertmanager as an incident source (API v2): `[alertmanager]` settings, a client
//! bounded in time and size, alerts in a neutral shape, their mapping to inventory hosts, a
//! pure reconciler telling firing from resolved between polls, and acknowledgement as a
//! silence. It knows nothing of the incident book: the engine's collector feeds the book with
//! [`Observation`]s, and the console calls [`AlertmanagerSource::ack`].

pub mod alert;
pub mod client;
pub mod error;
pub mod hosts;
pub mod reconcile;
pub mod settings;
pub mod silence;
pub mod source;

pub use alert::{AlertState, AmAlert, parse_alerts};
pub use client::{AlertmanagerClient, DEFAULT_MAX_BYTES};
pub use error::{AmError, AmErrorKind};
pub use hosts::{HostIndex, HostMatch, Unmapped, host_part, map_hosts};
pub use reconcile::{Observation, Reconciler, Resolution};
pub use settings::AlertmanagerSettings;
pub use silence::{Matcher, NewSilence, Silence};
pub use source::AlertmanagerSource;
