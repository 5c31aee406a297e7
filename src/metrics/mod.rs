//! Fleet metrics: what a host's load looks like, from wherever it comes. The reading of
//! Linux's own counters (the fixed probe an SSH sampler runs, never a command of a user's
//! choosing, its parser, and the rates computed from two readings), the node_exporter source
//! (its scraper, the exposition text mapped to the same reading, and the sampler keeping each
//! URL's previous reading), the sample every source maps to, and each host's tiers. Also run
//! statistics counted from recorded runs, and a writer of Prometheus' text format.
//!
//! No connections to targets here: the engine runs the probe through a transport and hands
//! the text over. The one HTTP client is the node_exporter scraper (`scrape.rs`), an
//! exporter being an HTTP endpoint its owner set up for this.

pub mod book;
pub mod exporter_sampler;
pub mod exposition;
pub mod probe;
pub mod prom_text;
pub mod rates;
pub mod sample;
pub mod scrape;
pub mod select;
pub mod series;
pub mod stats;

pub use book::{FleetMetrics, HostNow, MetricsFrame, STALE_INTERVALS};
pub use exporter_sampler::{ExporterError, ExporterSampler};
pub use exposition::{ExporterReading, ExpositionError, UnknownFigures, parse_exposition};
pub use probe::{CpuTimes, ProbeError, Reading, parse_probe, probe_command};
pub use rates::{HostSample, sample_between};
pub use sample::{Availability, Metric, Sample, Source};
pub use scrape::{DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, ScrapeError, Scraper};
pub use series::{Closed, HostSeries, Point, Tier, Window};
