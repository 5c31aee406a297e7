//! What the terminal can draw besides letters, for charts and trends: braille dots, block
//! elements, or ASCII only. Decided once at start from the locale and `TERM` (no terminal
//! query: the console starts the same inside tmux, over ssh and in tests).

use ratatui::symbols::Marker;

/// How charts and trend glyphs are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Graphics {
    /// Braille dots (2x4 per cell) for charts, block elements for trends.
    #[default]
    Braille,
    /// Block elements only: fonts without braille (the Linux console).
    Blocks,
    /// ASCII only: no UTF-8 locale.
    Ascii,
}

/// Trend glyphs from lowest to highest.
const RAMP_UNICODE: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
const RAMP_ASCII: [&str; 8] = ["_", ".", "-", "~", "=", "+", "*", "#"];

impl Graphics {
    /// Reads the locale (`LC_ALL`, `LC_CTYPE`, `LANG`) and `TERM`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        let utf8 = super::utf8_locale(
            var("LC_ALL").as_deref(),
            var("LC_CTYPE").as_deref(),
            var("LANG").as_deref(),
        );
        Self::detect(utf8, var("TERM").as_deref())
    }

    /// The decision on given values, so tests need not change the environment.
    pub fn detect(utf8_locale: bool, term: Option<&str>) -> Self {
        let term = term.unwrap_or_default().to_ascii_lowercase();
        if !utf8_locale || matches!(term.as_str(), "dumb" | "vt100" | "vt102" | "vt220") {
            return Graphics::Ascii;
        }
        // The Linux console's fonts (and BSD's) have block elements but no braille.
        if term == "linux" || term.starts_with("linux-") || term.starts_with("cons") {
            return Graphics::Blocks;
        }
        Graphics::Braille
    }

    /// The chart marker: braille, half blocks, or a plain `*`.
    pub fn marker(self) -> Marker {
        match self {
            Graphics::Braille => Marker::Braille,
            Graphics::Blocks => Marker::HalfBlock,
            Graphics::Ascii => Marker::Custom('*'),
        }
    }

    /// Eight one-column glyphs from lowest to highest, for trends.
    pub fn ramp(self) -> &'static [&'static str; 8] {
        match self {
            Graphics::Ascii => &RAMP_ASCII,
            Graphics::Braille | Graphics::Blocks => &RAMP_UNICODE,
        }
    }

    /// Rising, falling and flat arrows (where a trend has no room).
    pub fn arrows(self) -> [&'static str; 3] {
        match self {
            Graphics::Ascii => ["^", "v", "-"],
            Graphics::Braille | Graphics::Blocks => ["↑", "↓", "→"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braille_only_where_the_font_has_it() {
        assert_eq!(
            Graphics::detect(true, Some("xterm-256color")),
            Graphics::Braille
        );
        assert_eq!(
            Graphics::detect(true, Some("tmux-256color")),
            Graphics::Braille
        );
        assert_eq!(Graphics::detect(true, Some("linux")), Graphics::Blocks);
        assert_eq!(Graphics::detect(false, Some("xterm")), Graphics::Ascii);
        assert_eq!(Graphics::detect(true, Some("dumb")), Graphics::Ascii);
        assert_eq!(Graphics::detect(true, None), Graphics::Braille);
    }

    #[test]
    fn glyphs_are_one_column_and_ascii_when_asked() {
        for g in [Graphics::Braille, Graphics::Blocks, Graphics::Ascii] {
            for s in g.ramp().iter().chain(g.arrows().iter()) {
                assert_eq!(ratatui::text::Span::raw(*s).width(), 1, "{s:?}");
                assert_eq!(s.is_ascii(), g == Graphics::Ascii, "{s:?}");
            }
        }
    }
}
