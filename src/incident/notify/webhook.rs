//! The generic webhook's JSON body: one flat, stable object per message (README documents it;
//! `v` changes only if a field changes meaning). Text is sent as it is: escaping is the
//! receiver's business.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::notice::Message;

/// The body's schema version.
pub const WEBHOOK_VERSION: u32 = 1;

/// The JSON body posted to `[notify.webhook] url`.
pub fn payload(message: &Message) -> Value {
    match message {
        Message::Notice(n) => json!({
            "v": WEBHOOK_VERSION,
            "event": n.event.as_str(),
            "ts": n.ts.format(&Rfc3339).unwrap_or_default(),
            "id": n.incident_id,
            "title": n.title,
            "severity": n.severity,
            "source": n.source,
            "hosts": n.hosts,
            "hosts_folded": n.hosts_folded(),
            "labels": n.labels,
            "runbook_url": n.runbook_url,
            "hint": n.hint,
            "who": n.who,
            "comment": n.comment,
        }),
        Message::Dropped { count, ts } => json!({
            "v": WEBHOOK_VERSION,
            "event": "dropped",
            "ts": ts.format(&Rfc3339).unwrap_or_default(),
            "dropped": count,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::notify::notice::{Notice, NoticeEvent};
    use time::macros::datetime;

    #[test]
    fn the_body_is_flat_and_stable() {
        let mut n = Notice::new(NoticeEvent::Acked, "01JX", "Disk full", "warning", "agent");
        n.ts = datetime!(2026-12-07 22:00 UTC);
        n.hosts = vec!["web02".to_string(), "web01".to_string()];
        n.labels.insert("unit".to_string(), "nginx".to_string());
        n.who = Some("ann@console".to_string());
        n.comment = Some("on it".to_string());
        assert_eq!(
            payload(&Message::Notice(Box::new(n))),
            json!({
                "v": 1, "event": "acked", "ts": "2026-12-07T22:00:00Z", "id": "01JX",
                "title": "Disk full", "severity": "warning", "source": "agent",
                "hosts": ["web02", "web01"], "hosts_folded": "web[01-02]",
                "labels": {"unit": "nginx"}, "runbook_url": null, "hint": null,
                "who": "ann@console", "comment": "on it"
            })
        );
        let dropped = Message::Dropped {
            count: 3,
            ts: datetime!(2026-12-07 22:01 UTC),
        };
        assert_eq!(
            payload(&dropped),
            json!({"v": 1, "event": "dropped", "ts": "2026-12-07T22:01:00Z", "dropped": 3})
        );
    }
}
