//! Taking the terminal over and giving it back: `ratatui::init` (raw mode, alternate screen,
//! a panic hook that restores first) and a guard that restores on every way out.

use ratatui::DefaultTerminal;

/// Restores the terminal when dropped, so an early `?` return or a SIGTERM path cannot leave
/// the shell in raw mode.
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    /// Enters the full-screen console; panics restore the terminal before printing.
    pub fn enter() -> TerminalGuard {
        TerminalGuard {
            terminal: ratatui::init(),
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}
