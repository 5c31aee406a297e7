//! The optional analysis: an OpenAI-compatible chat-completions endpoint asked about an
//! incident. `settings` is `[analysis]`, `redact` removes secrets from everything sent,
//! `prompt` builds the request from a neutral [`AnalysisInput`], `client` sends it bounded in
//! time and bytes, `answer` reads what comes back. The answer is a suggestion: nothing here
//! runs anything, and on any [`AnalysisError`] the rule-based hint stands.

pub mod answer;
pub mod client;
pub mod error;
pub mod prompt;
pub mod redact;
pub mod settings;

pub use answer::Analysis;
pub use client::AnalysisClient;
pub use error::AnalysisError;
pub use prompt::AnalysisInput;
pub use redact::{REDACTED, Redactor};
pub use settings::{AnalysisSettings, RedactPattern};
