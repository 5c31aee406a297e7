//! A symbol for every host state, so no state is told by colour alone (colour-blind users,
//! `NO_COLOR`, 16-colour terminals that map two states to one colour).

use crate::engine::{HostState, RunStatus};

/// The symbol of `state`: Unicode, or ASCII for terminals and fonts without those glyphs.
/// Every symbol is one column wide, so tables line up either way.
pub fn state_symbol(state: &HostState, ascii: bool) -> &'static str {
    let (unicode, plain) = match state {
        HostState::Ok => ("✔", "+"),
        HostState::Failed { .. } => ("✘", "x"),
        HostState::Timeout { .. } => ("⏱", "t"),
        HostState::Unreachable { .. } => ("⚠", "?"),
        HostState::Error { .. } => ("↯", "!"),
        HostState::Running => ("▶", ">"),
        HostState::Connecting => ("↻", "~"),
        HostState::Pending => ("·", "."),
        HostState::Cancelled => ("⊘", "-"),
        HostState::Skipped { .. } => ("»", "="),
        HostState::Unknown { .. } => ("◌", "#"),
    };
    if ascii { plain } else { unicode }
}

/// The symbol of a run's status: the one of the host state of the same name.
pub fn run_status_symbol(status: RunStatus, ascii: bool) -> &'static str {
    let (unicode, plain) = match status {
        RunStatus::Ok => ("✔", "+"),
        RunStatus::Failed => ("✘", "x"),
        RunStatus::Unreachable => ("⚠", "?"),
        RunStatus::Cancelled => ("⊘", "-"),
        // Like its hosts that never finished.
        RunStatus::Interrupted => ("◌", "#"),
    };
    if ascii { plain } else { unicode }
}

/// Whether the locale says the terminal takes UTF-8: the first non-empty of `LC_ALL`,
/// `LC_CTYPE`, `LANG` (POSIX precedence) names UTF-8. Callers pass the values so tests can.
pub fn utf8_locale(lc_all: Option<&str>, lc_ctype: Option<&str>, lang: Option<&str>) -> bool {
    [lc_all, lc_ctype, lang]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::engine::{ErrorKind, ExitOutcome};

    /// One value of every state.
    pub(crate) fn every_state() -> Vec<HostState> {
        let outcome = ExitOutcome::Code { code: 1 };
        let kind = ErrorKind::Dns;
        vec![
            HostState::Pending,
            HostState::Connecting,
            HostState::Running,
            HostState::Ok,
            HostState::Failed {
                outcome: outcome.clone(),
            },
            HostState::Timeout { outcome },
            HostState::Unreachable {
                kind,
                message: String::new(),
            },
            HostState::Error {
                kind,
                message: String::new(),
            },
            HostState::Cancelled,
            HostState::Skipped {
                reason: String::new(),
            },
        ]
    }

    #[test]
    fn symbols_are_distinct_and_one_column_wide() {
        for ascii in [false, true] {
            let symbols: Vec<&str> = every_state()
                .iter()
                .map(|s| state_symbol(s, ascii))
                .collect();
            let mut unique = symbols.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), symbols.len(), "{symbols:?}");
            for s in &symbols {
                assert_eq!(ratatui::text::Span::raw(*s).width(), 1, "{s:?}");
                assert_eq!(s.is_ascii(), ascii, "{s:?}");
            }
        }
    }

    #[test]
    fn locale_precedence() {
        assert!(utf8_locale(None, None, Some("en_US.UTF-8")));
        assert!(!utf8_locale(Some("C"), None, Some("en_US.UTF-8")));
        assert!(utf8_locale(Some(""), Some("C.utf8"), Some("C")));
        assert!(!utf8_locale(None, None, None));
    }
}
