//! The HTTP side: one POST of a chat-completions request, bounded in time (connecting,
//! sending and reading the whole answer) and in answer bytes. The API key comes from the
//! environment variable `[analysis] api_key_env` names, is sent only as the bearer token, and
//! is redacted from everything else.

use std::time::Duration;

use super::answer::{self, Analysis};
use super::error::AnalysisError;
use super::prompt::{self, AnalysisInput};
use super::redact::Redactor;
use super::settings::AnalysisSettings;
use crate::action::SecretValue;
use crate::diag::error_chain;

/// Asks the endpoint of `[analysis]`; cheap to clone.
#[derive(Debug, Clone)]
pub struct AnalysisClient {
    client: reqwest::Client,
    url: reqwest::Url,
    model: String,
    key: Option<SecretValue>,
    timeout: Duration,
    max_answer: u64,
    redactor: Redactor,
}

impl AnalysisClient {
    /// A client for `settings`; [`AnalysisError::Off`] without an endpoint. `known_secrets`
    /// (secret parameter values, agent tokens) are redacted from everything sent, on top of
    /// the built-in patterns and `redact`.
    pub fn new<'a>(
        settings: &AnalysisSettings,
        known_secrets: impl IntoIterator<Item = &'a str>,
    ) -> Result<AnalysisClient, AnalysisError> {
        let endpoint = settings.endpoint().ok_or(AnalysisError::Off)?;
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| AnalysisError::Client(format!("endpoint {endpoint}: {e}")))?;
        let key = match settings.api_key_env.trim() {
            "" => None,
            var => {
                let value = std::env::var(var).map_err(|_| AnalysisError::NoKey(var.into()))?;
                Some(
                    SecretValue::new(value.trim().to_string())
                        .map_err(|_| AnalysisError::Client(format!("{var} holds a newline")))?,
                )
            }
        };
        let timeout = settings.timeout.0;
        let client = reqwest::Client::builder()
            .user_agent(concat!("fleetdeck/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .timeout(timeout)
            // A redirect would resend the key to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AnalysisError::Client(error_chain(&e)))?;
        let mut redactor = Redactor::new(&settings.redact, known_secrets);
        if let Some(k) = &key {
            redactor.add_known([k.expose()]);
        }
        Ok(AnalysisClient {
            client,
            url,
            model: settings.model.clone(),
            key,
            timeout,
            max_answer: settings.max_answer.0,
            redactor,
        })
    }

    /// What would be sent for `input` (redacted), e.g. to show before asking.
    pub fn request_body(&self, input: &AnalysisInput) -> serde_json::Value {
        prompt::request_body(&self.model, input, &self.redactor)
    }

    /// Asks about `input`. Whatever happens, it ends within the timeout.
    pub async fn analyse(&self, input: &AnalysisInput) -> Result<Analysis, AnalysisError> {
        let body = self.request_body(input);
        let ask = self.ask(&body, &input.actions);
        match tokio::time::timeout(self.timeout, ask).await {
            Ok(result) => result,
            Err(_elapsed) => Err(AnalysisError::TimedOut(self.timeout)),
        }
    }

    async fn ask(
        &self,
        body: &serde_json::Value,
        actions: &[String],
    ) -> Result<Analysis, AnalysisError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| AnalysisError::Client(format!("cannot encode the request: {e}")))?;
        let mut request = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(bytes);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let mut response = request.send().await.map_err(|e| self.send_error(&e))?;
        let status = response.status();
        if response
            .content_length()
            .is_some_and(|n| n > self.max_answer)
        {
            return Err(AnalysisError::TooLarge(self.max_answer));
        }
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.send_error(&e))? {
            if (answer.len() + chunk.len()) as u64 > self.max_answer {
                return Err(AnalysisError::TooLarge(self.max_answer));
            }
            answer.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let message = answer::error_message(&answer).map(|m| self.redactor.redact(&m));
            return Err(AnalysisError::Status(status.as_u16(), message));
        }
        answer::parse(&answer, &self.model, actions).map(|mut a| {
            // An endpoint echoing what it was sent cannot bring a secret back to the screen.
            a.text = self.redactor.redact(&a.text);
            a
        })
    }

    fn send_error(&self, e: &reqwest::Error) -> AnalysisError {
        if e.is_timeout() {
            return AnalysisError::TimedOut(self.timeout);
        }
        let mut last: &dyn std::error::Error = e;
        while let Some(next) = last.source() {
            last = next;
        }
        let why = self.redactor.redact(&last.to_string());
        if e.is_connect() {
            AnalysisError::Connect(why)
        } else {
            AnalysisError::InvalidAnswer(format!("the answer broke off: {why}"))
        }
    }
}
