//! Incident ids: 8 characters of Crockford's base32 alphabet in lower case (no i, l, o, u),
//! random, unique in the book (checked under the book's lock when an incident opens). Like
//! run ids, a unique prefix is enough to name one (case-insensitive).

use super::fold::Folded;

pub const ID_LEN: usize = 8;
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new id no incident of `folded` has.
pub fn new_id(folded: &Folded) -> String {
    // 40 random bits: a clash is rare; each try is checked, and the tries are bounded by
    // the alphabet's size to the power of the length, never reached in practice.
    loop {
        let id: String = (0..ID_LEN)
            .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
            .collect();
        if !folded.contains(&id) {
            return id;
        }
    }
}

/// Why a prefix does not name exactly one incident.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("give an incident id (fleetdeck incidents --all lists them)")]
    Empty,
    #[error("no incident with id `{0}` (fleetdeck incidents --all lists them)")]
    Unknown(String),
    #[error("incident id `{prefix}` is ambiguous: it matches {} incidents ({}{}); type more of it",
        .matches.len(), .matches.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if .matches.len() > 5 { ", …" } else { "" })]
    Ambiguous {
        prefix: String,
        matches: Vec<String>,
    },
}

/// The id of the one incident whose id starts with `prefix` (an exact id always wins).
pub fn resolve<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    prefix: &str,
) -> Result<String, IdError> {
    let wanted = prefix.trim().to_ascii_lowercase();
    if wanted.is_empty() {
        return Err(IdError::Empty);
    }
    let mut matches: Vec<String> = ids
        .into_iter()
        .filter(|id| id.to_ascii_lowercase().starts_with(&wanted))
        .map(str::to_string)
        .collect();
    if let Some(exact) = matches.iter().find(|id| id.to_ascii_lowercase() == wanted) {
        return Ok(exact.clone());
    }
    matches.sort();
    match matches.len() {
        0 => Err(IdError::Unknown(prefix.trim().to_string())),
        1 => Ok(matches.remove(0)),
        _ => Err(IdError::Ambiguous {
            prefix: prefix.trim().to_string(),
            matches,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_use_the_alphabet_and_length() {
        let id = new_id(&Folded::default());
        assert_eq!(id.len(), ID_LEN);
        assert!(id.bytes().all(|b| ALPHABET.contains(&b)), "{id}");
    }

    #[test]
    fn prefixes_resolve_when_unique() {
        let ids = ["k3f9x2ab", "k3f1aaaa", "z0000000"];
        assert_eq!(resolve(ids, "K3F9").unwrap(), "k3f9x2ab");
        assert_eq!(resolve(ids, " z ").unwrap(), "z0000000");
        assert_eq!(
            resolve(ids, "nope").unwrap_err(),
            IdError::Unknown("nope".into())
        );
        let err = resolve(ids, "k3f").unwrap_err();
        assert!(
            err.to_string()
                .contains("matches 2 incidents (k3f1aaaa, k3f9x2ab)"),
            "{err}"
        );
        assert_eq!(resolve(ids, "").unwrap_err(), IdError::Empty);
    }
}
