//! An HTTP check's probe of one host: a GET bounded in time (the check's `timeout`, connect
//! to last byte) and in body (`MAX_BODY`: only `body_contains` reads it). It passes when the
//! status is the expected one and the body holds the text; every other outcome is an error
//! message saying what was seen. Redirects are not followed: a health URL that redirects is
//! reported with its status.

use std::time::Duration;

use crate::incident::check::HttpProbe;
use crate::metrics::scrape::innermost;

/// The most body read for `body_contains`; a longer body is searched in this much only.
pub const MAX_BODY: usize = 64 << 10;

/// Probes hosts over one client (one connection pool per runner).
#[derive(Debug, Clone)]
pub struct HttpProber {
    client: reqwest::Client,
}

impl HttpProber {
    pub fn new() -> Result<HttpProber, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("fleetdeck-check/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            // One probe per `every`: a kept idle connection would fail the first probe after
            // the server restarts, which is a false alarm.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {}", innermost(&e)))?;
        Ok(HttpProber { client })
    }

    /// GET `url` (already filled for the host) as `probe` says. Ok: passed.
    pub async fn probe(&self, probe: &HttpProbe, url: &str) -> Result<(), String> {
        match tokio::time::timeout(probe.timeout, self.fetch(probe, url)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(format!("no answer within {}", seconds(probe.timeout))),
        }
    }

    async fn fetch(&self, probe: &HttpProbe, url: &str) -> Result<(), String> {
        let mut response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {}", innermost(&e)))?;
        let status = response.status().as_u16();
        if status != probe.status {
            return Err(format!(
                "GET {url}: status {status}, expected {}",
                probe.status
            ));
        }
        let Some(want) = &probe.body_contains else {
            return Ok(());
        };
        let mut body = Vec::new();
        while body.len() < MAX_BODY {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_BODY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                Err(e) => return Err(format!("GET {url}: reading the body: {}", innermost(&e))),
            }
        }
        if String::from_utf8_lossy(&body).contains(want.as_str()) {
            Ok(())
        } else {
            Err(format!(
                "GET {url}: status {status} but the body lacks `{want}`"
            ))
        }
    }
}

fn seconds(d: Duration) -> String {
    crate::config::units::HumanDuration(d).to_string()
}
