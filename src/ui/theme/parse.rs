//! One theme file read into scopes, palette and `inherits`, with every problem at its place.
//! Palette names are looked up later (`resolve`), once the inherited palettes are merged.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier};
use toml::Spanned;
use toml::de::{DeInteger, DeTable, DeValue};

use super::color::{self, Literal, NAMED_COLORS};
use super::scope;
use crate::diag::{Diagnostic, did_you_mean};

/// The keys of a style table.
pub const STYLE_KEYS: &[&str] = &["fg", "bg", "modifiers"];

/// Modifier names, as in helix themes.
pub const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("slow_blink", Modifier::SLOW_BLINK),
    ("rapid_blink", Modifier::RAPID_BLINK),
    ("reversed", Modifier::REVERSED),
    ("hidden", Modifier::HIDDEN),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// Warnings are diagnostics too (`fleetdeck check` prints them); this prefix tells them apart.
pub const WARNING_PREFIX: &str = "warning: ";

/// A colour as written: a colour, or a palette name.
#[derive(Debug, Clone, PartialEq)]
pub enum ColorSpec {
    Color(Color),
    Name(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColorRef {
    pub spec: ColorSpec,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StyleSpec {
    pub fg: Option<ColorRef>,
    pub bg: Option<ColorRef>,
    pub modifiers: Modifier,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScopeDef {
    pub name: String,
    pub span: Range<usize>,
    pub style: StyleSpec,
}

/// A parsed theme file. `errors` make the theme unusable; `warnings` (unknown scopes) do not.
#[derive(Debug, Clone)]
pub struct ThemeFile {
    pub path: PathBuf,
    pub src: String,
    pub inherits: Option<(String, Range<usize>)>,
    pub palette: Vec<(String, Color)>,
    pub scopes: Vec<ScopeDef>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl ThemeFile {
    /// Reads `src`, the text of `path` (a real file or a built-in's label).
    pub fn parse(path: &Path, src: String) -> Self {
        let mut file = ThemeFile {
            path: path.to_path_buf(),
            src: String::new(),
            inherits: None,
            palette: Vec::new(),
            scopes: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        match DeTable::parse(&src) {
            Ok(root) => {
                let mut reader = Reader {
                    file: &mut file,
                    src: &src,
                };
                reader.root(root.get_ref());
            }
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                let message = format!("not valid TOML: {}", e.message().trim());
                file.errors
                    .push(Diagnostic::at_offset(path, &src, offset, message));
            }
        }
        file.src = src;
        file
    }

    /// A diagnostic at `span` of this file.
    pub fn at(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at_offset(&self.path, &self.src, span.start, message)
    }
}

/// Walks the TOML tree; `src` is borrowed separately because `file.src` is filled at the end.
struct Reader<'a> {
    file: &'a mut ThemeFile,
    src: &'a str,
}

impl Reader<'_> {
    fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let d = Diagnostic::at_offset(&self.file.path, self.src, span.start, message);
        self.file.errors.push(d);
    }

    fn warning(&mut self, span: &Range<usize>, message: impl AsRef<str>) {
        let message = format!("{WARNING_PREFIX}{}", message.as_ref());
        let d = Diagnostic::at_offset(&self.file.path, self.src, span.start, message);
        self.file.warnings.push(d);
    }

    fn root(&mut self, root: &DeTable<'_>) {
        for (key, value) in root {
            match key.get_ref().as_ref() {
                "inherits" => match value.get_ref() {
                    DeValue::String(name) => {
                        self.file.inherits = Some((name.to_string(), value.span()));
                    }
                    other => self.error(
                        &value.span(),
                        format!(
                            "`inherits` is the name of a theme, like `inherits = \"dark\"`; found a {}",
                            other.type_str()
                        ),
                    ),
                },
                "palette" => match value.get_ref() {
                    DeValue::Table(table) => self.palette(table),
                    other => self.error(
                        &value.span(),
                        format!(
                            "`palette` is a table of colour names: `[palette]` then lines like `bg = \"#1f2335\"`; found a {}",
                            other.type_str()
                        ),
                    ),
                },
                name => self.scope(name.to_string(), key.span(), value),
            }
        }
    }

    fn palette(&mut self, table: &DeTable<'_>) {
        for (key, value) in table {
            let span = value.span();
            let color = match value.get_ref() {
                DeValue::String(text) => match color::parse_literal(text) {
                    Ok(Literal::Color(c)) => Some(c),
                    Ok(Literal::Name) if color::named(text).is_some() => color::named(text),
                    Ok(Literal::Name) => {
                        let hint = suggest(text, NAMED_COLORS.iter().map(|(n, _)| *n));
                        self.error(
                            &span,
                            format!(
                                "palette colour `{}` = `{text}` is not a colour{hint}: write `#rrggbb`, a colour name or an index 0-255 (palette entries cannot name each other)",
                                key.get_ref()
                            ),
                        );
                        None
                    }
                    Err(message) => {
                        self.error(&span, message);
                        None
                    }
                },
                DeValue::Integer(i) => self.index(i, &span),
                other => {
                    self.error(
                        &span,
                        format!(
                            "a palette colour is a string like \"#1f2335\" or an index 0-255; found a {}",
                            other.type_str()
                        ),
                    );
                    None
                }
            };
            if let Some(c) = color {
                self.file.palette.push((key.get_ref().to_string(), c));
            }
        }
    }

    /// A scope's value: a colour (its `fg`), a style table, or a table of sub-scopes (what
    /// unquoted dotted keys like `ui.text = "fg"` and `[ui]` sections produce).
    fn scope(&mut self, name: String, key_span: Range<usize>, value: &Spanned<DeValue<'_>>) {
        match value.get_ref() {
            DeValue::String(_) | DeValue::Integer(_) => {
                let fg = self.color_ref(value);
                self.push_scope(
                    name,
                    key_span,
                    StyleSpec {
                        fg,
                        ..StyleSpec::default()
                    },
                );
            }
            DeValue::Table(table) => self.table(name, key_span, table),
            other => self.error(
                &value.span(),
                format!(
                    "style of `{name}` must be a colour like \"#c0caf5\" or a table like {{ fg = \"fg\", bg = \"bg\", modifiers = [\"bold\"] }}; found a {}",
                    other.type_str()
                ),
            ),
        }
    }

    fn table(&mut self, name: String, key_span: Range<usize>, table: &DeTable<'_>) {
        let styled = table.is_empty()
            || table
                .keys()
                .any(|k| STYLE_KEYS.contains(&k.get_ref().as_ref()));
        let mut style = StyleSpec::default();
        for (key, value) in table {
            let key_name: &str = key.get_ref();
            match key_name {
                "fg" => style.fg = self.color_ref(value),
                "bg" => style.bg = self.color_ref(value),
                "modifiers" => style.modifiers = self.modifiers(value),
                other => {
                    let child = format!("{name}.{other}");
                    let known = scope::is_known(&child);
                    let typo = did_you_mean(other, STYLE_KEYS.iter().copied());
                    // A style key's typo (`fgg`) is an error; other keys are sub-scopes.
                    let sub_scope = known || (!styled && typo.is_none());
                    if sub_scope {
                        self.scope(child, key.span(), value);
                    } else {
                        let hint = typo.map_or(String::new(), |t| format!(": did you mean `{t}`?"));
                        self.error(
                            &key.span(),
                            format!(
                                "unknown key `{other}` in the style of `{name}`{hint} (a style has `fg`, `bg` and `modifiers`)"
                            ),
                        );
                    }
                }
            }
        }
        if styled {
            self.push_scope(name, key_span, style);
        }
    }

    fn push_scope(&mut self, name: String, span: Range<usize>, style: StyleSpec) {
        if !scope::is_known(&name) {
            let hint = suggest(&name, scope::SCOPES.iter().map(|s| s.name));
            self.warning(
                &span,
                format!("unknown scope `{name}` is ignored{hint} (README.md, section Themes, lists the scopes)"),
            );
            return;
        }
        if let Some(first) = self.file.scopes.iter().find(|s| s.name == name) {
            let (line, column) = crate::diag::line_col(self.src, first.span.start);
            self.error(
                &span,
                format!("scope `{name}` is set twice (first at {line}:{column}): keep one"),
            );
            return;
        }
        self.file.scopes.push(ScopeDef { name, span, style });
    }

    fn color_ref(&mut self, value: &Spanned<DeValue<'_>>) -> Option<ColorRef> {
        let span = value.span();
        let spec = match value.get_ref() {
            DeValue::String(text) => match color::parse_literal(text) {
                Ok(Literal::Color(c)) => ColorSpec::Color(c),
                Ok(Literal::Name) => ColorSpec::Name(text.trim().to_string()),
                Err(message) => {
                    self.error(&span, message);
                    return None;
                }
            },
            DeValue::Integer(i) => ColorSpec::Color(self.index(i, &span)?),
            other => {
                self.error(
                    &span,
                    format!(
                        "a colour is a string (\"#rrggbb\", a colour name or a palette name) or an index 0-255; found a {}",
                        other.type_str()
                    ),
                );
                return None;
            }
        };
        Some(ColorRef { spec, span })
    }

    fn index(&mut self, i: &DeInteger<'_>, span: &Range<usize>) -> Option<Color> {
        let digits = i.as_str().replace('_', "");
        let parsed = u64::from_str_radix(&digits, i.radix())
            .map_err(|_| format!("colour index {} is out of range: use 0-255", i.as_str()))
            .and_then(color::index);
        match parsed {
            Ok(c) => Some(c),
            Err(message) => {
                self.error(span, message);
                None
            }
        }
    }

    fn modifiers(&mut self, value: &Spanned<DeValue<'_>>) -> Modifier {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                &value.span(),
                format!(
                    "`modifiers` is a list like [\"bold\", \"reversed\"]; found a {}",
                    value.get_ref().type_str()
                ),
            );
            return Modifier::empty();
        };
        let mut all = Modifier::empty();
        for item in items.iter() {
            let found = item
                .get_ref()
                .as_str()
                .and_then(|s| MODIFIERS.iter().find(|(n, _)| *n == s));
            match found {
                Some(&(_, m)) => all |= m,
                None => {
                    let word = item.get_ref().as_str().unwrap_or_default();
                    let hint = suggest(word, MODIFIERS.iter().map(|(n, _)| *n));
                    let listed = MODIFIERS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.error(
                        &item.span(),
                        format!("unknown modifier `{word}`{hint} (modifiers: {listed})"),
                    );
                }
            }
        }
        all
    }
}

