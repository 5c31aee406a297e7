//! Fleet metrics: what a host's load looks like, from wherever it comes. The reading of
//! Linux's own counters (the fixed probe an SSH sampler runs, never a command of a user's
//! choosing, its parser, and the rates computed from two readings), the sample every source
//! maps to, and each host's tiers. Also run statistics counted from recorded runs, and a
//! writer of Prometheus' text format.
//!
//! No connections to targets here: the engine runs the probe through a transport and hands
//! the text over.

pub mod book;
pub mod probe;
pub mod prom_text;
pub mod rates;
pub mod sample;
pub mod select;
pub mod series;
pub mod stats;

pub use book::{FleetMetrics, HostNow, MetricsFrame, STALE_INTERVALS};
pub use probe::{ProbeError, Reading, parse_probe, probe_command};
pub use rates::{HostSample, sample_between};
pub use sample::{Availability, Metric, Sample, Source};
pub use series::{Closed, HostSeries, Point, Tier, Window};
