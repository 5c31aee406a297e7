//! The HTTP side of a node_exporter source: one GET of its /metrics (gzip accepted), bounded in
//! time and in body size, with errors short enough for a table cell. What the body says is
//! `exposition.rs`'s business.

use crate::diag::error_chain;
use std::fmt;
use std::io;
use std::time::Duration;

/// How long one scrape may take, connecting and reading the body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest body read (after gzip is undone). A node_exporter answers with 50-500 KiB; a
/// host with thousands of systemd units or interfaces with a few MiB.
pub const DEFAULT_MAX_BYTES: usize = 16 << 20;

/// The exposition formats asked for: node_exporter would otherwise pick OpenMetrics or
/// protobuf for a client that accepts anything.
const ACCEPT: &str = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

/// Why a scrape gave no text. `Display` is short: it goes into a table cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrapeError {
    /// The URL is not an http(s) URL.
    BadUrl(String),
    /// Nothing listens on that port.
    Refused,
    /// No connection for another reason (DNS, unreachable, TLS).
    Connect(String),
    /// The whole scrape took longer than this.
    TimedOut(Duration),
    /// The server answered with a status other than 2xx.
    Status(u16),
    /// The body went past this many bytes; the rest was not read.
    TooLarge(usize),
    /// The body broke off, or its gzip is corrupt.
    Body(String),
    /// The body is not UTF-8, so not the text format.
    NotText,
    /// The HTTP client could not be set up.
    Client(String),
}

impl fmt::Display for ScrapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScrapeError::BadUrl(why) => write!(f, "bad URL: {why}"),
            ScrapeError::Refused => f.write_str("refused"),
            ScrapeError::Connect(why) => write!(f, "cannot connect: {why}"),
            ScrapeError::TimedOut(after) => write!(f, "timed out after {}", duration(*after)),
            ScrapeError::Status(code) => write!(f, "HTTP {code}"),
            ScrapeError::TooLarge(max) => write!(f, "body over {}", size(*max)),
            ScrapeError::Body(why) => write!(f, "body cut off: {why}"),
            ScrapeError::NotText => f.write_str("not Prometheus text: not UTF-8"),
            ScrapeError::Client(why) => write!(f, "HTTP client: {why}"),
        }
    }
}

impl std::error::Error for ScrapeError {}

/// Scrapes exporters; cheap to clone (one connection pool shared by the clones).
#[derive(Debug, Clone)]
pub struct Scraper {
    client: reqwest::Client,
    timeout: Duration,
    max_bytes: usize,
}

impl Scraper {
    /// A scraper whose scrapes take at most `timeout` and read at most `max_bytes` of body
    /// ([`DEFAULT_TIMEOUT`] and [`DEFAULT_MAX_BYTES`] suit a node_exporter).
    pub fn new(timeout: Duration, max_bytes: usize) -> Result<Scraper, ScrapeError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("fleetdeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            // An exporter does not redirect; a redirect says the URL is wrong, and its status
            // says so better than the page it leads to.
            .redirect(reqwest::redirect::Policy::none())
            // A fresh connection per scrape: an idle one kept across intervals costs a socket
            // per host and fails the first scrape after an exporter restart (hyper does not
            // retry a GET on a pooled connection the server closed); a handshake every 15 s
            // costs less than the parse.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| ScrapeError::Client(error_chain(&e)))?;
        Ok(Scraper {
            client,
            timeout,
            max_bytes,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// GETs `url` and returns its body as text. reqwest asks for gzip and undoes it; the size
    /// bound applies to the text, so a small compressed body cannot unpack into gigabytes.
    pub async fn scrape(&self, url: &str) -> Result<String, ScrapeError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| ScrapeError::BadUrl(format!("{url}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ScrapeError::BadUrl(format!(
                "{url}: scheme `{}` is not http or https",
                parsed.scheme()
            )));
        }
        match tokio::time::timeout(self.timeout, self.fetch(parsed)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(ScrapeError::TimedOut(self.timeout)),
        }
    }

    async fn fetch(&self, url: reqwest::Url) -> Result<String, ScrapeError> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, ACCEPT)
            .send()
            .await
            .map_err(|e| self.send_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ScrapeError::Status(status.as_u16()));
        }
        // A declared length past the bound fails before anything is read.
        let declared = response.content_length().unwrap_or(0);
        if usize::try_from(declared).map_or(true, |n| n > self.max_bytes) {
            return Err(ScrapeError::TooLarge(self.max_bytes));
        }
        let mut body = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.send_error(&e))? {
            if body.len() + chunk.len() > self.max_bytes {
                return Err(ScrapeError::TooLarge(self.max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| ScrapeError::NotText)
    }

    /// Sorts reqwest's error into the short kinds; the rest keep their causes.
    fn send_error(&self, e: &reqwest::Error) -> ScrapeError {
        if e.is_timeout() {
            return ScrapeError::TimedOut(self.timeout);
        }
        if refused(e) {
            return ScrapeError::Refused;
        }
        if e.is_connect() {
            return ScrapeError::Connect(innermost(e));
        }
        if e.is_body() || e.is_decode() {
            return ScrapeError::Body(innermost(e));
        }
        ScrapeError::Connect(error_chain(e))
    }
}

/// Whether an `io::Error` saying "connection refused" is among the causes.
pub(crate) fn refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused)
        {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The deepest cause: reqwest's own top level says only "error sending request".
pub(crate) fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// `5s`, `1.5s` or `300ms`.
fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() > 0 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `16 MiB`, `64 KiB` or `1000 bytes`.
fn size(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    const KIB: usize = 1 << 10;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_short_table_cells() {
        let cells = [
            (ScrapeError::Refused, "refused"),
            (
                ScrapeError::TimedOut(Duration::from_secs(5)),
                "timed out after 5s",
            ),
            (
                ScrapeError::TimedOut(Duration::from_millis(300)),
                "timed out after 300ms",
            ),
            (
                ScrapeError::TimedOut(Duration::from_millis(2500)),
                "timed out after 2.5s",
            ),
            (ScrapeError::TooLarge(DEFAULT_MAX_BYTES), "body over 16 MiB"),
            (ScrapeError::TooLarge(64 << 10), "body over 64 KiB"),
            (ScrapeError::TooLarge(1000), "body over 1000 bytes"),
            (ScrapeError::Status(503), "HTTP 503"),
            (ScrapeError::NotText, "not Prometheus text: not UTF-8"),
        ];
        for (err, cell) in cells {
            assert_eq!(err.to_string(), cell);
        }
    }

    #[tokio::test]
    async fn only_http_urls_are_scraped() {
        let Ok(scraper) = Scraper::new(DEFAULT_TIMEOUT, DEFAULT_MAX_BYTES) else {
            panic!("no HTTP client");
        };
        for url in ["file:///etc/passwd", "127.0.0.1:9100/metrics", "not a url"] {
            match scraper.scrape(url).await {
                Err(ScrapeError::BadUrl(why)) => assert!(why.contains(url), "{why}"),
                other => panic!("{url} gave {other:?}"),
            }
        }
    }
}
