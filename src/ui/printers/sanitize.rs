//! Remote output is hostile input: it must never reach the terminal raw. Escape sequences can
//! move the cursor, rewrite earlier lines, set the window title, write the clipboard (OSC 52)
//! or talk to the terminal (DCS). Every control character except `\t` and `\n` is rendered
//! visibly (`^[`, `^G`, `\x9b`), so the rest of a sequence shows as harmless text. SGR colour
//! sequences (`ESC [ … m`) alone may pass, only when the caller allows colour, and a line that
//! used them ends with a reset so colour cannot leak into the next host's line.

use std::ffi::OsStr;

/// Longest SGR parameter list kept raw; anything longer is shown escaped.
const MAX_SGR_PARAMS: usize = 64;

/// Colour is allowed when the output is a terminal and `NO_COLOR` is unset or empty
/// (<https://no-color.org>).
pub fn colour_allowed(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// `bytes` (one line, or any text) made safe to print. Invalid UTF-8 is shown lossily (U+FFFD).
pub fn sanitize(bytes: &[u8], keep_sgr: bool) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut kept_sgr = false;
    let mut rest = text.as_ref();
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}'
            && keep_sgr
            && let Some(len) = sgr_len(rest)
        {
            out.push_str(&rest[..len]);
            kept_sgr = true;
            rest = &rest[len..];
            continue;
        }
        push_visible(&mut out, c);
        rest = &rest[c.len_utf8()..];
    }
    if kept_sgr {
        out.push_str("\u{1b}[0m");
    }
    out
}

/// Serialized JSON made safe for a terminal: serde_json escapes C0 controls but writes DEL,
/// C1 controls and bidi overrides as they are; here they become `\u` escapes too. (Outside
/// strings JSON is ASCII, so every such character is inside a string, where the escape means
/// the same character to any JSON reader.)
pub fn json_terminal_safe(json: String) -> String {
    if !json.chars().any(needs_json_escape) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if needs_json_escape(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_json_escape(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Byte length of an SGR sequence (`ESC [ digits ; : … m`) at the start of `s`.
fn sgr_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix("\u{1b}[")?;
    let params = body
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';' || *b == b':')
        .count();
    if params > MAX_SGR_PARAMS || body.as_bytes().get(params) != Some(&b'm') {
        return None;
    }
    Some(2 + params + 1)
}

pub fn push_visible(out: &mut String, c: char) {
    match c {
        '\t' | '\n' => out.push(c),
        // C0 controls in caret notation: ESC is ^[, BEL ^G, NUL ^@, CR ^M.
        '\u{0}'..='\u{1f}' => {
            out.push('^');
            out.push(char::from(c as u8 + 0x40));
        }
        '\u{7f}' => out.push_str("^?"),
        // C1 controls (CSI is U+009B, OSC U+009D, DCS U+0090): a terminal may obey them too.
        '\u{80}'..='\u{9f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
        // Bidirectional overrides and isolates reorder what is shown ("Trojan Source").
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        }
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_are_shown_not_obeyed() {
        assert_eq!(
            sanitize(b"\x1b]0;pwned\x07title", false),
            "^[]0;pwned^Gtitle"
        );
        assert_eq!(sanitize(b"\x1b[2J\x1b[H", false), "^[[2J^[[H");
        assert_eq!(
            sanitize(b"\x1b]52;c;ZXZpbA==\x07", false),
            "^[]52;c;ZXZpbA==^G"
        );
        assert_eq!(sanitize(b"\x1bP+q544e\x1b\\", false), "^[P+q544e^[\\");
        assert_eq!(sanitize(b"ok\rFAILED", false), "ok^MFAILED");
        assert_eq!(sanitize(b"a\tb\x00\x7f", false), "a\tb^@^?");
    }

    #[test]
    fn c1_controls_and_bidi_are_escaped() {
        // U+009B (CSI) encoded as UTF-8, and a raw 0x9b byte (invalid UTF-8: shown lossily).
        assert_eq!(sanitize("\u{9b}2J".as_bytes(), false), "\\x9b2J");
        assert_eq!(sanitize(b"\x9b2J", false), "\u{fffd}2J");
        assert_eq!(sanitize("a\u{202e}b".as_bytes(), false), "a<U+202E>b");
        assert_eq!(sanitize("héllo ✓".as_bytes(), false), "héllo ✓");
    }

    #[test]
    fn colour_is_kept_only_when_allowed_and_reset_at_the_end() {
        let red = b"\x1b[1;31merror\x1b[0m done";
        assert_eq!(sanitize(red, false), "^[[1;31merror^[[0m done");
        assert_eq!(sanitize(red, true), "\x1b[1;31merror\x1b[0m done\x1b[0m");
        // Not SGR: cursor moves stay escaped even when colour is allowed.
        assert_eq!(sanitize(b"\x1b[2J\x1b[10;10H", true), "^[[2J^[[10;10H");
        assert_eq!(sanitize(b"\x1b[", true), "^[[");
        assert!(colour_allowed(true, None));
        assert!(colour_allowed(true, Some(OsStr::new(""))));
        assert!(!colour_allowed(true, Some(OsStr::new("1"))));
        assert!(!colour_allowed(false, None));
    }

    #[test]
    fn json_keeps_meaning_but_loses_raw_controls() {
        let original = "a\u{9b}2J\u{7f}\u{202e}b";
        let json = serde_json::to_string(&original).unwrap();
        let safe = json_terminal_safe(json);
        assert_eq!(safe, "\"a\\u009b2J\\u007f\\u202eb\"");
        assert_eq!(serde_json::from_str::<String>(&safe).unwrap(), original);
        assert_eq!(json_terminal_safe("{\"a\":1}".into()), "{\"a\":1}");
    }

    /// What may remain in sanitized text: printable characters, `\t`, `\n`, and (with colour)
    /// ESC only as the start of a complete SGR sequence.
    fn assert_harmless(s: &str, colour: bool) {
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if c == '\u{1b}' {
                assert!(colour, "raw ESC without colour in {s:?}");
                let len = sgr_len(rest).unwrap_or_else(|| panic!("non-SGR escape in {s:?}"));
                rest = &rest[len..];
                continue;
            }
            assert!(
                c == '\t'
                    || c == '\n'
                    || !(c.is_control()
                        || ('\u{202a}'..='\u{202e}').contains(&c)
                        || ('\u{2066}'..='\u{2069}').contains(&c)),
                "control {c:?} left in {s:?}"
            );
            rest = &rest[c.len_utf8()..];
        }
    }

    proptest! {
        #[test]
        fn hostile_bytes_never_pass(bytes in proptest::collection::vec(any::<u8>(), 0..256), colour in any::<bool>()) {
            assert_harmless(&sanitize(&bytes, colour), colour);
        }

        #[test]
        fn hostile_escape_soup_never_passes(parts in proptest::collection::vec(
            prop_oneof![
                Just("\u{1b}".to_string()), Just("\u{1b}[".to_string()), Just("\u{1b}]".to_string()),
                Just("\u{9b}".to_string()), Just("\u{9d}".to_string()), Just("\u{7}".to_string()),
                Just("m".to_string()), Just(";".to_string()), Just("31".to_string()),
                Just("\r".to_string()), Just("\u{202e}".to_string()), Just("x".to_string()),
            ], 0..40), colour in any::<bool>()) {
            assert_harmless(&sanitize(parts.concat().as_bytes(), colour), colour);
        }

        #[test]
        fn plain_text_is_unchanged(s in "[a-zA-Z0-9 .,:/_\\-\t]{0,80}") {
            prop_assert_eq!(sanitize(s.as_bytes(), false), s);
        }
    }
}
