//! What the terminal can show, and themes converted to it: true colour, 256 colours, the 16
//! ANSI colours, or none at all (`NO_COLOR`).

use ratatui::style::{Color, Modifier, Style};

use super::Theme;
use super::scope;

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    TrueColor,
    Ansi256,
    Ansi16,
    /// No colours (`NO_COLOR`, `TERM=dumb`): only modifiers such as bold and reverse.
    None,
}

impl ColorSupport {
    /// Reads `NO_COLOR`, `COLORTERM` and `TERM` from the environment.
    pub fn from_env() -> Self {
        let var = |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        Self::detect(
            var("NO_COLOR").as_deref(),
            var("COLORTERM").as_deref(),
            var("TERM").as_deref(),
        )
    }

    /// The decision itself, on given values (so tests need not change the environment).
    /// `NO_COLOR` counts when set and non-empty (no-color.org).
    pub fn detect(no_color: Option<&str>, colorterm: Option<&str>, term: Option<&str>) -> Self {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return Self::None;
        }
        let colorterm = colorterm.unwrap_or_default().to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            return Self::TrueColor;
        }
        let term = term.unwrap_or_default().to_ascii_lowercase();
        if term == "dumb" {
            return Self::None;
        }
        if term.contains("256color") {
            return Self::Ansi256;
        }
        Self::Ansi16
    }

    /// `color` as this terminal can show it; `None` when it shows no colours.
    pub fn convert(self, color: Color) -> Option<Color> {
        match (self, color) {
            (Self::None, _) => None,
            (Self::TrueColor, c) | (_, c @ Color::Reset) => Some(c),
            (Self::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(rgb_to_256(r, g, b))),
            (Self::Ansi256, c) => Some(c),
            (Self::Ansi16, Color::Rgb(r, g, b)) => Some(rgb_to_16(r, g, b)),
            (Self::Ansi16, Color::Indexed(n)) => Some(match ANSI16.get(usize::from(n)) {
                Some(&(c, _)) => c,
                None => {
                    let (r, g, b) = indexed_to_rgb(n);
                    rgb_to_16(r, g, b)
                }
            }),
            (Self::Ansi16, c) => Some(c),
        }
    }
}

/// Without colours these scopes would vanish (a selection drawn only by its background), so
/// they get a modifier that keeps them visible.
const MONO_EMPHASIS: &[(&str, Modifier)] = &[
    (scope::UI_SELECTION, Modifier::REVERSED),
    (scope::UI_STATUSLINE, Modifier::REVERSED),
    (scope::UI_STATUSLINE_VIEW, Modifier::BOLD),
    (scope::UI_TABS_ACTIVE, Modifier::REVERSED),
    (scope::UI_MARKED, Modifier::BOLD),
    (scope::UI_SEARCH_MATCH, Modifier::UNDERLINED),
    (scope::UI_SEARCH_CURRENT, Modifier::REVERSED),
    (scope::UI_BORDER_FOCUSED, Modifier::BOLD),
    (scope::UI_TITLE_FOCUSED, Modifier::BOLD),
    (scope::UI_GAUGE, Modifier::REVERSED),
];

impl Theme {
    /// This theme as the terminal can show it: RGB becomes the nearest of 256 or 16 colours;
    /// with no colours, colours are dropped and modifiers kept (plus those that keep the
    /// selection, search hits and status bar visible).
    #[must_use]
    pub fn adapt(mut self, support: ColorSupport) -> Self {
        if support == ColorSupport::TrueColor {
            return self;
        }
        for style in self.styles.values_mut() {
            *style = adapt_style(*style, support);
        }
        if support == ColorSupport::None {
            for &(name, modifier) in MONO_EMPHASIS {
                // Resolved through fallbacks so a theme that only sets `ui.search` still
                // gets its emphasis on `ui.search.current`.
                let style = self.style(name).add_modifier(modifier);
                self.styles.insert(name.to_string(), style);
            }
        }
        self
    }
}

fn adapt_style(style: Style, support: ColorSupport) -> Style {
    let mut out = style;
    out.fg = style.fg.and_then(|c| support.convert(c));
    out.bg = style.bg.and_then(|c| support.convert(c));
    out
}

