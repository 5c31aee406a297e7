//! Turns one raw output line into styled pane text. SGR sequences (`ESC [ … m`) become styles:
//! 16, 256 and truecolour foreground and background, bold, dim, italic, underline, reverse,
//! crossed out, and their resets. Every other escape or control character is neutralised the
//! way the printers do it (`crate::ui::printers::sanitize::push_visible`: `^[`, `^G`, `\x9b`,
//! `<U+202E>`) and flagged, so the view can draw it apart from real text. Blink is ignored (it
//! distracts) and so is hidden (8): remote output must not be able to conceal itself.
//!
//! Parsing happens once, when a line is appended; frames only slice the result.

use ratatui::buffer::CellWidth;
use ratatui::style::{Color, Modifier, Style};

use super::line::Run;
use crate::ui::printers::sanitize::push_visible;

/// Longest SGR parameter list honoured, as in the printers; a longer one is shown escaped.
const MAX_SGR_PARAMS: usize = 64;

/// Tab stops every 8 columns, like a terminal.
const TAB_WIDTH: usize = 8;

/// A parsed line: printable text and the runs that style it (covering all of it).
#[derive(Debug, Default, PartialEq)]
pub struct Styled {
    pub text: String,
    pub runs: Vec<Run>,
}

/// The current SGR state. Colours left `None` inherit the line's base style (stderr lines keep
/// their colour until the host sets its own).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Pen {
    fg: Option<Color>,
    bg: Option<Color>,
    mods: Modifier,
}

impl Pen {
    fn style(self) -> Style {
        let mut style = Style::new().add_modifier(self.mods);
        style.fg = self.fg;
        style.bg = self.bg;
        style
    }
}

/// Parses `bytes` (one line, without its `\n`); invalid UTF-8 shows as U+FFFD.
pub fn parse_line(bytes: &[u8]) -> Styled {
    let decoded = String::from_utf8_lossy(bytes);
    let mut out = Builder::default();
    let mut pen = Pen::default();
    let mut rest = decoded.as_ref();
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}'
            && let Some((len, params)) = sgr(rest)
        {
            apply_sgr(&mut pen, params);
            rest = &rest[len..];
            continue;
        }
        match c {
            '\t' => {
                let spaces = TAB_WIDTH - out.column % TAB_WIDTH;
                for _ in 0..spaces {
                    out.push(" ", pen.style(), false);
                }
            }
            // A line never holds `\n`; should one reach us, it is shown, not obeyed.
            '\n' => out.push("^J", pen.style(), true),
            c if is_neutralised(c) => {
                let mut visible = String::new();
                push_visible(&mut visible, c);
                out.push(&visible, pen.style(), true);
            }
            c => out.push(c.encode_utf8(&mut [0; 4]), pen.style(), false),
        }
        rest = &rest[c.len_utf8()..];
    }
    Styled {
        text: out.text,
        runs: out.runs,
    }
}

fn is_neutralised(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[derive(Default)]
struct Builder {
    text: String,
    runs: Vec<Run>,
    /// Display column, for tab stops.
    column: usize,
}

impl Builder {
    fn push(&mut self, s: &str, style: Style, control: bool) {
        self.text.push_str(s);
        self.column += if s.is_ascii() {
            s.len()
        } else {
            usize::from(s.cell_width())
        };
        // Lines are cut at 64 KiB before parsing; u32 offsets cannot overflow in practice, and
        // saturating keeps a freak line drawable rather than panicking.
        let end = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        match self.runs.last_mut() {
            Some(last) if last.style == style && last.control == control => last.end = end,
            _ => self.runs.push(Run {
                end,
                style,
                control,
            }),
        }
    }
}

/// An SGR sequence at the start of `s`: its byte length and its parameter text.
fn sgr(s: &str) -> Option<(usize, &str)> {
    let body = s.strip_prefix("\u{1b}[")?;
    let len = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';' || *b == b':')
        .count();
    if len > MAX_SGR_PARAMS || body.as_bytes().get(len) != Some(&b'm') {
        return None;
    }
    Some((2 + len + 1, &body[..len]))
}

