//! The passphrase popup: which key file the SSH transport needs, and the typed text masked
//! (one `*` per character, so the person sees their keystrokes land; never the text).

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;

use super::super::widgets::popup::{self, render_popup};

use crate::ui::app::model::Model;
use crate::ui::app::popup::PassphrasePrompt;
use crate::ui::printers::sanitize::sanitize;

pub fn render(frame: &mut Frame, screen: Rect, model: &Model, prompt: &PassphrasePrompt) {
    let theme = &model.shell.theme;
    // The popup's inner width, to cut the key's path to.
    let inner = screen.width.min(popup::WIDTH).saturating_sub(2) as usize;
    let key = tail(
        &sanitize(prompt.key.as_os_str().as_encoded_bytes(), false),
        inner,
    );
    let masked = tail(&"*".repeat(prompt.typed.chars()), inner.saturating_sub(13));
    let lines = vec![
        Line::raw("Unlock the encrypted SSH key"),
        Line::raw(key),
        Line::raw(""),
        Line::raw(format!("passphrase: {masked}")),
        Line::raw(""),
        Line::styled(
            "enter unlock · esc skip this key (hosts needing it fail)",
            theme.dim(),
        ),
    ];
    let area = render_popup(frame, screen, theme, " passphrase ", lines, 8);
    // The cursor after the mask, where typing goes.
    let x = area.x + 1 + "passphrase: ".len() as u16 + masked.chars().count() as u16;
    let y = area.y + 4;
    if x < area.right().saturating_sub(1) && y < area.bottom() {
        frame.set_cursor_position(Position::new(x, y));
    }
}

/// `text` cut to its last `width` columns behind `…` (a key's file name is at its end).
fn tail(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width || width == 0 {
        return text.to_string();
    }
    let keep: String = text.chars().skip(n - (width - 1)).collect();
    format!("…{keep}")
}
