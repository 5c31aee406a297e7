//! The node_exporter collector: every `[metrics] exporter_interval`, each exporter-sampled host
//! scraped (bounded body and time, gzip accepted) and mapped to a sample; rates from the delta
//! with the previous good scrape, restarted when a counter went backwards (an exporter
//! restart). Scrapes run side by side (bounded), so a hung exporter delays nobody.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::rounds;
use crate::engine::session::view::SharedView;
use crate::metrics::Availability;
use crate::metrics::exporter_sampler::ExporterSampler;
use crate::metrics::scrape::{DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, Scraper};

/// Scrapes in flight at once.
const SCRAPES_AT_ONCE: usize = 64;

/// The exporter client every collector and `sample_now` use: a scrape takes at most
/// `DEFAULT_TIMEOUT` and `DEFAULT_MAX_BYTES`.
pub fn sampler() -> Result<Arc<ExporterSampler>, String> {
    Scraper::new(DEFAULT_TIMEOUT, DEFAULT_MAX_BYTES)
        .map(|s| Arc::new(ExporterSampler::new(s)))
        .map_err(|e| format!("cannot set up the node_exporter client: {e}"))
}

/// Scrapes `targets` (host, URL) every `every` until `stop`.
pub(crate) fn spawn(
    targets: Vec<(String, String)>,
    every: Duration,
    view: Arc<SharedView>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let sampler = match sampler() {
            Ok(s) => s,
            Err(why) => {
                for (host, _) in &targets {
                    view.set_availability(host, Availability::Failing(why.clone()));
                }
                return;
            }
        };
        let permits = Arc::new(Semaphore::new(SCRAPES_AT_ONCE));
        let round = || {
            targets
                .iter()
                .map(|(host, url)| {
                    let (host, url) = (host.clone(), url.clone());
                    let (sampler, permits) = (Arc::clone(&sampler), Arc::clone(&permits));
                    async move {
                        let _permit = permits.acquire().await;
                        let result = sampler.sample(&url).await;
                        (host, result)
                    }
                })
                .collect()
        };
        let done = |(host, result): (String, Result<_, _>)| match result {
            Ok(sample) => view.record_sample(&host, sample, Some(every)),
            Err(e) => {
                view.set_availability(&host, Availability::Failing(format!("node_exporter: {e}")))
            }
        };
        rounds::every(every, &stop, round, done).await;
    })
}
