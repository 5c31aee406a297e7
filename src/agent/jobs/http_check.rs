//! `service_health`: one HTTP(S) GET from the agent (reqwest), then the expected status, a
//! body substring and a JSON field; the body is read up to a bound, never whole.

use std::time::Duration;

use super::checks::check;
use crate::diag::error_chain;
use crate::protocol::{CheckResult, JsonFieldCheck};

/// The most body read for `body_contains` / `json_field`.
pub const BODY_LIMIT: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct HttpChecks {
    pub url: String,
    pub expect_status: Option<u16>,
    pub body_contains: Option<String>,
    pub json_field: Option<JsonFieldCheck>,
    pub timeout: Duration,
}

/// The client every health check shares (connection pool, ring-backed rustls).
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("fleetdeck-agent/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// Checks the URL scheme before anything is sent.
pub fn validate_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("url `{url}`: {e}"))?;
    match parsed.scheme() {
        "http" | "https" => Ok(()),
        other => Err(format!(
            "url `{url}`: scheme `{other}` is not http or https"
        )),
    }
}

/// Runs the request and the checks. With no expectation given, the status must be 2xx.
pub async fn run(client: &reqwest::Client, wanted: &HttpChecks) -> Vec<CheckResult> {
    let response = match client.get(&wanted.url).timeout(wanted.timeout).send().await {
        Ok(r) => r,
        Err(e) => {
            let why = if e.is_timeout() {
                format!("no answer within {} ms", wanted.timeout.as_millis())
            } else {
                error_chain(&e)
            };
            return vec![check(
                "request",
                false,
                format!("GET {}: {why}", wanted.url),
            )];
        }
    };
    let status = response.status();
    let mut out = vec![match wanted.expect_status {
        Some(want) => check(
            "status",
            status.as_u16() == want,
            format!("status {} (want {want})", status.as_u16()),
        ),
        None => check(
            "status",
            status.is_success(),
            format!("status {} (want 2xx)", status.as_u16()),
        ),
    }];
    if wanted.body_contains.is_none() && wanted.json_field.is_none() {
        return out;
    }
    let body = match read_bounded(response).await {
        Ok(b) => b,
        Err(e) => {
            out.push(check("body", false, format!("reading the body: {e}")));
            return out;
        }
    };
    if let Some(needle) = &wanted.body_contains {
        let text = String::from_utf8_lossy(&body);
        let found = text.contains(needle.as_str());
        let detail = if found {
            format!("body contains {needle:?}")
        } else {
            format!("body does not contain {needle:?}")
        };
        out.push(check("body_contains", found, detail));
    }
    if let Some(field) = &wanted.json_field {
        out.push(json_check(&body, field));
    }
    out
}

fn json_check(body: &[u8], field: &JsonFieldCheck) -> CheckResult {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return check("json_field", false, format!("body is not JSON: {e}")),
    };
    match value.pointer(&field.pointer) {
        Some(found) if *found == field.equals => {
            check("json_field", true, format!("{} is {found}", field.pointer))
        }
        Some(found) => check(
            "json_field",
            false,
            format!("{} is {found} (want {})", field.pointer, field.equals),
        ),
        None => check("json_field", false, format!("{} is missing", field.pointer)),
    }
}

/// The body up to [`BODY_LIMIT`] bytes; the rest is not read.
async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while body.len() < BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = BODY_LIMIT - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(e) => return Err(error_chain(&e)),
        }
    }
    Ok(body)
}
