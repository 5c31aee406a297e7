//! Reading the endpoint's answer: the chat-completions JSON, the text sanitized for a
//! terminal, and the action template it names, if any.

use serde::Deserialize;

use super::AnalysisError;

/// The model's suggestion. Shown labelled as such; never acted on by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The answer, without control characters (newlines and tabs kept).
    pub text: String,
    /// The model that answered (as the endpoint says, else as asked).
    pub model: String,
    /// An available action template the answer names (the first named, in its order).
    pub suggested_action: Option<String>,
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
}

/// An OpenAI-style error body: `{"error": {"message": …}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
}

/// The analysis in a successful answer's body.
pub fn parse(
    body: &[u8],
    asked_model: &str,
    actions: &[String],
) -> Result<Analysis, AnalysisError> {
    let completion: Completion = serde_json::from_slice(body)
        .map_err(|e| AnalysisError::InvalidAnswer(format!("not chat-completions JSON: {e}")))?;
    let Some(first) = completion.choices.into_iter().next() else {
        return Err(AnalysisError::InvalidAnswer(
            "no choices in the answer".into(),
        ));
    };
    let text = sanitize(
        first
            .message
            .and_then(|m| m.content)
            .as_deref()
            .unwrap_or_default(),
    );
    if text.trim().is_empty() {
        return Err(AnalysisError::InvalidAnswer("the answer is empty".into()));
    }
    let model = completion
        .model
        .map(|m| sanitize(&m).replace(['\n', '\t'], " "))
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| asked_model.to_string());
    let suggested_action = named_action(&text, actions);
    Ok(Analysis {
        text: text.trim().to_string(),
        model,
        suggested_action,
    })
}

/// The `error.message` of an error answer, if it has one, sanitized and short.
pub fn error_message(body: &[u8]) -> Option<String> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    let text = sanitize(&parsed.error.message).replace(['\n', '\t'], " ");
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(200).collect())
}

/// `text` without control characters other than newline and tab (no escape sequences reach
/// the terminal; `\r` would let a line overwrite itself).
pub fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// The available action named earliest in `text` as a whole word (not part of a longer
/// name); at one place, the longest name.
pub fn named_action(text: &str, actions: &[String]) -> Option<String> {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    let mut best: Option<(usize, &String)> = None;
    for name in actions.iter().filter(|n| !n.is_empty()) {
        let found = text.match_indices(name.as_str()).find(|(i, _)| {
            let before = text[..*i].chars().next_back();
            let after = text[i + name.len()..].chars().next();
            !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
        });
        if let Some((i, _)) = found {
            let better = match best {
                None => true,
                Some((bi, bn)) => i < bi || (i == bi && name.len() > bn.len()),
            };
            if better {
                best = Some((i, name));
            }
        }
    }
    best.map(|(_, n)| n.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_sanitized_and_name_an_action() {
        let actions = vec!["service-restart".to_string(), "service-status".to_string()];
        let body = br#"{"model":"m-1","choices":[{"message":{"role":"assistant","content":"\u001b[31mRun `service-status` first,\r then service-restart.\n"}}]}"#;
        let a = parse(body, "asked", &actions).unwrap();
        assert_eq!(a.model, "m-1");
        assert_eq!(
            a.text,
            "[31mRun `service-status` first, then service-restart."
        );
        assert_eq!(a.suggested_action.as_deref(), Some("service-status"));
        assert_eq!(named_action("my-service-status-x", &actions), None);
        let no_model = br#"{"choices":[{"message":{"content":"ok"}}]}"#;
        assert_eq!(parse(no_model, "asked", &[]).unwrap().model, "asked");
    }

    #[test]
    fn bad_answers_are_clear_errors() {
        for (body, wanted) in [
            (&b"<html>"[..], "not chat-completions JSON"),
            (br#"{"choices":[]}"#, "no choices"),
            (br#"{"choices":[{"message":{"content":"  "}}]}"#, "empty"),
            (br#"{"choices":[{"finish_reason":"length"}]}"#, "empty"),
        ] {
            let e = parse(body, "m", &[]).unwrap_err().to_string();
            assert!(e.contains(wanted), "{e}");
        }
        assert_eq!(
            error_message(br#"{"error":{"message":"bad key\u001b"}}"#).as_deref(),
            Some("bad key")
        );
    }
}
