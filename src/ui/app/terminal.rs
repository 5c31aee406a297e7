//! Taking the terminal over and giving it back: `ratatui::init` (raw mode, alternate screen,
//! a panic hook that restores first), a guard that restores on every way out, and drawing a
//! frame as one synchronized update.

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

/// Draws one frame inside a synchronized update (DEC mode 2026): the terminal shows the whole
/// frame at once instead of painting it as it arrives (no tearing while output streams).
/// Terminals without it ignore the sequences. The end is sent even when drawing failed, so a
/// terminal is never left holding back its screen.
pub fn draw_synchronized(
    terminal: &mut DefaultTerminal,
    render: impl FnOnce(&mut ratatui::Frame),
) -> std::io::Result<()> {
    use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
    use ratatui::crossterm::{execute, queue};
    // Queued: it goes out with the frame's own flush.
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    let drawn = terminal.draw(render).map(|_| ());
    let ended = execute!(terminal.backend_mut(), EndSynchronizedUpdate);
    drawn.and(ended)
}
