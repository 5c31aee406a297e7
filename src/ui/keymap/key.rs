//! One key as keymap files write it (`C-d`, `S-tab`, `G`, `space`, `f5`) and as the terminal
//! reports it, reduced to one canonical form so both compare equal.

use std::fmt;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::diag::did_you_mean;

/// A key with its modifiers, normalised (see [`Key::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

/// Named keys as files spell them; the first spelling is the one displayed.
const NAMED: [(&str, KeyCode); 14] = [
    ("esc", KeyCode::Esc),
    ("enter", KeyCode::Enter),
    ("tab", KeyCode::Tab),
    ("space", KeyCode::Char(' ')),
    ("backspace", KeyCode::Backspace),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("delete", KeyCode::Delete),
];

const MODIFIERS: [(&str, KeyModifiers); 3] = [
    ("C-", KeyModifiers::CONTROL),
    ("A-", KeyModifiers::ALT),
    ("S-", KeyModifiers::SHIFT),
];

impl Key {
    /// A key in canonical form. Terminals report a shifted character as the character itself
    /// (`G`, `!`), so shift is dropped from characters and a shifted letter becomes upper case;
    /// shift-tab arrives as `BackTab` and becomes `S-tab`; legacy terminals cannot tell
    /// `C-D` from `C-d`, so control letters are lower case.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Key {
        let mut mods =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        // Kitty's protocol reports Meta apart from Alt; to a keymap they are the same key.
        if modifiers.contains(KeyModifiers::META) {
            mods |= KeyModifiers::ALT;
        }
        let code = match code {
            KeyCode::BackTab => {
                mods |= KeyModifiers::SHIFT;
                KeyCode::Tab
            }
            KeyCode::Char(c) => {
                let shifted = mods.contains(KeyModifiers::SHIFT);
                mods.remove(KeyModifiers::SHIFT);
                let c = if mods.contains(KeyModifiers::CONTROL) {
                    c.to_ascii_lowercase()
                } else if shifted {
                    c.to_ascii_uppercase()
                } else {
                    c
                };
                KeyCode::Char(c)
            }
            other => other,
        };
        Key {
            code,
            modifiers: mods,
        }
    }

    /// A plain key without modifiers.
    pub fn plain(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }

    /// The key of a terminal event; `None` for releases, lone modifier keys, lock keys and
    /// keys held with Super or Hyper, none of which a keymap can name.
    pub fn from_event(event: &KeyEvent) -> Option<Key> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        if event
            .modifiers
            .intersects(KeyModifiers::SUPER | KeyModifiers::HYPER)
        {
            return None;
        }
        match event.code {
            KeyCode::Char(_)
            | KeyCode::Esc
            | KeyCode::Enter
            | KeyCode::Tab
            | KeyCode::BackTab
            | KeyCode::Backspace
            | KeyCode::Up
            | KeyCode::Down
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::Home
            | KeyCode::End
            | KeyCode::PageUp
            | KeyCode::PageDown
            | KeyCode::Delete
            | KeyCode::F(1..=12) => Some(Key::new(event.code, event.modifiers)),
            _ => None,
        }
    }

    /// A plain `esc`, which cancels a pending chord.
    pub fn is_esc(self) -> bool {
        self == Key::plain(KeyCode::Esc)
    }

    /// Parses one key: optional `C-`, `A-`, `S-` prefixes, then a named key or one character.
    /// The error says what is wrong and how to write it instead.
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut rest = text;
        let mut mods = KeyModifiers::NONE;
        while let Some((prefix, m)) = MODIFIERS.iter().find(|(p, _)| rest.starts_with(p)) {
            // A modifier needs a key after it; in `C--` that key is `-`.
            if rest.chars().count() < 3 {
                return Err(format!(
                    "missing key after `{prefix}` in `{text}` (for example `{prefix}d`)"
                ));
            }
            if mods.contains(*m) {
                return Err(format!("`{prefix}` appears twice in `{text}`"));
            }
            mods |= *m;
            rest = &rest[prefix.len()..];
        }
        let code = parse_code(rest, text)?;
        if let KeyCode::Char(c) = code
            && mods.contains(KeyModifiers::SHIFT)
            && !c.is_ascii_alphabetic()
        {
            return Err(format!(
                "`S-` only goes with letters and named keys: terminals send the shifted \
                 character itself, so write it (`!` rather than `S-1`) in `{text}`"
            ));
        }
        Ok(Key::new(code, mods))
    }
}

