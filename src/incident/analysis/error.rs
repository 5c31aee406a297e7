//! Why an analysis gave no answer. The caller shows it beside the rule-based hint, which
//! stands; the texts never hold the API key or what was sent.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalysisError {
    /// `[analysis] endpoint` is empty.
    Off,
    /// `api_key_env` names a variable that is not set (or not UTF-8).
    NoKey(String),
    /// The HTTP client could not be set up, or the endpoint is not a usable URL.
    Client(String),
    /// Nothing listens there, or no connection could be made.
    Connect(String),
    /// No complete answer within the timeout (a hung or endlessly streaming endpoint).
    TimedOut(Duration),
    /// An answer other than 2xx, with the endpoint's own message if it gave one.
    Status(u16, Option<String>),
    /// The answer went past `[analysis] max_answer`; the rest was not read.
    TooLarge(u64),
    /// A 2xx answer that is not a usable chat completion.
    InvalidAnswer(String),
}

impl fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnalysisError::Off => f.write_str("analysis is off ([analysis] endpoint is empty)"),
            AnalysisError::NoKey(var) => write!(
                f,
                "analysis: the API key variable {var} ([analysis] api_key_env) is not set"
            ),
            AnalysisError::Client(why) => write!(f, "analysis: {why}"),
            AnalysisError::Connect(why) => write!(f, "analysis endpoint unreachable: {why}"),
            AnalysisError::TimedOut(after) => write!(
                f,
                "analysis endpoint gave no complete answer within {}",
                crate::config::units::format_duration(*after)
            ),
            AnalysisError::Status(code, Some(msg)) => {
                write!(f, "analysis endpoint answered HTTP {code}: {msg}")
            }
            AnalysisError::Status(code, None) => {
                write!(f, "analysis endpoint answered HTTP {code}")
            }
            AnalysisError::TooLarge(max) => write!(
                f,
                "analysis answer is larger than {} ([analysis] max_answer)",
                crate::config::units::format_size(*max)
            ),
            AnalysisError::InvalidAnswer(why) => write!(f, "analysis answer unusable: {why}"),
        }
    }
}

impl std::error::Error for AnalysisError {}
