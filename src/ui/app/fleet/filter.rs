//! Which hosts the Fleet view shows: the `:target` selector's hosts, narrowed by the `/`
//! fuzzy filter. Matching is nucleo's (helix's and television's matcher) with fzf's syntax:
//! words separated by spaces must all match, `'exact`, `^prefix`, `suffix$`, `!not`; lowercase
//! ignores case. Each word is matched against each field of a host (name, env, tags) on its
//! own, so `db` never matches `prod` + `web` across two fields.

use std::cell::RefCell;

use nucleo_matcher::pattern::{Atom, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::inventory::{Host, Inventory};

use super::state::FleetState;

/// Added to a word's score when it matched the name: a name hit ranks above the same hit in
/// an env or a tag.
const NAME_BONUS: u32 = 16;

thread_local! {
    // The matcher keeps sizeable scratch space: one per thread, reused for every keystroke.
    static MATCHER: RefCell<Matcher> = RefCell::new(Matcher::new(config()));
}

fn config() -> Config {
    let mut config = Config::DEFAULT;
    // `web` finds web01 before backend-web.
    config.prefer_prefix = true;
    config
}

/// Recomputes `fleet.shown` from the target and filter, keeping the cursor in range.
pub fn refresh(fleet: &mut FleetState, inventory: &Inventory) {
    let pattern = Pattern::parse(
        fleet.filter.text(),
        CaseMatching::Smart,
        Normalization::Smart,
    );
    let mut scored: Vec<(u32, usize)> = MATCHER.with_borrow_mut(|matcher| {
        let mut buf = Vec::new();
        inventory
            .hosts()
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                fleet
                    .target
                    .as_ref()
                    .is_none_or(|t| t.names.contains(&h.name))
            })
            .filter_map(|(i, h)| host_score(&pattern, h, matcher, &mut buf).map(|s| (s, i)))
            .collect()
    });
    // Best first; ties keep inventory order (the sort is stable).
    scored.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    fleet.shown = scored.into_iter().map(|(_, i)| i).collect();
    fleet.cursor = fleet.cursor.min(fleet.shown.len().saturating_sub(1));
}

/// The host's score: every word must match one of its fields (a `!word` none of them); the
/// sum of each word's best field score. `None` when it does not match.
fn host_score(
    pattern: &Pattern,
    host: &Host,
    matcher: &mut Matcher,
    buf: &mut Vec<char>,
) -> Option<u32> {
    let mut total = 0u32;
    for atom in &pattern.atoms {
        let name = field_score(atom, &host.name, matcher, buf);
        let others = host.env.iter().chain(host.tags.iter());
        if atom.negative {
            // A negative word scores Some(0) on a field it does not match.
            name?;
            for field in others {
                field_score(atom, field, matcher, buf)?;
            }
            continue;
        }
        let name = name.map(|s| s + NAME_BONUS);
        let best = others
            .filter_map(|f| field_score(atom, f, matcher, buf))
            .chain(name)
            .max()?;
        total += best;
    }
    Some(total)
}

fn field_score(atom: &Atom, text: &str, matcher: &mut Matcher, buf: &mut Vec<char>) -> Option<u32> {
    atom.score(Utf32Str::new(text, buf), matcher).map(u32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `query` against one text, as the filter scores a field.
    fn score(query: &str, text: &str) -> Option<u32> {
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(config());
        let mut buf = Vec::new();
        let mut total = 0;
        for atom in &pattern.atoms {
            total += field_score(atom, text, &mut matcher, &mut buf)?;
        }
        Some(total)
    }

    #[test]
    fn subsequence_matches_and_contiguous_wins() {
        assert!(score("wb1", "web01").is_some());
        assert!(score("xyz", "web01").is_none());
        let contiguous = score("web", "web01").unwrap();
        let scattered = score("web", "w-e-b").unwrap();
        assert!(contiguous > scattered);
        assert_eq!(score("", "anything"), Some(0));
        // Lowercase ignores case; an uppercase letter asks for it.
        assert!(score("web", "WEB01").is_some());
        assert!(score("Web", "web01").is_none());
    }

    #[test]
    fn prefixes_rank_first() {
        assert!(score("web", "web01").unwrap() > score("web", "backend-web").unwrap());
    }

    fn host(name: &str, env: &str, tags: &[&str]) -> Host {
        let mut h = Host::ad_hoc(name);
        h.env = Some(env.to_string());
        h.tags = tags.iter().map(|t| t.to_string()).collect();
        h
    }

    fn host_matches(query: &str, h: &Host) -> Option<u32> {
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let mut matcher = Matcher::new(config());
        host_score(&pattern, h, &mut matcher, &mut Vec::new())
    }

    #[test]
    fn words_match_fields_apart_and_negation_excludes() {
        let web = host("web01", "prod", &["nginx"]);
        // Each word on its own field.
        assert!(host_matches("web prod", &web).is_some());
        // One word never spans two fields (`d` of prod, `b` of web01).
        assert!(host_matches("db", &web).is_none());
        assert!(host_matches("web !prod", &web).is_none());
        assert!(host_matches("web !staging", &web).is_some());
        // A name hit beats the same hit in a tag.
        let tagged = host("app1", "prod", &["web01"]);
        assert!(host_matches("web01", &web).unwrap() > host_matches("web01", &tagged).unwrap());
    }
}