/// `: did you mean `x`?` when `word` is a near miss of a candidate, else nothing.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates).map_or(String::new(), |c| format!(": did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> ThemeFile {
        ThemeFile::parse(Path::new("t.toml"), src.to_string())
    }

    fn messages(d: &[Diagnostic]) -> Vec<String> {
        d.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn quoted_dotted_and_section_forms_agree() {
        let quoted = parse(
            "\"ui.text\" = \"fg\"\n\"ui.border\" = { fg = \"#010203\", modifiers = [\"bold\"] }\n",
        );
        let dotted =
            parse("ui.text = \"fg\"\nui.border = { fg = \"#010203\", modifiers = [\"bold\"] }\n");
        let section =
            parse("[ui]\ntext = \"fg\"\nborder.fg = \"#010203\"\nborder.modifiers = [\"bold\"]\n");
        for f in [&quoted, &dotted, &section] {
            assert!(
                f.errors.is_empty() && f.warnings.is_empty(),
                "{:?}",
                f.errors
            );
            let names: Vec<&str> = f.scopes.iter().map(|s| s.name.as_str()).collect();
            assert!(
                names.contains(&"ui.text") && names.contains(&"ui.border"),
                "{names:?}"
            );
            let border = f.scopes.iter().find(|s| s.name == "ui.border").unwrap();
            assert_eq!(border.style.modifiers, Modifier::BOLD);
            assert_eq!(
                border.style.fg.as_ref().unwrap().spec,
                ColorSpec::Color(Color::Rgb(1, 2, 3))
            );
        }
    }

    #[test]
    fn palette_and_inherits() {
        let f = parse(
            "inherits = \"dark\"\n\"ui.text\" = \"fg\"\n[palette]\nfg = \"#ffffff\"\nbg = 236\n",
        );
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        assert_eq!(f.inherits.as_ref().map(|(n, _)| n.as_str()), Some("dark"));
        assert!(f.palette.contains(&("bg".to_string(), Color::Indexed(236))));
        assert_eq!(
            f.scopes[0].style.fg.as_ref().unwrap().spec,
            ColorSpec::Name("fg".into())
        );
    }

    #[test]
    fn errors_point_at_the_value() {
        let f = parse(concat!(
            "\"ui.text\" = { fgg = \"red\" }\n",
            "\"ui.border\" = { fg = \"#12\" }\n",
            "\"ui.title\" = { modifiers = [\"blod\"] }\n",
            "\"ui.gauge\" = 300\n",
            "\"ui.popup\" = true\n",
            "\"ui.selection\" = { modifiers = \"bold\" }\n",
            "[palette]\n",
            "bg = \"lightred2\"\n",
        ));
        let m = messages(&f.errors);
        let expect = [
            "t.toml:1:15: unknown key `fgg` in the style of `ui.text`: did you mean `fg`?",
            "t.toml:2:22: `#12` is not a colour",
            "t.toml:3:29: unknown modifier `blod`: did you mean `bold`?",
            "t.toml:4:14: colour index 300 is out of range",
            "t.toml:5:14: style of `ui.popup` must be a colour",
            "t.toml:6:32: `modifiers` is a list",
            "t.toml:8:6: palette colour `bg` = `lightred2` is not a colour: did you mean `light-red`?",
        ];
        for e in expect {
            assert!(
                m.iter().any(|x| x.starts_with(e)),
                "missing {e:?} in {m:#?}"
            );
        }
        assert_eq!(m.len(), expect.len(), "{m:#?}");
    }

    #[test]
    fn unknown_scope_is_a_warning_with_suggestion() {
        let f = parse("\"ui.text\" = \"red\"\n\"ui.statusbar\" = \"red\"\n");
        assert!(f.errors.is_empty());
        assert_eq!(
            messages(&f.warnings),
            [
                "t.toml:2:1: warning: unknown scope `ui.statusbar` is ignored: did you mean `ui.statusline`? (README.md, section Themes, lists the scopes)"
            ]
        );
        assert_eq!(f.scopes.len(), 1);
    }

    #[test]
    fn duplicate_scope_through_two_spellings() {
        let f = parse("\"ui.text\" = \"red\"\nui.text = \"blue\"\n");
        assert_eq!(f.errors.len(), 1, "{:?}", f.errors);
        assert!(f.errors[0].message.contains("set twice"));
    }

    #[test]
    fn syntax_error_has_position() {
        let f = parse("\"ui.text\" = \n");
        assert_eq!(f.errors.len(), 1);
        assert!(
            f.errors[0].message.starts_with("not valid TOML"),
            "{:?}",
            f.errors
        );
        assert_eq!(f.errors[0].line, 1);
    }
}
