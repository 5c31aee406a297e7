//! Colour values in theme files: `#rrggbb`, a 0-255 palette index, or a colour name.

use ratatui::style::Color;

/// The colour names a theme may write, in the terminal's 16-colour order. `gray` is ANSI 7
/// and `dark-gray` ANSI 8 (ratatui's names). `reset` is the terminal's own colour.
pub const NAMED_COLORS: &[(&str, Color)] = &[
    ("reset", Color::Reset),
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark-gray", Color::DarkGray),
    ("light-red", Color::LightRed),
    ("light-green", Color::LightGreen),
    ("light-yellow", Color::LightYellow),
    ("light-blue", Color::LightBlue),
    ("light-magenta", Color::LightMagenta),
    ("light-cyan", Color::LightCyan),
    ("white", Color::White),
];

/// Other spellings people write for the same colours.
const ALIASES: &[(&str, Color)] = &[
    ("default", Color::Reset),
    ("grey", Color::Gray),
    ("light-gray", Color::Gray),
    ("light-grey", Color::Gray),
    ("dark-grey", Color::DarkGray),
];

/// What a colour string is, before names are looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Color(Color),
    /// A palette name or a colour name: the palette is asked first, so a theme may say what
    /// `red` means; a name in neither is found once the palette is merged.
    Name,
}

/// Reads a colour string. `Err` says what is wrong with something that looks like a colour
/// number (`#` or digits) and how to write it.
pub fn parse_literal(text: &str) -> Result<Literal, String> {
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#') {
        return parse_hex(hex).map(Literal::Color).ok_or_else(|| {
            format!("`{text}` is not a colour: write `#rrggbb` with six hex digits, like `#1f2335`")
        });
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return index(text.parse::<u64>().unwrap_or(u64::MAX)).map(Literal::Color);
    }
    Ok(Literal::Name)
}

/// A palette index given as a TOML integer or digits.
pub fn index(n: u64) -> Result<Color, String> {
    u8::try_from(n)
        .map(Color::Indexed)
        .map_err(|_| format!("colour index {n} is out of range: use 0-255"))
}

/// A colour name, ignoring case and `-`/`_`/space (so `light_red`, `LightRed` work).
pub fn named(text: &str) -> Option<Color> {
    let want = normalize(text);
    NAMED_COLORS
        .iter()
        .chain(ALIASES)
        .find(|(name, _)| normalize(name) == want)
        .map(|&(_, c)| c)
}

fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

fn parse_hex(hex: &str) -> Option<Color> {
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Color::Rgb(channel(0)?, channel(2)?, channel(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(
            parse_literal("#1F2335"),
            Ok(Literal::Color(Color::Rgb(0x1f, 0x23, 0x35)))
        );
        assert_eq!(
            parse_literal("236"),
            Ok(Literal::Color(Color::Indexed(236)))
        );
        assert_eq!(parse_literal("light_red"), Ok(Literal::Name));
        assert_eq!(named("light_red"), Some(Color::LightRed));
        assert_eq!(named("Grey"), Some(Color::Gray));
        assert_eq!(named("bg_alt"), None);
    }

    #[test]
    fn malformed_literals_say_how_to_write_them() {
        let e = parse_literal("#12345").unwrap_err();
        assert!(e.contains("#rrggbb"), "{e}");
        let e = parse_literal("256").unwrap_err();
        assert!(e.contains("0-255"), "{e}");
        assert!(parse_literal("99999999999999999999999").is_err());
    }
}