/// Applies an SGR parameter list (`1;38;5;196`, `38:2::255:0:0`, empty = reset).
fn apply_sgr(pen: &mut Pen, params: &str) {
    let groups: Vec<&str> = params.split(';').collect();
    let mut i = 0;
    while i < groups.len() {
        let group = groups[i];
        let mut sub = group.split(':');
        // An empty parameter means 0; a number too large for any code is skipped.
        let code = match sub.next().unwrap_or("") {
            "" => 0,
            p => match p.parse::<u16>() {
                Ok(code) => code,
                Err(_) => {
                    i += 1;
                    continue;
                }
            },
        };
        match code {
            0 => *pen = Pen::default(),
            1 => pen.mods.insert(Modifier::BOLD),
            2 => pen.mods.insert(Modifier::DIM),
            3 => pen.mods.insert(Modifier::ITALIC),
            // `4:0` is "no underline"; `4:1`…`4:5` are underline styles.
            4 if sub.next() == Some("0") => pen.mods.remove(Modifier::UNDERLINED),
            4 | 21 => pen.mods.insert(Modifier::UNDERLINED),
            7 => pen.mods.insert(Modifier::REVERSED),
            9 => pen.mods.insert(Modifier::CROSSED_OUT),
            22 => pen.mods.remove(Modifier::BOLD | Modifier::DIM),
            23 => pen.mods.remove(Modifier::ITALIC),
            24 => pen.mods.remove(Modifier::UNDERLINED),
            27 => pen.mods.remove(Modifier::REVERSED),
            29 => pen.mods.remove(Modifier::CROSSED_OUT),
            30..=37 => pen.fg = Some(ansi16(code - 30)),
            39 => pen.fg = None,
            40..=47 => pen.bg = Some(ansi16(code - 40)),
            49 => pen.bg = None,
            90..=97 => pen.fg = Some(ansi16(code - 90 + 8)),
            100..=107 => pen.bg = Some(ansi16(code - 100 + 8)),
            38 | 48 | 58 => {
                let colour = if group.contains(':') {
                    extended_colon(&group.split(':').skip(1).collect::<Vec<_>>())
                } else {
                    let (colour, used) = extended_semicolon(&groups[i + 1..]);
                    i += used;
                    colour
                };
                // 58 (underline colour) is parsed only to skip its arguments.
                match (code, colour) {
                    (38, Some(c)) => pen.fg = Some(c),
                    (48, Some(c)) => pen.bg = Some(c),
                    _ => {}
                }
            }
            // Blink (5, 6), hidden (8) and everything unknown: ignored on purpose.
            _ => {}
        }
        i += 1;
    }
}

/// `5;N` or `2;R;G;B` after a 38/48: the colour and how many parameters it used.
fn extended_semicolon(rest: &[&str]) -> (Option<Color>, usize) {
    let byte = |i: usize| rest.get(i).and_then(|p| p.parse::<u8>().ok());
    match rest.first().copied() {
        Some("5") => (byte(1).map(Color::Indexed), 2.min(rest.len())),
        Some("2") => {
            let rgb = byte(1)
                .zip(byte(2))
                .zip(byte(3))
                .map(|((r, g), b)| Color::Rgb(r, g, b));
            (rgb, 4.min(rest.len()))
        }
        Some(_) => (None, 1),
        None => (None, 0),
    }
}

/// `5:N`, `2:R:G:B` or `2:CS:R:G:B` (ITU T.416, with a colour-space id) after `38:`/`48:`.
fn extended_colon(sub: &[&str]) -> Option<Color> {
    let byte = |p: &str| p.parse::<u8>().ok();
    match sub {
        ["5", n] => byte(n).map(Color::Indexed),
        ["2", r, g, b] | ["2", _, r, g, b] => Some(Color::Rgb(byte(r)?, byte(g)?, byte(b)?)),
        _ => None,
    }
}

