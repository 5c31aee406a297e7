//! Which hosts the Fleet view shows: the `:target` selector's hosts, narrowed by the `/`
//! fuzzy filter. The matcher is a small subsequence scorer (fzf-like: every query character
//! in order, contiguous runs and word starts score higher), enough for host names and tags
//! without a new dependency.

use crate::inventory::Host;

use super::model::Model;

/// Recomputes `model.shown` from the target and filter, keeping the cursor in range.
pub fn refresh(model: &mut Model) {
    let query = model.filter.to_lowercase();
    let mut scored: Vec<(i64, usize)> = model
        .inventory
        .hosts()
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            model
                .target
                .as_ref()
                .is_none_or(|t| t.names.contains(&h.name))
        })
        .filter_map(|(i, h)| best_field_score(&query, h).map(|s| (s, i)))
        .collect();
    // Best first; ties keep inventory order (the sort is stable).
    scored.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    model.shown = scored.into_iter().map(|(_, i)| i).collect();
    model.cursor = model.cursor.min(model.shown.len().saturating_sub(1));
}

/// The best score of `query` against one of the host's fields (name, env, tags). Matching
/// field by field keeps `db` from matching `prod` + `web` across two fields.
fn best_field_score(query: &str, host: &Host) -> Option<i64> {
    // The name gets a bonus so a name hit ranks above the same hit in a tag.
    let name = score(query, &host.name.to_lowercase()).map(|s| s + 50);
    let others = host
        .env
        .iter()
        .chain(host.tags.iter())
        .filter_map(|f| score(query, &f.to_lowercase()));
    name.into_iter().chain(others).max()
}

/// `None` when `query` (lowercase) is not a subsequence of `text`; otherwise higher is better.
pub fn score(query: &str, text: &str) -> Option<i64> {
    if query.is_empty() {
        return Some(0);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let mut total: i64 = 0;
    let mut prev: Option<usize> = None;
    for q in query.chars().filter(|c| !c.is_whitespace()) {
        let found = (at..chars.len()).find(|&i| chars[i] == q)?;
        total += 1;
        if prev.is_some_and(|p| p + 1 == found) {
            total += 4;
        }
        let word_start = found == 0 || !chars[found - 1].is_alphanumeric();
        if word_start {
            total += 3;
        }
        prev = Some(found);
        at = found + 1;
    }
    // Earlier first matches rank higher: `web` finds web01 before backend-web.
    let first = query.chars().next().and_then(|c| text.find(c)).unwrap_or(0) as i64;
    Some(total * 100 - first)
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn subsequence_matches_and_contiguous_wins() {
        assert!(score("wb1", "web01").is_some());
        assert!(score("xyz", "web01").is_none());
        let contiguous = score("web", "web01").unwrap();
        let scattered = score("web", "w-e-b").unwrap();
        assert!(contiguous > scattered);
        assert_eq!(score("", "anything"), Some(0));
    }
}