/// The code of a key name without modifiers; `whole` is the key as written, for messages.
fn parse_code(name: &str, whole: &str) -> Result<KeyCode, String> {
    let what = if name == whole {
        format!("`{name}`")
    } else {
        format!("`{name}` in `{whole}`")
    };
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(KeyCode::Char(c));
    }
    let lower = name.to_ascii_lowercase();
    if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == lower) {
        return Ok(*code);
    }
    if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok())
        && (1..=12).contains(&n)
    {
        return Ok(KeyCode::F(n));
    }
    if let Some(digits) = lower.strip_prefix('f')
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
    {
        return Err(format!(
            "unknown key {what}: function keys go from f1 to f12"
        ));
    }
    for (long, short) in [
        ("ctrl-", "C-"),
        ("control-", "C-"),
        ("alt-", "A-"),
        ("meta-", "A-"),
        ("shift-", "S-"),
    ] {
        if let Some(after) = lower.strip_prefix(long) {
            return Err(format!("unknown key {what}: write `{short}{after}`"));
        }
    }
    if let Some(bad) = unknown_modifier(name) {
        return Err(format!(
            "unknown modifier `{bad}` in `{whole}` (use `C-` for Ctrl, `A-` for Alt, `S-` for Shift)"
        ));
    }
    // `gg` is a common slip for the chord `g g`.
    if name.chars().count() > 1 && name.chars().all(|c| c.is_ascii_alphanumeric()) {
        let spaced: Vec<String> = name.chars().map(String::from).collect();
        if did_you_mean(&lower, NAMED.iter().map(|(n, _)| *n)).is_none() {
            return Err(format!(
                "unknown key {what}: separate the keys of a chord with spaces (`{}`)",
                spaced.join(" ")
            ));
        }
    }
    let names: Vec<&str> = NAMED.iter().map(|(n, _)| *n).collect();
    match did_you_mean(&lower, names.iter().copied()) {
        Some(best) => Err(format!("unknown key {what}: did you mean `{best}`?")),
        None => Err(format!(
            "unknown key {what} (a single character, f1..f12, or one of {})",
            names.join(", ")
        )),
    }
}

/// `M-` in `M-x`: something that looks like a modifier prefix but is not one of ours.
fn unknown_modifier(name: &str) -> Option<&str> {
    let mut chars = name.char_indices();
    match (chars.next(), chars.next(), chars.next()) {
        (Some((_, c)), Some((i, '-')), Some(_)) if c.is_ascii_alphabetic() => Some(&name[..=i]),
        _ => None,
    }
}

/// Parses a chord: keys separated by spaces (`g g`, `C-w v`).
pub fn parse_sequence(text: &str) -> Result<Vec<Key>, String> {
    let keys = text
        .split_whitespace()
        .map(Key::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err("empty key: write a key such as `j`, `C-d` or the chord `g g`".to_string());
    }
    Ok(keys)
}

/// A chord as files write it: keys joined by spaces.
pub fn display_sequence(keys: &[Key]) -> String {
    keys.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (prefix, m) in MODIFIERS {
            if self.modifiers.contains(m) {
                f.write_str(prefix)?;
            }
        }
        if let Some((name, _)) = NAMED.iter().find(|(_, c)| *c == self.code) {
            return f.write_str(name);
        }
        match self.code {
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            // `from_event` and `parse` produce nothing else; shown for debugging only.
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Key {
        Key::parse(text).unwrap()
    }

    #[test]
    fn parse_then_display_round_trips() {
        for text in [
            "j",
            "G",
            "C-d",
            "A-x",
            "C-A-x",
            "S-tab",
            "space",
            "esc",
            "enter",
            "backspace",
            "up",
            "pagedown",
            "f1",
            "f12",
            "!",
            "?",
            "-",
            "C--",
            "/",
            ":",
            "delete",
            "S-up",
        ] {
            assert_eq!(key(text).to_string(), text, "{text}");
        }
        assert_eq!(display_sequence(&parse_sequence("g  g").unwrap()), "g g");
    }

    #[test]
    fn spellings_normalise_to_one_key() {
        assert_eq!(key("S-g"), key("G"));
        assert_eq!(key("C-D"), key("C-d"));
        assert_eq!(key("Esc"), key("esc"));
        assert_eq!(key("F5").to_string(), "f5");
        assert_eq!(key("A-S-x").to_string(), "A-X");
    }

    #[test]
    fn terminal_events_match_file_keys() {
        let ev = |code, mods| Key::from_event(&KeyEvent::new(code, mods)).unwrap();
        assert_eq!(ev(KeyCode::Char('G'), KeyModifiers::SHIFT), key("G"));
        assert_eq!(ev(KeyCode::BackTab, KeyModifiers::SHIFT), key("S-tab"));
        assert_eq!(ev(KeyCode::BackTab, KeyModifiers::NONE), key("S-tab"));
        assert_eq!(ev(KeyCode::Char('d'), KeyModifiers::CONTROL), key("C-d"));
        assert_eq!(ev(KeyCode::Char('?'), KeyModifiers::SHIFT), key("?"));
        assert_eq!(ev(KeyCode::Char(' '), KeyModifiers::NONE), key("space"));
        assert_eq!(ev(KeyCode::Char('x'), KeyModifiers::META), key("A-x"));
        let release = KeyEvent::new_with_kind(
            KeyCode::Char('j'),
            KeyModifiers::NONE,
            KeyEventKind::Release,
        );
        assert_eq!(Key::from_event(&release), None);
        assert_eq!(
            Key::from_event(&KeyEvent::new(KeyCode::CapsLock, KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn bad_keys_say_what_to_write() {
        let err = |t: &str| parse_sequence(t).unwrap_err();
        assert!(err("gg").contains("`g g`"), "{}", err("gg"));
        assert!(
            err("escape").contains("did you mean `esc`"),
            "{}",
            err("escape")
        );
        assert!(
            err("M-x").contains("unknown modifier `M-`"),
            "{}",
            err("M-x")
        );
        assert!(
            err("C-").contains("missing key after `C-`"),
            "{}",
            err("C-")
        );
        assert!(err("C-C-x").contains("twice"), "{}", err("C-C-x"));
        assert!(err("S-1").contains("`!`"), "{}", err("S-1"));
        assert!(err("f13").contains("f1 to f12"), "{}", err("f13"));
        assert!(err("Ctrl-d").contains("write `C-d`"), "{}", err("Ctrl-d"));
        assert!(err("  ").contains("empty key"), "{}", err("  "));
    }
}
