//! The Slack incoming-webhook payload: Block Kit sections with severity, event, title, hosts
//! (folded), source, labels, hint and runbook link, plus the plain `text` Slack shows in
//! notifications. Every piece of alert text is escaped (`&`, `<`, `>` as Slack asks), so an
//! alert saying `<!channel>`, `<@U123>` or `<http://evil|click>` shows those characters and
//! cannot ping anyone or make a link; the only link is the runbook URL, and only when it is an
//! http(s) URL.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::notice::{Message, Notice, NoticeEvent};

/// Slack's limit for a section's text (we stay under it, escaped text included).
const SECTION_CHARS: usize = 3000;
/// Slack's limit for one field of a section.
const FIELD_CHARS: usize = 2000;
/// The notification text: short, it is what a phone shows.
const TEXT_CHARS: usize = 300;

/// The JSON body posted to the webhook.
pub fn payload(message: &Message) -> Value {
    match message {
        Message::Notice(notice) => notice_payload(notice),
        Message::Dropped { count, ts } => {
            let text = format!(
                ":warning: fleetdeck dropped {count} notification{} (rate limit, [notify] per_minute) before {}",
                if *count == 1 { "" } else { "s" },
                ts.format(&Rfc3339).unwrap_or_default()
            );
            json!({
                "text": text,
                "blocks": [section(&text)],
            })
        }
    }
}

fn notice_payload(n: &Notice) -> Value {
    let severity = n.severity.trim().to_uppercase();
    let emoji = match n.event {
        NoticeEvent::Resolved => ":white_check_mark:",
        NoticeEvent::Acked => ":eyes:",
        NoticeEvent::Opened => severity_emoji(&n.severity),
    };
    let folded = n.hosts_folded();
    let title_line = format!(
        "{emoji} *{}* · *{}* · {}",
        escape_capped(&severity, 40),
        n.event.verb(),
        escape_capped(&n.title, SECTION_CHARS - 200)
    );
    let mut blocks = vec![section(&title_line)];

    let hosts = if folded.is_empty() {
        "none".to_string()
    } else {
        format!(
            "{} ({})",
            escape_capped(&folded, FIELD_CHARS - 40),
            n.hosts.len()
        )
    };
    let mut fields = vec![
        field(&format!("*Hosts*\n{hosts}")),
        field(&format!("*Source*\n{}", escape_capped(&n.source, 200))),
        field(&format!(
            "*Incident*\n{}",
            escape_capped(&n.incident_id, 200)
        )),
    ];
    if let Some(who) = n.who.as_deref().filter(|w| !w.is_empty()) {
        fields.push(field(&format!("*By*\n{}", escape_capped(who, 200))));
    }
    blocks.push(json!({ "type": "section", "fields": fields }));

    if let Some(comment) = n.comment.as_deref().filter(|c| !c.trim().is_empty()) {
        blocks.push(section(&format!(
            "*Comment*\n{}",
            escape_capped(comment, SECTION_CHARS - 20)
        )));
    }
    if !n.labels.is_empty() {
        let labels = n
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("  ·  ");
        blocks.push(section(&format!(
            "*Labels*\n{}",
            escape_capped(&labels, SECTION_CHARS - 20)
        )));
    }
    if let Some(hint) = n.hint.as_deref().filter(|h| !h.trim().is_empty()) {
        blocks.push(section(&format!(
            "*Hint*\n{}",
            escape_capped(hint, SECTION_CHARS - 20)
        )));
    }
    if let Some(url) = n.runbook_url.as_deref().filter(|u| !u.trim().is_empty()) {
        blocks.push(section(&format!(
            "*Runbook*: {}",
            link(url, "open the runbook")
        )));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{
            "type": "mrkdwn",
            "text": format!("fleetdeck · {}", n.ts.format(&Rfc3339).unwrap_or_default()),
        }],
    }));

    let mut text = format!("[{severity}] {}: {}", n.event.verb(), n.title);
    if !folded.is_empty() {
        text.push_str(&format!(" on {folded}"));
    }
    json!({
        "text": escape_capped(&text, TEXT_CHARS),
        "blocks": blocks,
    })
}

fn severity_emoji(severity: &str) -> &'static str {
    match severity.trim().to_ascii_lowercase().as_str() {
        "critical" => ":red_circle:",
        "warning" => ":large_orange_circle:",
        "info" => ":large_blue_circle:",
        _ => ":white_circle:",
    }
}

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

fn field(text: &str) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

