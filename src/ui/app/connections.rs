//! The console's picture of its connections: each host's link state as the transports last
//! reported it (a snapshot the event loop takes on ticks, so views never ask a transport),
//! with the counts the status bar shows and the symbol and word the Fleet view draws.

use std::collections::HashMap;

use crate::engine::ConnState;
use crate::ui::theme::scope;

/// Each host's connection state, by host name; hosts missing are not known yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connections {
    pub by_host: HashMap<String, ConnState>,
}

impl Connections {
    pub fn get(&self, host: &str) -> Option<&ConnState> {
        self.by_host.get(host)
    }

    /// Hosts with an open connection in the pool.
    pub fn pooled(&self) -> usize {
        self.count(|s| matches!(s, ConnState::Connected))
    }

    /// Hosts whose last connection attempt failed.
    pub fn failed(&self) -> usize {
        self.count(|s| matches!(s, ConnState::Failed { .. }))
    }

    fn count(&self, pred: impl Fn(&ConnState) -> bool) -> usize {
        self.by_host.values().filter(|s| pred(s)).count()
    }
}

/// How a state is drawn: a symbol (Unicode or ASCII, one column), a word, and the theme scope
/// that colours it. Symbol and word, never colour alone.
pub fn look(state: &ConnState, ascii: bool) -> (&'static str, String, &'static str) {
    let pick = |unicode: &'static str, plain: &'static str| if ascii { plain } else { unicode };
    match state {
        ConnState::NotTracked => ("", "-".to_string(), scope::UI_TEXT_DIM),
        ConnState::Local => ("", "local".to_string(), scope::UI_TEXT_DIM),
        ConnState::Closed => (pick("○", "o"), "closed".to_string(), scope::UI_TEXT_DIM),
        ConnState::Connecting => (
            pick("↻", "~"),
            "connecting".to_string(),
            scope::STATE_RUNNING_CONNECTING,
        ),
        ConnState::Connected => (pick("●", "*"), "open".to_string(), scope::STATE_OK),
        // The kind (hostkey, auth, dns…) fits a column and says where to look; the reason
        // is long (the run's host table has it).
        ConnState::Failed { kind, .. } => {
            (pick("✘", "x"), kind.to_string(), scope::STATE_UNREACHABLE)
        }
        ConnState::Unwatched { .. } => (
            pick("⊘", "-"),
            "no read token".to_string(),
            scope::UI_TEXT_DIM,
        ),
    }
}

/// `look` as one piece of text: `● open`, `local`.
pub fn label(state: &ConnState, ascii: bool) -> String {
    let (symbol, word, _) = look(state, ascii);
    if symbol.is_empty() {
        word
    } else {
        format!("{symbol} {word}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ErrorKind;

    fn every() -> Vec<ConnState> {
        vec![
            ConnState::NotTracked,
            ConnState::Local,
            ConnState::Closed,
            ConnState::Connecting,
            ConnState::Connected,
            ConnState::Failed {
                kind: ErrorKind::Auth,
                reason: "refused".into(),
            },
        ]
    }

    #[test]
    fn every_state_has_a_distinct_label_and_one_column_symbols() {
        for ascii in [false, true] {
            let labels: Vec<String> = every().iter().map(|s| label(s, ascii)).collect();
            let mut unique = labels.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), labels.len(), "{labels:?}");
            for s in every() {
                let (symbol, _, _) = look(&s, ascii);
                assert!(symbol.is_empty() || ratatui::text::Span::raw(symbol).width() == 1);
                assert_eq!(symbol.is_ascii(), ascii || symbol.is_empty(), "{symbol:?}");
            }
        }
        assert_eq!(
            label(
                &ConnState::Failed {
                    kind: ErrorKind::HostKey,
                    reason: String::new()
                },
                false
            ),
            "✘ hostkey"
        );
    }

    #[test]
    fn counts_pooled_and_failed() {
        let mut c = Connections::default();
        for (i, s) in every().into_iter().enumerate() {
            c.by_host.insert(format!("h{i}"), s);
        }
        c.by_host.insert("again".into(), ConnState::Connected);
        assert_eq!(c.pooled(), 2);
        assert_eq!(c.failed(), 1);
    }
}