/// The 16 ANSI colours with xterm's default RGB values (used to place indexed colours).
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// Channel levels of the 6×6×6 colour cube (indices 16-231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The nearest of the 240 fixed xterm colours (cube and grey ramp). The first 16 are left
/// out: terminals redefine them, so their RGB is unknown.
pub fn rgb_to_256(r: u8, g: u8, b: u8) -> u8 {
    let level = |v: u8| -> usize {
        CUBE.iter()
            .enumerate()
            .min_by_key(|&(_, &c)| c.abs_diff(v))
            .map_or(0, |(i, _)| i)
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = (CUBE[ri], CUBE[gi], CUBE[bi]);
    // Grey ramp 232-255: 8, 18, …, 238.
    let mean = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let grey_step = u8::try_from((mean.saturating_sub(3) / 10).min(23)).unwrap_or(23);
    let grey = 8 + 10 * grey_step;
    let target = (r, g, b);
    if distance(target, (grey, grey, grey)) < distance(target, cube) {
        232 + grey_step
    } else {
        // ri, gi, bi < 6, so this is at most 231.
        u8::try_from(16 + 36 * ri + 6 * gi + bi).unwrap_or(231)
    }
}

/// The RGB value xterm gives a 256-colour index.
pub fn indexed_to_rgb(n: u8) -> (u8, u8, u8) {
    match n {
        0..=15 => ANSI16[usize::from(n)].1,
        16..=231 => {
            let i = usize::from(n - 16);
            (CUBE[i / 36], CUBE[(i / 6) % 6], CUBE[i % 6])
        }
        _ => {
            let v = 8 + 10 * (n - 232);
            (v, v, v)
        }
    }
}

/// The 16-colour equivalent by hue, not by RGB distance: themes use soft pastel colours
/// whose nearest xterm colour is grey, and a soft green must stay green.
pub fn rgb_to_16(r: u8, g: u8, b: u8) -> Color {
    let (rf, gf, bf) = (f32::from(r), f32::from(g), f32::from(b));
    let max = rf.max(gf).max(bf);
    let min = rf.min(gf).min(bf);
    let chroma = max - min;
    let lightness = (max + min) / 2.0;
    if chroma < 64.0 {
        return match lightness {
            l if l < 60.0 => Color::Black,
            l if l < 120.0 => Color::DarkGray,
            l if l < 200.0 => Color::Gray,
            _ => Color::White,
        };
    }
    let hue = if max == rf {
        60.0 * ((gf - bf) / chroma)
    } else if max == gf {
        60.0 * ((bf - rf) / chroma + 2.0)
    } else {
        60.0 * ((rf - gf) / chroma + 4.0)
    }
    .rem_euclid(360.0);
    let bright = lightness >= 120.0;
    let pick = |dark, light| if bright { light } else { dark };
    match hue {
        h if !(20.0..330.0).contains(&h) => pick(Color::Red, Color::LightRed),
        h if h < 75.0 => pick(Color::Yellow, Color::LightYellow),
        h if h < 165.0 => pick(Color::Green, Color::LightGreen),
        h if h < 205.0 => pick(Color::Cyan, Color::LightCyan),
        h if h < 260.0 => pick(Color::Blue, Color::LightBlue),
        _ => pick(Color::Magenta, Color::LightMagenta),
    }
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| u32::from(x.abs_diff(y)).pow(2);
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_follows_no_color_colorterm_term() {
        use ColorSupport as C;
        assert_eq!(
            C::detect(Some("1"), Some("truecolor"), Some("xterm-256color")),
            C::None
        );
        // An empty NO_COLOR does not count.
        assert_eq!(C::detect(Some(""), Some("truecolor"), None), C::TrueColor);
        assert_eq!(C::detect(None, Some("24bit"), Some("xterm")), C::TrueColor);
        assert_eq!(C::detect(None, None, Some("tmux-256color")), C::Ansi256);
        assert_eq!(C::detect(None, Some(""), Some("xterm")), C::Ansi16);
        assert_eq!(C::detect(None, None, None), C::Ansi16);
        assert_eq!(C::detect(None, None, Some("dumb")), C::None);
    }

    #[test]
    fn rgb_to_256_hits_exact_cube_and_grey_entries() {
        assert_eq!(rgb_to_256(0, 0, 0), 16);
        assert_eq!(rgb_to_256(255, 255, 255), 231);
        assert_eq!(rgb_to_256(255, 0, 0), 196);
        assert_eq!(rgb_to_256(0x87, 0xaf, 0xff), 111);
        assert_eq!(rgb_to_256(0x30, 0x30, 0x30), 236);
        assert_eq!(rgb_to_256(0x1f, 0x23, 0x35), 235);
        for n in 16..=255u8 {
            let (r, g, b) = indexed_to_rgb(n);
            let back = rgb_to_256(r, g, b);
            assert_eq!(indexed_to_rgb(back), (r, g, b), "index {n}");
        }
    }

    #[test]
    fn rgb_to_16_keeps_hues() {
        assert_eq!(rgb_to_16(0x9e, 0xce, 0x6a), Color::LightGreen);
        assert_eq!(rgb_to_16(0x2e, 0x7d, 0x32), Color::Green);
        assert_eq!(rgb_to_16(0xf7, 0x76, 0x8e), Color::LightRed);
        assert_eq!(rgb_to_16(0xff, 0x9e, 0x64), Color::LightYellow);
        assert_eq!(rgb_to_16(0x7d, 0xcf, 0xff), Color::LightCyan);
        assert_eq!(rgb_to_16(0x7a, 0xa2, 0xf7), Color::LightBlue);
        assert_eq!(rgb_to_16(0xbb, 0x9a, 0xf7), Color::LightMagenta);
        assert_eq!(rgb_to_16(0x1f, 0x23, 0x35), Color::Black);
        assert_eq!(rgb_to_16(0xc0, 0xca, 0xf5), Color::White);
    }

    #[test]
    fn convert_by_support() {
        let rgb = Color::Rgb(0xff, 0, 0);
        assert_eq!(ColorSupport::TrueColor.convert(rgb), Some(rgb));
        assert_eq!(
            ColorSupport::Ansi256.convert(rgb),
            Some(Color::Indexed(196))
        );
        assert_eq!(ColorSupport::Ansi16.convert(rgb), Some(Color::LightRed));
        assert_eq!(
            ColorSupport::Ansi16.convert(Color::Indexed(2)),
            Some(Color::Green)
        );
        assert_eq!(
            ColorSupport::Ansi16.convert(Color::Indexed(46)),
            Some(Color::LightGreen)
        );
        assert_eq!(
            ColorSupport::Ansi256.convert(Color::Blue),
            Some(Color::Blue)
        );
        assert_eq!(ColorSupport::None.convert(Color::Blue), None);
    }
}