/// Slack's escaping: `&`, `<` and `>` as HTML entities. Nothing else is a control sequence.
pub fn escape(text: &str) -> String {
    escape_capped(text, usize::MAX)
}

/// [`escape`], stopping before the escaped text passes `max` characters (an entity is never
/// cut in half); a cut text ends with `…`.
pub fn escape_capped(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut count = 0usize;
    for c in text.chars() {
        let piece = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            _ => "",
        };
        let len = if piece.is_empty() { 1 } else { piece.len() };
        if count + len > max.saturating_sub(1) {
            out.push('…');
            return out;
        }
        if piece.is_empty() {
            out.push(c);
        } else {
            out.push_str(piece);
        }
        count += len;
    }
    out
}

/// `<url|label>` for an http(s) URL (the characters that would end the link escaped), the
/// escaped text for anything else.
fn link(url: &str, label: &str) -> String {
    let url = url.trim();
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return escape_capped(url, 500);
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return escape_capped(url, 500);
    }
    // The parsed form percent-encodes spaces, quotes and angle brackets; `|` would end the
    // URL part of the link, so it is encoded too.
    let target = escape(&parsed.as_str().replace('|', "%7C"));
    format!("<{target}|{}>", escape(label))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn hostile() -> Notice {
        let mut n = Notice::new(
            NoticeEvent::Opened,
            "01JABC",
            "<!channel> disk full <@U123> <http://evil|click> & more",
            "critical",
            "alertmanager",
        );
        n.hosts = vec!["web01".to_string(), "web02".to_string()];
        n.labels = BTreeMap::from([
            ("alertname".to_string(), "<!here>".to_string()),
            ("team".to_string(), "<#C999>".to_string()),
        ]);
        n.hint = Some("restart <!everyone>".to_string());
        n.runbook_url = Some("https://wiki.example/run|<!channel>".to_string());
        n
    }

    /// Every string inside a JSON value.
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Object(map) => map.values().for_each(|i| strings(i, out)),
            _ => {}
        }
    }

    #[test]
    fn alert_text_cannot_ping_or_link() {
        let body = payload(&Message::Notice(Box::new(hostile())));
        let mut texts = Vec::new();
        strings(&body, &mut texts);
        let all = texts.join("\n");
        for control in [
            "<!channel>",
            "<@U123>",
            "<http://evil",
            "<!here>",
            "<#C999>",
            "<!everyone>",
        ] {
            assert!(!all.contains(control), "{control} survived:\n{all}");
        }
        assert!(all.contains(
            "&lt;!channel&gt; disk full &lt;@U123&gt; &lt;http://evil|click&gt; &amp; more"
        ));
        // The one link is the runbook's, with its `|` and brackets unable to end it early.
        assert_eq!(all.matches('<').count(), 1, "{all}");
        assert!(
            all.contains("<https://wiki.example/run%7C%3C!channel%3E|open the runbook>"),
            "{all}"
        );
    }

    #[test]
    fn blocks_carry_severity_hosts_labels_hint_and_runbook() {
        let body = payload(&Message::Notice(Box::new(hostile())));
        let text = body["text"].as_str().unwrap_or_default();
        assert!(
            text.starts_with("[CRITICAL] Opened: &lt;!channel&gt;"),
            "{text}"
        );
        assert!(text.ends_with("on web[01-02]"), "{text}");
        let blocks = body["blocks"].as_array().cloned().unwrap_or_default();
        assert!(
            blocks[0]["text"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(":red_circle: *CRITICAL* · *Opened* ·"))
        );
        assert_eq!(blocks[1]["fields"][0]["text"], "*Hosts*\nweb[01-02] (2)");
        let mut texts = Vec::new();
        strings(&body, &mut texts);
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("*Labels*\nalertname=&lt;!here&gt;"))
        );
        assert!(
            texts
                .iter()
                .any(|t| t == "*Hint*\nrestart &lt;!everyone&gt;")
        );
    }

    #[test]
    fn a_non_http_runbook_is_text() {
        assert_eq!(link("javascript:alert(1)", "x"), "javascript:alert(1)");
        assert_eq!(link("<!channel>", "x"), "&lt;!channel&gt;");
    }

    #[test]
    fn caps_never_cut_an_entity() {
        assert_eq!(escape_capped("a<b", 4), "a…");
        assert_eq!(escape_capped("a<b", 6), "a&lt;…");
        assert_eq!(escape_capped("abc", 10), "abc");
        let long = "<".repeat(5000);
        assert!(escape_capped(&long, SECTION_CHARS).chars().count() <= SECTION_CHARS);
    }
}
