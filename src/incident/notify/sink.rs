//! A place notices go (Slack or the generic webhook) and the one POST that delivers a message
//! there, bounded in time. Errors never carry the URL: reqwest's text (which repeats it) is
//! left out and what remains is scrubbed of it anyway.

use std::time::Duration;

use serde_json::Value;

use super::notice::Message;
use super::retry::PostError;
use super::secret_url::SecretUrl;
use super::{slack, webhook};
use crate::metrics::scrape::{innermost, refused};

/// The most of an error answer read, and the most of it quoted.
const ERROR_BODY_BYTES: usize = 4096;
const ERROR_BODY_CHARS: usize = 120;

/// The kinds of sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SinkKind {
    /// A Slack incoming webhook (Block Kit).
    Slack,
    /// `[notify.webhook]`: the flat JSON body README documents.
    Webhook,
}

impl SinkKind {
    pub fn name(self) -> &'static str {
        match self {
            SinkKind::Slack => "slack",
            SinkKind::Webhook => "webhook",
        }
    }

    /// The JSON body for `message`.
    pub fn payload(self, message: &Message) -> Value {
        match self {
            SinkKind::Slack => slack::payload(message),
            SinkKind::Webhook => webhook::payload(message),
        }
    }
}

/// A sink: its kind and its (secret) URL.
#[derive(Debug, Clone)]
pub struct Sink {
    pub kind: SinkKind,
    pub url: SecretUrl,
}

/// POSTs `body` as JSON; the whole exchange within `timeout`.
pub(crate) async fn post(
    client: &reqwest::Client,
    url: &SecretUrl,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<(), PostError> {
    let exchange = async {
        let mut response = client
            .post(url.expose().clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| classify(e, timeout))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut quoted = Vec::new();
        while quoted.len() < ERROR_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => quoted.extend_from_slice(&chunk),
                _ => break,
            }
        }
        Err(PostError::Status {
            code: status.as_u16(),
            body: one_line(&quoted),
            retry_after,
        })
    };
    let result = match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_elapsed) => Err(PostError::TimedOut(timeout)),
    };
    result.map_err(|e| scrub(e, url))
}

fn classify(e: reqwest::Error, timeout: Duration) -> PostError {
    let e = e.without_url();
    if e.is_timeout() {
        PostError::TimedOut(timeout)
    } else if refused(&e) {
        PostError::Refused
    } else if e.is_builder() {
        PostError::Client(innermost(&e))
    } else {
        PostError::Connect(innermost(&e))
    }
}

/// Removes the URL and its path from an error's text, should any library have put it there.
fn scrub(error: PostError, url: &SecretUrl) -> PostError {
    let clean = |text: String| {
        let full = url.expose().as_str();
        let path = url.expose().path();
        let mut text = text.replace(full, url.redacted());
        if path.len() > 1 {
            text = text.replace(path, "/…");
        }
        if let Some(query) = url.expose().query() {
            text = text.replace(query, "…");
        }
        text
    };
    match error {
        PostError::Status {
            code,
            body,
            retry_after,
        } => PostError::Status {
            code,
            body: clean(body),
            retry_after,
        },
        PostError::Connect(why) => PostError::Connect(clean(why)),
        PostError::Client(why) => PostError::Client(clean(why)),
        other => other,
    }
}

fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(ERROR_BODY_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_scrubbed_of_the_url() {
        let Ok(url) = SecretUrl::parse("https://hooks.example/services/T1/secret?token=abc") else {
            panic!("url refused")
        };
        let e = scrub(
            PostError::Status {
                code: 404,
                body: "no hook at /services/T1/secret or https://hooks.example/services/T1/secret?token=abc".to_string(),
                retry_after: None,
            },
            &url,
        );
        let text = e.to_string();
        assert!(!text.contains("secret") && !text.contains("abc"), "{text}");
    }
}
