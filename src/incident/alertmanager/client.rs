//! The HTTP side: Alertmanager's API v2, each request bounded in time and in body size,
//! failures sorted into [`AmErrorKind`] with the URL asked. What the bodies say is parsed in
//! alert.rs and silence.rs.

use std::time::Duration;

use reqwest::{Method, Url};

use super::alert::{AmAlert, parse_alerts};
use super::error::{AmError, AmErrorKind, redact};
use super::settings::{AlertmanagerSettings, check_url};
use super::silence::{NewSilence, Silence, parse_created, parse_silences};
use crate::diag::error_chain;
use crate::metrics::scrape::{innermost, refused};

/// The largest answer read: 10,000 alerts with a dozen labels each take about 8 MiB.
pub const DEFAULT_MAX_BYTES: usize = 32 << 20;

/// Error bodies are quoted up to this many characters.
const ERROR_BODY_CHARS: usize = 200;

/// A client of one Alertmanager; cheap to clone (one connection pool shared by the clones).
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    client: reqwest::Client,
    base: Url,
    timeout: Duration,
    max_bytes: usize,
}

impl AlertmanagerClient {
    /// A client of the Alertmanager at `base_url` (e.g. `http://127.0.0.1:9093`, a path
    /// prefix kept) whose requests take at most `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> Result<AlertmanagerClient, AmError> {
        let mut base = check_url(base_url).map_err(|why| AmError {
            endpoint: base_url.to_string(),
            kind: AmErrorKind::BadUrl(why),
        })?;
        // Joining "api/v2/…" keeps a path prefix only when it ends with a slash.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("fleetdeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            // The API does not redirect; a redirect means a login page or a wrong URL.
            .redirect(reqwest::redirect::Policy::none())
            // A fresh connection per request: a kept one fails the first poll after an
            // Alertmanager restart (hyper does not retry on a pooled connection the server
            // closed), and one handshake per poll interval costs nothing.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| AmError {
                endpoint: redact(&base),
                kind: AmErrorKind::Client(error_chain(&e.without_url())),
            })?;
        Ok(AlertmanagerClient {
            client,
            base,
            timeout,
            max_bytes: DEFAULT_MAX_BYTES,
        })
    }

    /// The client `[alertmanager]` describes; `None` when its `url` is empty (off).
    pub fn from_settings(
        settings: &AlertmanagerSettings,
    ) -> Result<Option<AlertmanagerClient>, AmError> {
        settings
            .url()
            .map(|url| AlertmanagerClient::new(url, settings.timeout.0))
            .transpose()
    }

    /// Reads at most `max_bytes` of any answer (default [`DEFAULT_MAX_BYTES`]).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> AlertmanagerClient {
        self.max_bytes = max_bytes;
        self
    }

    /// The base URL, credentials removed, for status lines.
    pub fn base_url(&self) -> String {
        redact(&self.base)
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET /api/v2/alerts`: active, silenced, inhibited and unprocessed alerts (resolved ones
    /// are not listed by Alertmanager).
    pub async fn alerts(&self) -> Result<Vec<AmAlert>, AmError> {
        let url = self.endpoint("api/v2/alerts")?;
        let body = self.send(Method::GET, &url, None).await?;
        parse_alerts(&body).map_err(|why| self.error(&url, AmErrorKind::Garbage(why)))
    }

    /// `POST /api/v2/silences`; returns the new silence's id.
    pub async fn create_silence(&self, silence: &NewSilence) -> Result<String, AmError> {
        let url = self.endpoint("api/v2/silences")?;
        let body = serde_json::to_vec(silence)
            .map_err(|e| self.error(&url, AmErrorKind::Client(e.to_string())))?;
        let answer = self.send(Method::POST, &url, Some(body)).await?;
        parse_created(&answer).map_err(|why| self.error(&url, AmErrorKind::Garbage(why)))
    }

    /// `GET /api/v2/silences`: every silence Alertmanager still keeps, expired ones included.
    pub async fn silences(&self) -> Result<Vec<Silence>, AmError> {
        let url = self.endpoint("api/v2/silences")?;
        let body = self.send(Method::GET, &url, None).await?;
        parse_silences(&body).map_err(|why| self.error(&url, AmErrorKind::Garbage(why)))
    }

    fn endpoint(&self, path: &str) -> Result<Url, AmError> {
        self.base.join(path).map_err(|e| AmError {
            endpoint: redact(&self.base),
            kind: AmErrorKind::BadUrl(e.to_string()),
        })
    }

    fn error(&self, url: &Url, kind: AmErrorKind) -> AmError {
        AmError {
            endpoint: redact(url),
            kind,
        }
    }

    /// One request, the whole of it (connect, send, read) within the timeout.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, AmError> {
        match tokio::time::timeout(self.timeout, self.exchange(method, url, body)).await {
            Ok(result) => result.map_err(|kind| self.error(url, kind)),
            Err(_elapsed) => Err(self.error(url, AmErrorKind::TimedOut(self.timeout))),
        }
    }

    async fn exchange(
        &self,
        method: Method,
        url: &Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, AmErrorKind> {
        let mut request = self
            .client
            .request(method, url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let mut response = request.send().await.map_err(|e| self.kind_of(&e))?;
        let status = response.status();
        // A declared length past the bound fails before anything is read.
        if response
            .content_length()
            .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > self.max_bytes))
        {
            return Err(AmErrorKind::TooLarge(self.max_bytes));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.kind_of(&e))? {
            if bytes.len() + chunk.len() > self.max_bytes {
                return Err(AmErrorKind::TooLarge(self.max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(AmErrorKind::Status {
                code: status.as_u16(),
                body: error_body(&bytes),
            });
        }
        Ok(bytes)
    }

    /// Sorts reqwest's error into the short kinds (reqwest's own text is left out: it repeats
    /// the URL, credentials included).
    fn kind_of(&self, e: &reqwest::Error) -> AmErrorKind {
        if e.is_timeout() {
            return AmErrorKind::TimedOut(self.timeout);
        }
        if refused(e) {
            return AmErrorKind::Refused;
        }
        if e.is_connect() {
            return AmErrorKind::Connect(innermost(e));
        }
        if e.is_body() || e.is_decode() {
            return AmErrorKind::Body(innermost(e));
        }
        AmErrorKind::Connect(innermost(e))
    }
}

/// The start of an error answer, on one line (Alertmanager explains a refused silence there).
fn error_body(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let one_line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(ERROR_BODY_CHARS)
        .collect();
    one_line.trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_refused_with_the_url() {
        for url in ["127.0.0.1:9093", "file:///etc/passwd", ""] {
            let Err(e) = AlertmanagerClient::new(url, Duration::from_secs(1)) else {
                panic!("{url} accepted")
            };
            assert!(matches!(e.kind, AmErrorKind::BadUrl(_)), "{e}");
            assert_eq!(e.endpoint, url);
        }
    }

    #[test]
    fn a_path_prefix_is_kept() {
        let Ok(c) = AlertmanagerClient::new("http://am:9093/prefix", Duration::from_secs(1)) else {
            panic!("client refused")
        };
        let Ok(url) = c.endpoint("api/v2/alerts") else {
            panic!("no endpoint")
        };
        assert_eq!(url.as_str(), "http://am:9093/prefix/api/v2/alerts");
    }

    #[test]
    fn error_bodies_are_one_short_line() {
        assert_eq!(
            error_body(b"\"silence invalid:\n  bad\"\n"),
            "silence invalid: bad"
        );
        assert_eq!(error_body(&[b'x'; 500]).len(), ERROR_BODY_CHARS);
    }
}
