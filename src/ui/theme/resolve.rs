//! A chain of theme files (the theme first, then what it inherits) merged into styles: a later
//! file's palette entry or scope replaces an inherited one, then palette names are looked up
//! in the merged palette, so a child that only changes `[palette]` recolours every scope.

use std::collections::HashMap;

use ratatui::style::{Color, Style};

use super::color::{self, NAMED_COLORS};
use super::parse::{ColorRef, ColorSpec, ThemeFile, suggest};
use crate::diag::Diagnostic;

/// The styles of every scope the chain sets, or every colour that names nothing.
pub fn resolve(chain: &[ThemeFile]) -> Result<HashMap<String, Style>, Vec<Diagnostic>> {
    let mut palette: HashMap<&str, Color> = HashMap::new();
    let mut scopes = HashMap::new();
    // Oldest ancestor first, so the theme itself is applied last and wins.
    for file in chain.iter().rev() {
        for (name, color) in &file.palette {
            palette.insert(name.as_str(), *color);
        }
        for def in &file.scopes {
            scopes.insert(def.name.as_str(), (file, def));
        }
    }
    let mut errors = Vec::new();
    let mut styles = HashMap::new();
    for (name, (file, def)) in scopes {
        let mut lookup = |r: &Option<ColorRef>| -> Option<Color> {
            let r = r.as_ref()?;
            match &r.spec {
                ColorSpec::Color(c) => Some(*c),
                // The palette first, so a theme may redefine what `red` means.
                ColorSpec::Name(n) => palette
                    .get(n.as_str())
                    .copied()
                    .or_else(|| color::named(n))
                    .or_else(|| {
                        errors.push(unknown_color(file, r, n, &palette));
                        None
                    }),
            }
        };
        let mut style = Style::default().add_modifier(def.style.modifiers);
        style.fg = lookup(&def.style.fg);
        style.bg = lookup(&def.style.bg);
        styles.insert(name.to_string(), style);
    }
    if errors.is_empty() {
        Ok(styles)
    } else {
        Err(errors)
    }
}

fn unknown_color(
    file: &ThemeFile,
    r: &ColorRef,
    name: &str,
    palette: &HashMap<&str, Color>,
) -> Diagnostic {
    let mut candidates: Vec<&str> = palette.keys().copied().collect();
    candidates.sort_unstable();
    let hint = suggest(
        name,
        candidates
            .iter()
            .copied()
            .chain(NAMED_COLORS.iter().map(|(n, _)| *n)),
    );
    let defined = if candidates.is_empty() {
        "the palette is empty".to_string()
    } else {
        format!("palette: {}", candidates.join(", "))
    };
    file.at(
        &r.span,
        format!(
            "unknown colour `{name}`{hint} (not in [palette] and not a colour name; {defined}; or write `#rrggbb` or an index 0-255)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ratatui::style::Modifier;

    use super::*;

    fn file(name: &str, src: &str) -> ThemeFile {
        let f = ThemeFile::parse(Path::new(name), src.to_string());
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        f
    }

    #[test]
    fn child_palette_recolours_inherited_scopes() {
        let parent = file(
            "parent.toml",
            "\"ui.text\" = { fg = \"fg\", modifiers = [\"bold\"] }\n\"ui.border\" = \"fg\"\n[palette]\nfg = \"#010101\"\n",
        );
        let child = file(
            "child.toml",
            "\"ui.border\" = \"red\"\n[palette]\nfg = \"#020202\"\n",
        );
        let styles = resolve(&[child, parent]).unwrap();
        assert_eq!(
            styles["ui.text"],
            Style::default()
                .fg(Color::Rgb(2, 2, 2))
                .add_modifier(Modifier::BOLD)
        );
        assert_eq!(styles["ui.border"], Style::default().fg(Color::Red));
    }

    #[test]
    fn palette_shadows_colour_names() {
        let f = file(
            "t.toml",
            "\"ui.text\" = \"red\"\n[palette]\nred = \"#ff0000\"\n",
        );
        let styles = resolve(&[f]).unwrap();
        assert_eq!(styles["ui.text"].fg, Some(Color::Rgb(255, 0, 0)));
    }

    #[test]
    fn unknown_palette_name_is_an_error_in_the_file_that_wrote_it() {
        let parent = file("parent.toml", "[palette]\nbg_alt = \"#000000\"\n");
        let child = file("child.toml", "\n\"ui.popup\" = { bg = \"bg_alf\" }\n");
        let errors = resolve(&[child, parent]).unwrap_err();
        assert_eq!(errors.len(), 1);
        let e = errors[0].to_string();
        assert!(
            e.starts_with("child.toml:2:21: unknown colour `bg_alf`: did you mean `bg_alt`?"),
            "{e}"
        );
    }
}
