//! The scopes the console styles, with what each one paints. Widgets name a scope (or call a
//! semantic method of `Theme`), never a colour, so every theme covers every widget.

/// One styleable part of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeInfo {
    pub name: &'static str,
    pub doc: &'static str,
}

/// Declares a constant per scope and the documented list of them all, so code and the list
/// cannot drift apart.
macro_rules! scopes {
    ($($konst:ident = $name:literal: $doc:literal;)*) => {
        $(#[doc = $doc] pub const $konst: &str = $name;)*
        /// Every scope a theme may set. Their dotted prefixes (`ui`, `ui.table`, `state`, …)
        /// may be set too: lookups fall back to them.
        pub const SCOPES: &[ScopeInfo] = &[$(ScopeInfo { name: $name, doc: $doc },)*];
    };
}

scopes! {
    UI_BACKGROUND = "ui.background": "The whole screen, drawn first (set `bg` here).";
    UI_TEXT = "ui.text": "Ordinary text.";
    UI_TEXT_DIM = "ui.text.dim": "Secondary text: timestamps, hints, counts.";
    UI_BORDER = "ui.border": "Borders of panels that do not have the focus.";
    UI_BORDER_FOCUSED = "ui.border.focused": "The border of the panel with the focus.";
    UI_TITLE = "ui.title": "Titles of panels that do not have the focus.";
    UI_TITLE_FOCUSED = "ui.title.focused": "The title of the panel with the focus.";
    UI_TABS = "ui.tabs": "The view tabs (fleet, runs, metrics, …).";
    UI_TABS_ACTIVE = "ui.tabs.active": "The tab of the view on screen.";
    UI_STATUSLINE = "ui.statusline": "The status bar.";
    UI_STATUSLINE_VIEW = "ui.statusline.view": "The view name at the start of the status bar.";
    UI_SELECTION = "ui.selection": "The row or item under the cursor.";
    UI_MARKED = "ui.marked": "Marked hosts (space, `V`).";
    UI_CURSORLINE = "ui.cursorline": "The line under the cursor in an output pane.";
    UI_TABLE_HEADER = "ui.table.header": "Column headers of tables.";
    UI_GAUGE = "ui.gauge": "Progress gauges (`fg` fills, `bg` is the rest).";
    UI_SEARCH_MATCH = "ui.search.match": "Search matches in output panes.";
    UI_SEARCH_CURRENT = "ui.search.current": "The match `n`/`N` jumped to.";
    UI_COMMAND_LINE = "ui.command_line": "The `:` command line.";
    UI_COMMAND_LINE_COMPLETION = "ui.command_line.completion": "Completion candidates of the command line.";
    UI_POPUP = "ui.popup": "Popups: confirmations, help.";
    UI_HELP_KEY = "ui.help.key": "Keys in the help popup and the hint bar.";
    UI_HELP_GROUP = "ui.help.group": "Group headings in the help popup.";
    UI_MESSAGE_INFO = "ui.message.info": "Informational messages in the status area.";
    UI_MESSAGE_ERROR = "ui.message.error": "Error messages in the status area.";
    STATE_OK = "state.ok": "Hosts that exited 0.";
    STATE_FAILED = "state.failed": "Hosts that failed: non-zero exit, signal, no exit status.";
    STATE_FAILED_ERROR = "state.failed.error": "Hosts whose link broke mid-command (falls back to `state.failed`).";
    STATE_TIMEOUT = "state.timeout": "Hosts killed by the command or idle timeout.";
    STATE_UNREACHABLE = "state.unreachable": "Hosts that could not be reached (dns, tcp, host key, auth).";
    STATE_RUNNING = "state.running": "Hosts running the command.";
    STATE_RUNNING_CONNECTING = "state.running.connecting": "Hosts being connected to (falls back to `state.running`).";
    STATE_PENDING = "state.pending": "Hosts waiting for their turn.";
    STATE_SKIPPED = "state.skipped": "Hosts not attempted (max-fail reached).";
    STATE_CANCELLED = "state.cancelled": "Hosts whose command was cancelled.";
    METRIC_LOW = "metric.low": "Metric levels 0-5 (below 60%; load below 6): heatmap digits, table values.";
    METRIC_MID = "metric.mid": "Metric levels 6-7 (60-79%; load 6-7).";
    METRIC_HIGH = "metric.high": "Metric level 8 (80-89%; load 8).";
    METRIC_CRITICAL = "metric.critical": "Metric level 9 (90% and more; load 9 and more).";
    METRIC_STALE = "metric.stale": "Samples older than three intervals, shown with their age, and hosts not sampled yet.";
    METRIC_MISSING = "metric.missing": "Hosts without metrics (no source, not Linux) or whose sampling fails.";
    METRIC_CHART = "metric.chart": "The lines of the Metrics view's charts.";
    ENV_PROTECTED = "env.protected": "Protected environments (`[safety] protected_envs`).";
    OUTPUT_HOST = "output.host": "Host prefixes in the merged output stream.";
    OUTPUT_STDERR = "output.stderr": "Lines a host wrote to stderr.";
    OUTPUT_MARKER = "output.marker": "The marker where output lines were dropped (buffer cap).";
}

/// A scope is known when it is listed or is a dotted prefix of a listed one.
pub fn is_known(scope: &str) -> bool {
    SCOPES.iter().any(|s| {
        s.name == scope
            || s.name
                .strip_prefix(scope)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// `scope` and then each shorter dotted prefix: `ui.table.header` → `ui.table` → `ui`.
pub fn fallbacks(scope: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(scope), |s| s.rfind('.').map(|i| &s[..i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_goes_from_specific_to_general() {
        let chain: Vec<&str> = fallbacks("ui.table.header.focused").collect();
        assert_eq!(
            chain,
            [
                "ui.table.header.focused",
                "ui.table.header",
                "ui.table",
                "ui"
            ]
        );
    }

    #[test]
    fn prefixes_are_known_but_partial_words_are_not() {
        assert!(is_known("ui.statusline.view"));
        assert!(is_known("ui.table"));
        assert!(is_known("state"));
        assert!(!is_known("ui.stat"));
        assert!(!is_known("ui.statusbar"));
    }

    #[test]
    fn scope_names_are_unique() {
        let mut names: Vec<&str> = SCOPES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let len = names.len();
        names.dedup();
        assert_eq!(names.len(), len);
    }
}