/// The 16 ANSI colours in ratatui's names (0–7 normal, 8–15 bright).
fn ansi16(n: u16) -> Color {
    match n {
        0 => Color::Black,
        1 => Color::Red,
        2 => Color::Green,
        3 => Color::Yellow,
        4 => Color::Blue,
        5 => Color::Magenta,
        6 => Color::Cyan,
        7 => Color::Gray,
        8 => Color::DarkGray,
        9 => Color::LightRed,
        10 => Color::LightGreen,
        11 => Color::LightYellow,
        12 => Color::LightBlue,
        13 => Color::LightMagenta,
        14 => Color::LightCyan,
        _ => Color::White,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (text, fg, bg, modifiers, control) of one run, for compact assertions.
    type RunView<'a> = (&'a str, Option<Color>, Option<Color>, Modifier, bool);

    fn runs(s: &Styled) -> Vec<RunView<'_>> {
        let mut start = 0;
        s.runs
            .iter()
            .map(|r| {
                let end = r.end as usize;
                let piece = &s.text[start..end];
                start = end;
                (
                    piece,
                    r.style.fg,
                    r.style.bg,
                    r.style.add_modifier,
                    r.control,
                )
            })
            .collect()
    }

    #[test]
    fn sixteen_colours_bold_and_reset() {
        let s = parse_line(b"\x1b[1;31merror\x1b[0m ok \x1b[92mgreen\x1b[39;44mbg\x1b[m.");
        assert_eq!(s.text, "error ok greenbg.");
        assert_eq!(
            runs(&s),
            vec![
                ("error", Some(Color::Red), None, Modifier::BOLD, false),
                (" ok ", None, None, Modifier::empty(), false),
                (
                    "green",
                    Some(Color::LightGreen),
                    None,
                    Modifier::empty(),
                    false
                ),
                ("bg", None, Some(Color::Blue), Modifier::empty(), false),
                (".", None, None, Modifier::empty(), false),
            ]
        );
    }

    #[test]
    fn indexed_and_truecolour_in_both_notations() {
        let s = parse_line(b"\x1b[38;5;196ma\x1b[48;2;1;2;3mb\x1b[0;38:2::10:20:30mc\x1b[38:5:7md");
        assert_eq!(
            runs(&s),
            vec![
                (
                    "a",
                    Some(Color::Indexed(196)),
                    None,
                    Modifier::empty(),
                    false
                ),
                (
                    "b",
                    Some(Color::Indexed(196)),
                    Some(Color::Rgb(1, 2, 3)),
                    Modifier::empty(),
                    false
                ),
                (
                    "c",
                    Some(Color::Rgb(10, 20, 30)),
                    None,
                    Modifier::empty(),
                    false
                ),
                ("d", Some(Color::Indexed(7)), None, Modifier::empty(), false),
            ]
        );
        // A truncated extended colour uses what is there and does not eat the text.
        assert_eq!(parse_line(b"\x1b[38;5mx").text, "x");
        assert_eq!(parse_line(b"\x1b[38;2;1;2mx\x1b[1;38;9;1my").text, "xy");
    }

    #[test]
    fn modifiers_and_their_resets() {
        let s =
            parse_line(b"\x1b[3;4;7mx\x1b[23;24;27my\x1b[2;9mz\x1b[22;29mw\x1b[4:3mu\x1b[4:0mv");
        let mods: Vec<Modifier> = runs(&s).iter().map(|r| r.3).collect();
        assert_eq!(
            mods,
            vec![
                Modifier::ITALIC | Modifier::UNDERLINED | Modifier::REVERSED,
                Modifier::empty(),
                Modifier::DIM | Modifier::CROSSED_OUT,
                Modifier::empty(),
                Modifier::UNDERLINED,
                Modifier::empty(),
            ]
        );
        // Blink and hidden are ignored: hidden text stays readable.
        assert_eq!(
            runs(&parse_line(b"\x1b[5;8msecret"))[0].3,
            Modifier::empty()
        );
    }

    #[test]
    fn other_escapes_are_shown_and_flagged() {
        let s = parse_line(b"\x1b]0;pwned\x07\x1b[2Jx\x1b[31m\r\x1b[0m");
        assert_eq!(s.text, "^[]0;pwned^G^[[2Jx^M");
        assert_eq!(
            runs(&s),
            vec![
                ("^[", None, None, Modifier::empty(), true),
                ("]0;pwned", None, None, Modifier::empty(), false),
                ("^G^[", None, None, Modifier::empty(), true),
                ("[2Jx", None, None, Modifier::empty(), false),
                ("^M", Some(Color::Red), None, Modifier::empty(), true),
            ]
        );
        assert_eq!(
            parse_line("a\u{9b}2J\u{202e}b\x7f".as_bytes()).text,
            "a\\x9b2J<U+202E>b^?"
        );
        assert_eq!(parse_line(b"bad \xff utf8").text, "bad \u{fffd} utf8");
        // Too many SGR parameters: shown, not obeyed.
        let long = format!("\x1b[{}m", "1;".repeat(40));
        assert!(parse_line(long.as_bytes()).text.starts_with("^[["));
    }

    #[test]
    fn tabs_expand_to_stops() {
        assert_eq!(
            parse_line(b"a\tb\tc").text,
            format!("a{}b{}c", " ".repeat(7), " ".repeat(7))
        );
        assert_eq!(
            parse_line("é\tx".as_bytes()).text,
            format!("é{}x", " ".repeat(7))
        );
        assert_eq!(
            parse_line(b"12345678\tx").text,
            format!("12345678{}x", " ".repeat(8))
        );
    }

    proptest! {
        #[test]
        fn no_control_character_survives(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let s = parse_line(&bytes);
            prop_assert!(!s.text.chars().any(is_neutralised), "{:?}", s.text);
            prop_assert_eq!(s.runs.last().map_or(0, |r| r.end as usize), s.text.len());
        }

        #[test]
        fn escape_soup_never_passes(parts in proptest::collection::vec(
            prop_oneof![
                Just("\u{1b}"), Just("\u{1b}["), Just("\u{1b}]"), Just("\u{9b}"), Just("\u{7}"),
                Just("m"), Just(";"), Just(":"), Just("38"), Just("5"), Just("2"), Just("\t"),
                Just("\r"), Just("\u{202e}"), Just("x"),
            ], 0..40)) {
            let s = parse_line(parts.concat().as_bytes());
            prop_assert!(!s.text.chars().any(is_neutralised), "{:?}", s.text);
        }
    }
}
