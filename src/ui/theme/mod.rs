//! Themes: the console's colours, from TOML files in the style of helix.
//!
//! ```toml
//! inherits = "dark"                      # optional: start from another theme
//! "ui.text" = "fg"                       # a colour: the scope's foreground
//! "ui.statusline" = { fg = "fg", bg = "bg_alt", modifiers = ["bold"] }
//!
//! [palette]                              # names for colours, used above
//! fg = "#c0caf5"                         # #rrggbb, a colour name (`light-red`) or 0-255
//! bg_alt = 236
//! ```
//!
//! Scopes are listed in [`scope::SCOPES`]; a lookup falls back from specific to general
//! (`ui.table.header.focused` → `ui.table.header` → `ui.table` → `ui`), the first one set
//! wins. A scope set in a theme replaces the inherited one; a palette entry replaces the
//! inherited entry everywhere it is used, inherited scopes included. Palette names shadow
//! colour names. The built-in themes (dark, light, high-contrast) live in `themes/` and are
//! compiled in; `themes/NAME.toml` in the config folder adds a theme or overrides a built-in
//! one. Widgets ask [`Theme`] for semantic styles and never pick colours themselves.

mod adapt;
pub mod color;
mod graphics;
mod load;
mod parse;
mod resolve;
pub mod scope;
mod symbols;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use ratatui::style::Style;

pub use adapt::{ColorSupport, indexed_to_rgb, rgb_to_16, rgb_to_256};
pub use graphics::Graphics;
pub use load::{BUILTIN, available, is_warning, load, validate_file};
pub use parse::{MODIFIERS, STYLE_KEYS};
pub use symbols::{state_symbol, utf8_locale};

use crate::engine::{HostState, RunStatus};

/// A loaded theme: the style of every scope it sets, already resolved to colours.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    name: String,
    styles: HashMap<String, Style>,
    ascii_symbols: bool,
}

impl Default for Theme {
    /// The built-in dark theme. (Tests load every built-in theme, so this never comes back
    /// empty in a released binary.)
    fn default() -> Self {
        Self::builtin(BUILTIN[0].0).unwrap_or_else(|| Theme::new(BUILTIN[0].0, HashMap::new()))
    }
}

impl Theme {
    fn new(name: &str, styles: HashMap<String, Style>) -> Self {
        Self {
            name: name.to_string(),
            styles,
            ascii_symbols: false,
        }
    }

    /// A built-in theme by name, without looking at user files (for tests and previews).
    pub fn builtin(name: &str) -> Option<Self> {
        load::load_from(None, name).ok().map(|(theme, _)| theme)
    }

    /// The name it was loaded under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Use ASCII state symbols instead of Unicode ones (see [`utf8_locale`]).
    #[must_use]
    pub fn with_ascii_symbols(mut self, ascii: bool) -> Self {
        self.ascii_symbols = ascii;
        self
    }

    pub fn ascii_symbols(&self) -> bool {
        self.ascii_symbols
    }

    /// The style of `scope`, or of its closest set parent scope; the empty style (the
    /// terminal's own look) when none is set.
    pub fn style(&self, scope: &str) -> Style {
        scope::fallbacks(scope)
            .find_map(|s| self.styles.get(s))
            .copied()
            .unwrap_or_default()
    }

    pub fn background(&self) -> Style {
        self.style(scope::UI_BACKGROUND)
    }

    pub fn text(&self) -> Style {
        self.style(scope::UI_TEXT)
    }

    pub fn dim(&self) -> Style {
        self.style(scope::UI_TEXT_DIM)
    }

    pub fn title(&self, focused: bool) -> Style {
        self.style(if focused {
            scope::UI_TITLE_FOCUSED
        } else {
            scope::UI_TITLE
        })
    }

    pub fn border(&self, focused: bool) -> Style {
        self.style(if focused {
            scope::UI_BORDER_FOCUSED
        } else {
            scope::UI_BORDER
        })
    }

    pub fn tab(&self, active: bool) -> Style {
        self.style(if active {
            scope::UI_TABS_ACTIVE
        } else {
            scope::UI_TABS
        })
    }

    pub fn selection(&self) -> Style {
        self.style(scope::UI_SELECTION)
    }

    pub fn marked(&self) -> Style {
        self.style(scope::UI_MARKED)
    }

    pub fn search_match(&self, current: bool) -> Style {
        self.style(if current {
            scope::UI_SEARCH_CURRENT
        } else {
            scope::UI_SEARCH_MATCH
        })
    }

    /// The colour of a host state; pair it with [`Theme::state_symbol`].
    pub fn state(&self, state: &HostState) -> Style {
        self.style(state_scope(state))
    }

    /// The symbol of a host state (Unicode or ASCII, see [`Theme::with_ascii_symbols`]).
    pub fn state_symbol(&self, state: &HostState) -> &'static str {
        symbols::state_symbol(state, self.ascii_symbols)
    }

    /// The colour of a run's status (a finished run as a whole); pair it with
    /// [`Theme::run_status_symbol`].
    pub fn run_status(&self, status: RunStatus) -> Style {
        self.style(run_status_scope(status))
    }

    /// The symbol of a run's status: the one of the host state of the same name.
    pub fn run_status_symbol(&self, status: RunStatus) -> &'static str {
        symbols::run_status_symbol(status, self.ascii_symbols)
    }
}

/// A run's status is styled like the host state of the same name.
pub fn run_status_scope(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Ok => scope::STATE_OK,
        RunStatus::Failed => scope::STATE_FAILED,
        RunStatus::Unreachable => scope::STATE_UNREACHABLE,
        RunStatus::Cancelled => scope::STATE_CANCELLED,
        RunStatus::Interrupted => scope::STATE_FAILED_ERROR,
    }
}

/// The scope of each state. Connecting and link errors have scopes under running and failed,
/// so a theme that does not set them shows them like those.
pub fn state_scope(state: &HostState) -> &'static str {
    match state {
        HostState::Pending => scope::STATE_PENDING,
        HostState::Connecting => scope::STATE_RUNNING_CONNECTING,
        HostState::Running => scope::STATE_RUNNING,
        HostState::Ok => scope::STATE_OK,
        HostState::Failed { .. } => scope::STATE_FAILED,
        HostState::Timeout { .. } => scope::STATE_TIMEOUT,
        HostState::Unreachable { .. } => scope::STATE_UNREACHABLE,
        HostState::Error { .. } => scope::STATE_FAILED_ERROR,
        HostState::Cancelled => scope::STATE_CANCELLED,
        HostState::Skipped { .. } => scope::STATE_SKIPPED,
        // fleetdeck lost track of it: shown like an error of its own.
        HostState::Unknown { .. } => scope::STATE_FAILED_ERROR,
    }
}
