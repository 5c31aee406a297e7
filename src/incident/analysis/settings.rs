//! `[analysis]` of config.toml: the optional chat-completions endpoint and what may reach it.
//! Off by default (no endpoint). Checked when config.toml loads, so a bad URL or regex is a
//! file:line:column error from `fleetdeck check`.

use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::units::{ByteSize, HumanDuration};

/// `[analysis]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisSettings {
    /// An OpenAI-compatible chat-completions URL
    /// (`https://api.openai.com/v1/chat/completions`, `http://127.0.0.1:11434/v1/chat/completions`);
    /// empty means off.
    #[serde(deserialize_with = "de_endpoint")]
    pub endpoint: String,
    /// The model asked for.
    pub model: String,
    /// The environment variable holding the API key (sent as a bearer token); empty sends
    /// none (local servers).
    pub api_key_env: String,
    /// Regexes whose matches are replaced with `[redacted]` before anything is sent, on top
    /// of the built-in patterns (tokens, keys, passwords).
    pub redact: Vec<RedactPattern>,
    /// The whole request, answer included.
    #[serde(deserialize_with = "de_timeout")]
    pub timeout: HumanDuration,
    /// The largest answer body read.
    #[serde(deserialize_with = "de_max_answer")]
    pub max_answer: ByteSize,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            model: "gpt-4o-mini".to_string(),
            api_key_env: "OPENAI_API_KEY".to_string(),
            redact: Vec::new(),
            timeout: HumanDuration(Duration::from_secs(20)),
            max_answer: ByteSize(256 << 10),
        }
    }
}

impl AnalysisSettings {
    /// The endpoint, `None` when analysis is off.
    pub fn endpoint(&self) -> Option<&str> {
        Some(self.endpoint.trim()).filter(|e| !e.is_empty())
    }
}

/// A `redact` regex, compiled when config.toml loads.
#[derive(Debug, Clone)]
pub struct RedactPattern(pub Regex);

impl PartialEq for RedactPattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl<'de> Deserialize<'de> for RedactPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Err(serde::de::Error::custom(
                "an empty redact pattern would match everywhere",
            ));
        }
        Regex::new(&text).map(RedactPattern).map_err(|e| {
            // regex's message spans several lines (pattern, caret, reason): one line here.
            let why = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            serde::de::Error::custom(format!("redact pattern `{text}` does not compile: {why}"))
        })
    }
}

impl Serialize for RedactPattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

fn de_endpoint<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    match reqwest::Url::parse(trimmed) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(trimmed.to_string())
        }
        _ => Err(serde::de::Error::custom(format!(
            "endpoint must be an http(s) URL such as \
             \"https://api.openai.com/v1/chat/completions\" (or empty for off), got {text:?}"
        ))),
    }
}

fn de_timeout<'de, D: Deserializer<'de>>(d: D) -> Result<HumanDuration, D::Error> {
    let t = HumanDuration::deserialize(d)?;
    if t.0.is_zero() {
        return Err(serde::de::Error::custom(
            "timeout must be more than 0s (an analysis must end)",
        ));
    }
    Ok(t)
}

fn de_max_answer<'de, D: Deserializer<'de>>(d: D) -> Result<ByteSize, D::Error> {
    let size = ByteSize::deserialize(d)?;
    if size.0 < 1024 || size.0 > 16 << 20 {
        return Err(serde::de::Error::custom(format!(
            "max_answer must be between 1KiB and 16MiB, got {size}"
        )));
    }
    Ok(size)
}
