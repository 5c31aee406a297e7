//! Samples from node_exporter scrapes: keeps each URL's previous reading, so that CPU and
//! network rates come from the deltas of two scrapes (`rates::sample_between`). The first
//! scrape of a URL gives levels only (memory, disk, load); a counter that went backwards (the
//! host rebooted) gives no CPU or network figures for that interval, and the next one is
//! fine again. The engine's collectors hold one per session and call it from any task.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use super::exposition::{ExporterReading, ExpositionError, parse_exposition};
use super::rates::sample_between;
use super::sample::{Sample, Source};
use super::scrape::{ScrapeError, Scraper};

/// Why a URL gave no sample: the scrape failed, or what came back is not a usable exporter
/// answer. `Display` is short, for a table cell or `--json`'s `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExporterError {
    Scrape(ScrapeError),
    Exposition(ExpositionError),
}

impl fmt::Display for ExporterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExporterError::Scrape(e) => e.fmt(f),
            ExporterError::Exposition(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ExporterError {}

impl From<ScrapeError> for ExporterError {
    fn from(e: ScrapeError) -> Self {
        ExporterError::Scrape(e)
    }
}

impl From<ExpositionError> for ExporterError {
    fn from(e: ExpositionError) -> Self {
        ExporterError::Exposition(e)
    }
}

/// The last good reading of a URL and when it arrived.
struct Previous {
    reading: ExporterReading,
    at: Instant,
}

/// Scrapes exporters and turns each answer into a `Sample`. Memory: one reading per URL
/// scraped (`forget` drops a URL that left the inventory).
pub struct ExporterSampler {
    scraper: Scraper,
    previous: Mutex<HashMap<String, Previous>>,
}

impl ExporterSampler {
    pub fn new(scraper: Scraper) -> ExporterSampler {
        ExporterSampler {
            scraper,
            previous: Mutex::new(HashMap::new()),
        }
    }

    pub fn scraper(&self) -> &Scraper {
        &self.scraper
    }

    /// Scrapes `url` and returns the sample since its previous good scrape. No lock is held
    /// while scraping, so many URLs can be sampled at once.
    pub async fn sample(&self, url: &str) -> Result<Sample, ExporterError> {
        let text = self.scraper.scrape(url).await?;
        Ok(self.observe(url, &text, Instant::now(), SystemTime::now())?)
    }

    /// Takes one scrape's text of `url`, received at `at` (for rates) and `ts` (the sample's
    /// time). An answer that is not usable leaves the previous reading in place, so the next
    /// good one gives rates over the longer interval.
    pub fn observe(
        &self,
        url: &str,
        text: &str,
        at: Instant,
        ts: SystemTime,
    ) -> Result<Sample, ExpositionError> {
        let now = parse_exposition(text)?;
        let mut previous = self.previous.lock().unwrap_or_else(PoisonError::into_inner);
        let sample = match previous.get(url) {
            Some(before) => between(
                &before.reading,
                &now,
                at.saturating_duration_since(before.at),
                ts,
            ),
            None => between(&now, &now, Duration::ZERO, ts),
        };
        previous.insert(url.to_string(), Previous { reading: now, at });
        Ok(sample)
    }

    /// Drops what is kept of `url`; its next scrape gives levels only.
    pub fn forget(&self, url: &str) {
        self.previous
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(url);
    }
}

/// The sample over one interval, without the figures either end could not give. The same
/// reading at both ends (a URL's first scrape) passes no time, so it gives no rates.
fn between(
    earlier: &ExporterReading,
    later: &ExporterReading,
    elapsed: Duration,
    ts: SystemTime,
) -> Sample {
    let rates = sample_between(&earlier.reading, &later.reading, elapsed);
    let mut sample = Sample::from_rates(Source::NodeExporter, ts, &rates);
    let (was, is) = (earlier.unknown, later.unknown);
    if was.cpu || is.cpu {
        sample.cpu_pct = None;
    }
    if was.net || is.net {
        sample.net_rx_bps = None;
        sample.net_tx_bps = None;
    }
    if is.mem {
        sample.mem_pct = None;
    }
    if is.load {
        sample.load1 = None;
    }
    sample
}

#[cfg(test)]
mod tests;
